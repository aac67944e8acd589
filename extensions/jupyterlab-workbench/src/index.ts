import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { ComparePanel } from './comparepanel';
import { RunPanel } from './runpanel';
import { EvaluationsPanel } from './sidebar';
import { IRunSummary, IStoreRef } from './types';

const ICON = new LabIcon({
  name: 'jupyterlab-workbench:evaluations',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<rect x="3" y="13" width="4" height="8"/><rect x="10" y="8" width="4" height="13"/>' +
    '<rect x="17" y="3" width="4" height="18"/></g></svg>'
});

/** Python that loads a run's items in the notebook (the store is the kernel's own, as the sidebar's). */
export function loadCode(runId: string): string {
  return `import workbench\n\nsamples = workbench.samples(${JSON.stringify(runId)})\nsamples`;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-workbench:plugin',
  description: 'The llm-eval-workbench project store beside the notebook',
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  activate: (app: JupyterFrontEnd, shell: ILabShell, notebooks: INotebookTracker) => {
    let lastDir = '';
    const where = (): IStoreRef => {
      const current = notebooks.currentWidget;
      if (current) {
        lastDir = PathExt.dirname(current.context.path);
      }
      return { dir: lastDir };
    };

    const insert = (runId: string) => {
      const panel = notebooks.currentWidget;
      if (!panel) {
        window.alert('Open a notebook first: the code goes into the active notebook.');
        return;
      }
      const notebook = panel.content;
      NotebookActions.insertBelow(notebook);
      notebook.activeCell?.model.sharedModel.setSource(loadCode(runId));
      shell.activateById(panel.id);
    };

    const open = (run: IRunSummary) => {
      const content = new RunPanel(where(), run.run_id, insert);
      const widget = new MainAreaWidget({ content });
      widget.id = `${content.id}-${Date.now()}`;
      widget.title.label = `${run.task} · ${run.run_id}`;
      widget.title.icon = ICON;
      widget.title.closable = true;
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      void content.load();
    };

    const compare = (a: IRunSummary, b: IRunSummary) => {
      const content = new ComparePanel(where(), a.run_id, b.run_id);
      const widget = new MainAreaWidget({ content });
      widget.id = `${content.id}-${Date.now()}`;
      widget.title.label = `${a.run_id} vs ${b.run_id}`;
      widget.title.icon = ICON;
      widget.title.closable = true;
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      void content.load();
    };

    const sidebar = new EvaluationsPanel(where, {
      open,
      compare,
      insert: run => insert(run.run_id)
    });
    sidebar.title.icon = ICON;
    shell.add(sidebar, 'left', { rank: 600 });
    notebooks.currentChanged.connect(() => {
      if (sidebar.isVisible) {
        void sidebar.refresh();
      }
    });

    app.commands.addCommand('jupyterlab-workbench:open-evaluations', {
      label: 'Show Evaluations',
      execute: () => shell.activateById(sidebar.id)
    });
  }
};

export default plugin;
