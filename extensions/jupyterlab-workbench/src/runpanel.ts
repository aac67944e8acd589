import { Widget } from '@lumino/widgets';

import { intervalChart } from './chart';
import { button, clear, el, fmt, interval, when } from './dom';
import { requestAPI } from './request';
import { IItem, IItemPage, IRunDetail, IStoreRef } from './types';

const PAGE = 50;

/**
 * One run in the main area: metrics with intervals and their chart, everything recorded to reproduce it with the
 * command that reruns it, and its items a page at a time (prompt, output, reference, right or wrong, per-item
 * scores), filterable to the wrong answers and by a search. Outputs are text (textContent), never HTML.
 */
export class RunPanel extends Widget {
  constructor(
    private ref: IStoreRef,
    readonly runId: string,
    private insert: (runId: string) => void
  ) {
    super();
    this.id = `jupyterlab-workbench-run-${runId}`;
    this.addClass('wb-lab-runpanel');
    this.title.label = `Run ${runId}`;
    this.title.closable = true;
    this.head = el('div', 'wb-lab-run-head');
    this.metrics = el('div', 'wb-lab-metrics');
    this.settings = el('div', 'wb-lab-settings');
    this.wrong = el('input', 'wb-lab-wrong-toggle');
    this.wrong.type = 'checkbox';
    this.wrong.addEventListener('change', () => {
      this.offset = 0;
      void this.loadItems();
    });
    this.search = el('input', 'wb-lab-item-search');
    this.search.type = 'search';
    this.search.placeholder = 'Search prompts, outputs, references';
    this.search.addEventListener('change', () => {
      this.offset = 0;
      void this.loadItems();
    });
    const wrongLabel = el('label', 'wb-lab-wrong-label', null, [this.wrong, el('span', '', ' Wrong answers only')]);
    this.pager = el('div', 'wb-lab-pager');
    this.items = el('div', 'wb-lab-items');
    this.message = el('div', 'wb-lab-message');
    const settings = el('details', 'wb-lab-settings-box', null, [
      el('summary', '', 'Settings (everything recorded to reproduce the run)'),
      this.settings
    ]);
    this.node.append(
      this.head,
      this.message,
      this.metrics,
      settings,
      el('h3', '', 'Items'),
      el('div', 'wb-lab-item-tools', null, [wrongLabel, this.search, this.pager]),
      this.items
    );
  }

  private params(extra: Record<string, string> = {}): Record<string, string> {
    const p: Record<string, string> = { dir: this.ref.dir, id: this.runId, ...extra };
    if (this.ref.store) {
      p.store = this.ref.store;
    }
    return p;
  }

  async load(): Promise<void> {
    try {
      this.run = await requestAPI<IRunDetail>('run', this.params());
      this.message.textContent = '';
      this.drawRun(this.run);
      await this.loadItems();
    } catch (error) {
      this.message.textContent = (error as Error).message;
    }
  }

  private drawRun(run: IRunDetail): void {
    clear(this.head);
    this.title.label = `${run.task} · ${run.run_id}`;
    const state = run.status === 'running' ? `running ${run.n_scored ?? 0}/${run.n_items ?? '?'}` : run.status;
    this.head.append(
      el('h2', 'wb-lab-run-name', `${run.task} · ${run.model}`),
      el('div', 'wb-lab-run-meta', `${run.run_id} · ${state} · ${when(run.created_at)} · ${fmt(run.duration_s, 1)} s`),
      el('div', 'wb-lab-run-error', run.error ?? '')
    );
    const rerun = el('pre', 'wb-lab-rerun', run.rerun || '(no command recorded)');
    this.head.append(
      el('div', 'wb-lab-rerun-line', null, [
        el('span', '', 'Rerun: '),
        rerun,
        button('Copy', 'wb-lab-copy', () => void navigator.clipboard?.writeText(run.rerun)),
        button('Insert code', 'wb-lab-insert', () => this.insert(run.run_id)),
        button('Refresh', 'wb-lab-refresh', () => void this.load())
      ])
    );
    clear(this.metrics);
    const table = el('table', 'wb-lab-table wb-lab-metric-table');
    table.appendChild(
      el('tr', '', null, ['metric', 'value', 'stderr', '95% interval'].map(h => el('th', '', h)))
    );
    for (const m of run.metrics) {
      table.appendChild(
        el('tr', '', null, [m.name, fmt(m.value), fmt(m.stderr), interval(m.ci95)].map(t => el('td', '', t)))
      );
    }
    this.metrics.append(
      table,
      intervalChart(
        run.metrics
          .filter(m => m.value !== null && m.value <= 1 && m.value >= 0)
          .map(m => ({ label: m.name, value: m.value, low: m.ci95?.[0] ?? null, high: m.ci95?.[1] ?? null }))
      )
    );
    clear(this.settings);
    const rows = el('table', 'wb-lab-table wb-lab-settings-table');
    for (const [k, v] of Object.entries(run.settings)) {
      const shown = typeof v === 'string' ? v : JSON.stringify(v, null, 1);
      rows.appendChild(el('tr', '', null, [el('th', '', k), el('td', '', null, [el('pre', '', shown)])]));
    }
    this.settings.appendChild(rows);
  }

  private async loadItems(): Promise<void> {
    try {
      const page = await requestAPI<IItemPage>(
        'items',
        this.params({
          offset: String(this.offset),
          limit: String(PAGE),
          wrong: this.wrong.checked ? '1' : '',
          q: this.search.value
        })
      );
      this.message.textContent = '';
      this.drawItems(page);
    } catch (error) {
      this.message.textContent = (error as Error).message;
    }
  }

  private drawItems(page: IItemPage): void {
    clear(this.pager);
    const last = Math.min(page.offset + PAGE, page.matched);
    this.pager.append(
      el(
        'span',
        'wb-lab-count',
        `${page.matched ? page.offset + 1 : 0}–${last} of ${page.matched}` +
          (page.matched !== page.total ? ` (of ${page.total} items)` : ' items') +
          (page.wrong !== null ? ` · ${page.wrong} wrong` : '')
      )
    );
    const prev = button('‹ Prev', 'wb-lab-prev', () => {
      this.offset = Math.max(0, this.offset - PAGE);
      void this.loadItems();
    });
    const next = button('Next ›', 'wb-lab-next', () => {
      this.offset += PAGE;
      void this.loadItems();
    });
    prev.disabled = page.offset === 0;
    next.disabled = last >= page.matched;
    this.pager.append(prev, next);
    this.wrong.disabled = page.correct_by === null;
    clear(this.items);
    const table = el('table', 'wb-lab-table wb-lab-item-table');
    const head = ['#', 'prompt', 'output', 'reference', page.correct_by ? `correct (${page.correct_by})` : 'correct', ...page.scores];
    table.appendChild(el('tr', '', null, head.map(h => el('th', '', h))));
    for (const item of page.items) {
      table.appendChild(this.itemRow(item, page.scores));
    }
    this.items.appendChild(table);
  }

  private itemRow(item: IItem, scores: string[]): HTMLElement {
    const mark = item.correct === null ? '' : item.correct ? '✓' : '✗';
    const row = el('tr', `wb-lab-item ${item.correct === false ? 'wb-lab-item-wrong' : ''}`, null, [
      el('td', 'wb-lab-doc', String(item.doc_id)),
      el('td', 'wb-lab-prompt', null, [el('div', 'wb-lab-text', item.prompt ?? '')]),
      el('td', 'wb-lab-output', null, [el('div', 'wb-lab-text', item.output ?? '')]),
      el('td', 'wb-lab-reference', null, [el('div', 'wb-lab-text', item.reference ?? '')]),
      el('td', 'wb-lab-correct', mark),
      ...scores.map(s => el('td', 'wb-lab-score', fmt(item.scores[s] ?? null)))
    ]);
    row.dataset.docId = String(item.doc_id);
    return row;
  }

  private run: IRunDetail | null = null;
  private offset = 0;
  private head: HTMLElement;
  private metrics: HTMLElement;
  private settings: HTMLElement;
  private wrong: HTMLInputElement;
  private search: HTMLInputElement;
  private pager: HTMLElement;
  private items: HTMLElement;
  private message: HTMLElement;
}
