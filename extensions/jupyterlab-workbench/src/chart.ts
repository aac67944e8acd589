/** A horizontal bar chart of scores with their 95% intervals, drawn as SVG (labels through textContent). */

const NS = 'http://www.w3.org/2000/svg';

export interface IBar {
  label: string;
  value: number | null;
  low: number | null;
  high: number | null;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, String(v));
  }
  return node;
}

export function intervalChart(bars: IBar[]): SVGSVGElement {
  const shown = bars.filter(b => b.value !== null);
  const top = Math.max(
    1,
    ...shown.map(b => Math.max(b.value ?? 0, b.high ?? 0))
  );
  const labelW = 140;
  const width = 460;
  const rowH = 26;
  const plotW = width - labelW - 60;
  const height = rowH * shown.length + 24;
  const root = svg('svg', { width, height, class: 'wb-lab-chart', role: 'img' });
  const x = (v: number) => labelW + (Math.max(0, v) / top) * plotW;
  shown.forEach((b, i) => {
    const y = 8 + i * rowH;
    const label = svg('text', { x: labelW - 8, y: y + 14, 'text-anchor': 'end', class: 'wb-lab-chart-label' });
    label.textContent = b.label;
    root.appendChild(label);
    root.appendChild(svg('rect', { x: labelW, y: y + 3, width: x(b.value ?? 0) - labelW, height: rowH - 10, class: 'wb-lab-chart-bar' }));
    if (b.low !== null && b.high !== null) {
      const cy = y + 3 + (rowH - 10) / 2;
      root.appendChild(svg('line', { x1: x(b.low), x2: x(b.high), y1: cy, y2: cy, class: 'wb-lab-chart-ci' }));
      for (const end of [b.low, b.high]) {
        root.appendChild(svg('line', { x1: x(end), x2: x(end), y1: cy - 5, y2: cy + 5, class: 'wb-lab-chart-ci' }));
      }
    }
    const value = svg('text', { x: x(Math.max(b.value ?? 0, b.high ?? 0)) + 6, y: y + 14, class: 'wb-lab-chart-value' });
    value.textContent = (b.value ?? 0).toFixed(3);
    root.appendChild(value);
  });
  const axis = svg('line', { x1: labelW, x2: labelW, y1: 4, y2: height - 12, class: 'wb-lab-chart-axis' });
  root.appendChild(axis);
  return root;
}
