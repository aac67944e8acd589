import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { IBar, intervalChart } from './chart';
import { clear, el } from './dom';

/** The workbench's result output (workbench/views/bundle.py): a table and the scores with their intervals. */
export const MIME_TYPE = 'application/vnd.llm-workbench.result+json';

interface IResult {
  title?: string;
  columns: string[];
  rows: (string | number | null)[][];
  chart?: IBar[];
}

function cell(v: string | number | null): string {
  if (v === null || v === undefined) {
    return '';
  }
  return typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v);
}

export class ResultRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('wb-lab-result');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this.options.mimeType] as unknown as IResult;
    clear(this.node);
    if (data.title) {
      this.node.appendChild(el('div', 'wb-lab-result-title', data.title));
    }
    const table = el('table', 'wb-lab-table wb-lab-result-table');
    table.appendChild(el('tr', '', null, (data.columns || []).map(c => el('th', '', c))));
    for (const row of data.rows || []) {
      table.appendChild(el('tr', '', null, row.map(v => el('td', '', cell(v)))));
    }
    this.node.appendChild(table);
    if (data.chart && data.chart.length) {
      this.node.appendChild(intervalChart(data.chart));
    }
    return Promise.resolve();
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  createRenderer: options => new ResultRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'jupyterlab-workbench:result-renderer',
  description: 'Shows a workbench result table and chart from a saved notebook, without a kernel',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;
