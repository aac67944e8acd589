/** The JSON shapes the server extension answers (jupyterlab_workbench/payloads.py). */

export interface IHeadline {
  metric: string;
  value: number | null;
  stderr: number | null;
  ci95: [number | null, number | null] | null;
}

export interface IRunSummary {
  run_id: string;
  status: string;
  task: string;
  model: string;
  created_at: number | null;
  finished_at: number | null;
  duration_s: number | null;
  n_items: number | null;
  n_scored: number | null;
  progress: number | null;
  error: string | null;
  headline: IHeadline | null;
  annotators: number;
  ratings: number;
  command: string | null;
}

export interface IRunList {
  store: string;
  runs: IRunSummary[];
}

export interface IMetric {
  name: string;
  value: number | null;
  stderr: number | null;
  ci95: [number | null, number | null] | null;
}

export interface IRunDetail extends IRunSummary {
  metrics: IMetric[];
  settings: Record<string, unknown>;
  rerun: string;
  store: string;
}

export interface IItem {
  doc_id: number;
  prompt: string | null;
  output: string | null;
  reference: string | null;
  correct: boolean | null;
  scores: Record<string, number>;
}

export interface IItemPage {
  run_id: string;
  total: number;
  wrong: number | null;
  matched: number;
  offset: number;
  correct_by: string | null;
  scores: string[];
  items: IItem[];
}

export interface IComparison {
  run_a: IRunSummary;
  run_b: IRunSummary;
  metric: string;
  summary: string;
  table: Record<string, unknown>;
  caveats: string[];
  settings: string;
  flips: Record<string, unknown>[];
  n_flips: number;
}

/** Where the store is: the open notebook's folder (relative to the server root), or a store file. */
export interface IStoreRef {
  dir: string;
  store?: string;
}
