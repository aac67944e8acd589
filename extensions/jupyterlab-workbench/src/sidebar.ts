import { Widget } from '@lumino/widgets';

import { button, clear, el, fmt, interval, when } from './dom';
import { requestAPI } from './request';
import { IRunList, IRunSummary, IStoreRef } from './types';

const POLL_MS = 3000;

export interface ISidebarActions {
  open(run: IRunSummary): void;
  compare(a: IRunSummary, b: IRunSummary): void;
  insert(run: IRunSummary): void;
}

/**
 * The left sidebar panel "Evaluations": the runs of the store the open notebook's kernel uses, newest first,
 * filtered by task, model, status and a search. While visible it refreshes every few seconds, so a running
 * run's progress moves and a new run appears.
 */
export class EvaluationsPanel extends Widget {
  constructor(
    private where: () => IStoreRef,
    private actions: ISidebarActions
  ) {
    super();
    this.id = 'jupyterlab-workbench-evaluations';
    this.addClass('wb-lab-sidebar');
    this.title.caption = 'Evaluations';
    const bar = el('div', 'wb-lab-filters');
    this.task = el('select', 'wb-lab-filter-task');
    this.model = el('select', 'wb-lab-filter-model');
    this.status = el('select', 'wb-lab-filter-status');
    this.search = el('input', 'wb-lab-search');
    this.search.type = 'search';
    this.search.placeholder = 'Search runs';
    for (const s of [this.task, this.model, this.status]) {
      s.addEventListener('change', () => this.draw());
    }
    this.search.addEventListener('input', () => this.draw());
    bar.append(this.search, this.task, this.model, this.status);
    this.compareButton = button('Compare', 'wb-lab-compare', () => {
      const [a, b] = this.selectedRuns();
      if (a && b) {
        this.actions.compare(a, b);
      }
    });
    this.insertButton = button('Insert code', 'wb-lab-insert', () => {
      const [run] = this.selectedRuns();
      if (run) {
        this.actions.insert(run);
      }
    });
    const refresh = button('Refresh', 'wb-lab-refresh', () => void this.refresh());
    const tools = el('div', 'wb-lab-tools', null, [this.compareButton, this.insertButton, refresh]);
    this.storeLine = el('div', 'wb-lab-store');
    this.message = el('div', 'wb-lab-message');
    this.list = el('div', 'wb-lab-runs');
    this.node.append(el('h2', 'wb-lab-heading', 'Evaluations'), bar, tools, this.storeLine, this.message, this.list);
    this.updateButtons();
  }

  protected onAfterShow(): void {
    void this.refresh();
    this.timer = window.setInterval(() => {
      if (this.isVisible) {
        void this.refresh();
      }
    }, POLL_MS);
  }

  protected onAfterHide(): void {
    window.clearInterval(this.timer);
  }

  dispose(): void {
    window.clearInterval(this.timer);
    super.dispose();
  }

  async refresh(): Promise<void> {
    const ref = this.where();
    const params: Record<string, string> = { dir: ref.dir };
    if (ref.store) {
      params.store = ref.store;
    }
    try {
      const data = await requestAPI<IRunList>('runs', params);
      this.runs = data.runs;
      this.storeLine.textContent = data.store;
      this.message.textContent = '';
    } catch (error) {
      this.runs = [];
      this.storeLine.textContent = '';
      this.message.textContent = (error as Error).message;
    }
    this.draw();
  }

  private options(select: HTMLSelectElement, label: string, values: string[]): void {
    const keep = select.value;
    clear(select);
    const all = el('option', '', `${label}: all`);
    all.value = '';
    select.appendChild(all);
    for (const v of [...new Set(values)].sort()) {
      const o = el('option', '', v);
      o.value = v;
      select.appendChild(o);
    }
    select.value = values.includes(keep) ? keep : '';
  }

  private draw(): void {
    this.options(this.task, 'task', this.runs.map(r => r.task));
    this.options(this.model, 'model', this.runs.map(r => r.model));
    this.options(this.status, 'status', this.runs.map(r => r.status));
    const needle = this.search.value.toLowerCase();
    const shown = this.runs.filter(
      r =>
        (!this.task.value || r.task === this.task.value) &&
        (!this.model.value || r.model === this.model.value) &&
        (!this.status.value || r.status === this.status.value) &&
        (!needle ||
          [r.run_id, r.task, r.model, r.command ?? '', r.error ?? ''].some(t => t.toLowerCase().includes(needle)))
    );
    const ids = new Set(this.runs.map(r => r.run_id));
    this.selected = this.selected.filter(id => ids.has(id));
    clear(this.list);
    if (!this.runs.length && !this.message.textContent) {
      this.list.appendChild(el('div', 'wb-lab-empty', 'No runs yet: %llm_eval arc_easy --limit 20 in a notebook.'));
    }
    for (const run of shown) {
      this.list.appendChild(this.row(run));
    }
    this.updateButtons();
  }

  private row(run: IRunSummary): HTMLElement {
    const row = el('div', `wb-lab-run wb-lab-status-${run.status}`);
    row.dataset.runId = run.run_id;
    const pick = el('input', 'wb-lab-pick');
    pick.type = 'checkbox';
    pick.title = 'Select (two to compare)';
    pick.checked = this.selected.includes(run.run_id);
    pick.addEventListener('click', e => e.stopPropagation());
    pick.addEventListener('change', () => {
      this.selected = pick.checked
        ? [...this.selected.filter(id => id !== run.run_id), run.run_id].slice(-2)
        : this.selected.filter(id => id !== run.run_id);
      this.draw();
    });
    const h = run.headline;
    const score = h
      ? `${h.metric} ${fmt(h.value)}${h.stderr !== null ? ` ± ${fmt(h.stderr)}` : ''} ${interval(h.ci95)}`
      : '';
    let state = run.status;
    if (run.status === 'running') {
      state = `running ${run.n_scored ?? 0}/${run.n_items ?? '?'}`;
    }
    const body = el('div', 'wb-lab-run-body', null, [
      el('div', 'wb-lab-run-title', null, [
        el('span', 'wb-lab-run-task', run.task),
        el('span', `wb-lab-badge wb-lab-badge-${run.status}`, state)
      ]),
      el('div', 'wb-lab-run-model', run.model),
      score ? el('div', 'wb-lab-run-score', score) : null,
      run.status === 'running' && run.progress !== null ? this.progress(run.progress) : null,
      run.error && run.status !== 'complete' ? el('div', 'wb-lab-run-error', run.error) : null,
      el(
        'div',
        'wb-lab-run-meta',
        [
          run.run_id,
          when(run.created_at),
          run.n_items !== null ? `${run.n_items} items` : '',
          run.annotators ? `${run.annotators} annotator${run.annotators > 1 ? 's' : ''}, ${run.ratings} ratings` : ''
        ]
          .filter(Boolean)
          .join(' · ')
      )
    ]);
    row.append(pick, body);
    row.addEventListener('click', () => this.actions.open(run));
    return row;
  }

  private progress(fraction: number): HTMLElement {
    const bar = el('div', 'wb-lab-progress');
    const fill = el('div', 'wb-lab-progress-fill');
    fill.style.width = `${Math.round(Math.min(1, fraction) * 100)}%`;
    bar.appendChild(fill);
    return bar;
  }

  private selectedRuns(): IRunSummary[] {
    return this.selected
      .map(id => this.runs.find(r => r.run_id === id))
      .filter((r): r is IRunSummary => !!r);
  }

  private updateButtons(): void {
    this.compareButton.disabled = this.selected.length !== 2;
    this.insertButton.disabled = this.selected.length !== 1;
    this.compareButton.title = 'Select two runs to compare them item by item';
    this.insertButton.title = 'Select one run to load it in the active notebook';
  }

  private runs: IRunSummary[] = [];
  private selected: string[] = [];
  private timer = 0;
  private task: HTMLSelectElement;
  private model: HTMLSelectElement;
  private status: HTMLSelectElement;
  private search: HTMLInputElement;
  private compareButton: HTMLButtonElement;
  private insertButton: HTMLButtonElement;
  private storeLine: HTMLElement;
  private message: HTMLElement;
  private list: HTMLElement;
}
