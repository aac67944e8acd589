/**
 * Building the panels' DOM. Every piece of text (model outputs, prompts, task and model names, error messages)
 * goes in through textContent: nothing from the store is ever parsed as HTML.
 */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text?: string | null,
  children: (Node | null)[] = []
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = text;
  }
  for (const child of children) {
    if (child) {
      node.appendChild(child);
    }
  }
  return node;
}

export function button(
  label: string,
  className: string,
  onClick: () => void
): HTMLButtonElement {
  const b = el('button', `jp-Button jp-mod-styled wb-lab-button ${className}`, label);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) {
    return '–';
  }
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

export function interval(ci: [number | null, number | null] | null): string {
  return ci && ci[0] !== null && ci[1] !== null
    ? `[${fmt(ci[0])}, ${fmt(ci[1])}]`
    : '';
}

export function when(seconds: number | null): string {
  if (!seconds) {
    return '';
  }
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function clear(node: HTMLElement): void {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
}
