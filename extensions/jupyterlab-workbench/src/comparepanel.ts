import { Widget } from '@lumino/widgets';

import { clear, el, fmt } from './dom';
import { requestAPI } from './request';
import { IComparison, IStoreRef } from './types';

/** The paired comparison of two runs (workbench.compare): B - A with its interval, the tests and the flips. */
export class ComparePanel extends Widget {
  constructor(
    private ref: IStoreRef,
    readonly runA: string,
    readonly runB: string
  ) {
    super();
    this.id = `jupyterlab-workbench-compare-${runA}-${runB}`;
    this.addClass('wb-lab-comparepanel');
    this.title.label = `Compare ${runA} · ${runB}`;
    this.title.closable = true;
  }

  async load(): Promise<void> {
    const params: Record<string, string> = { dir: this.ref.dir, a: this.runA, b: this.runB };
    if (this.ref.store) {
      params.store = this.ref.store;
    }
    clear(this.node);
    this.node.appendChild(el('div', 'wb-lab-message', 'Comparing item by item…'));
    try {
      this.draw(await requestAPI<IComparison>('compare', params));
    } catch (error) {
      clear(this.node);
      this.node.appendChild(el('div', 'wb-lab-message', (error as Error).message));
    }
  }

  private draw(c: IComparison): void {
    clear(this.node);
    const t = c.table;
    const n = (k: string) => (typeof t[k] === 'number' ? (t[k] as number) : null);
    this.node.append(
      el('h2', '', `A ${c.run_a.run_id} (${c.run_a.task}, ${c.run_a.model}) vs B ${c.run_b.run_id} (${c.run_b.task}, ${c.run_b.model})`),
      el('p', 'wb-lab-compare-summary', c.summary)
    );
    const table = el('table', 'wb-lab-table wb-lab-compare-table');
    const cols: [string, string][] = [
      ['metric', c.metric],
      ['A', fmt(n('a'))],
      ['B', fmt(n('b'))],
      ['B − A', fmt(n('b_minus_a'))],
      ['95% interval', `[${fmt(n('ci95_low'))}, ${fmt(n('ci95_high'))}]`],
      ['bootstrap p', fmt(n('bootstrap_p'))],
      ['McNemar p', fmt(n('mcnemar_p'))],
      ['shared items', fmt(n('shared_items'))],
      ['B better / A better / ties', `${fmt(n('b_better'))} / ${fmt(n('a_better'))} / ${fmt(n('ties'))}`]
    ];
    for (const [k, v] of cols) {
      table.appendChild(el('tr', '', null, [el('th', '', k), el('td', '', v)]));
    }
    this.node.appendChild(table);
    for (const caveat of c.caveats) {
      this.node.appendChild(el('p', 'wb-lab-caveat', caveat));
    }
    if (c.settings) {
      this.node.appendChild(el('p', 'wb-lab-caveat', `Settings that differ: ${c.settings}`));
    }
    this.node.appendChild(el('h3', '', `Flips (${c.n_flips} items changed)`));
    const keys = c.flips.length ? Object.keys(c.flips[0]) : [];
    const flips = el('table', 'wb-lab-table wb-lab-flips');
    flips.appendChild(el('tr', '', null, keys.map(k => el('th', '', k))));
    for (const f of c.flips) {
      flips.appendChild(
        el(
          'tr',
          '',
          null,
          keys.map(k => el('td', '', null, [el('div', 'wb-lab-text', typeof f[k] === 'number' ? fmt(f[k] as number) : String(f[k] ?? ''))]))
        )
      );
    }
    this.node.appendChild(flips);
  }
}
