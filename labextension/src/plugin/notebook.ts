/**
 * Writing into notebooks: insert a prompt-loading cell into the active
 * notebook, or open a new notebook whose first cell shows an experiment.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { IPromptRef, experimentSnippet, promptSnippet } from '../utils';

/**
 * Insert a cell that loads the prompt into the active notebook (into the
 * active cell if it is an empty code cell); false if no notebook is open.
 */
export function insertPrompt(
  notebooks: INotebookTracker,
  shell: JupyterFrontEnd.IShell,
  ref: IPromptRef
): boolean {
  const panel = notebooks.currentWidget;
  const notebook = panel?.content;
  const notebookModel = notebook?.model;
  if (!panel || !notebook || !notebookModel) {
    Notification.warning(
      'Open a notebook first: the prompt is inserted into the active notebook.',
      { autoClose: 5000 }
    );
    return false;
  }
  const source = promptSnippet(ref);
  const active = notebook.activeCell;
  if (
    active &&
    active.model.type === 'code' &&
    active.model.sharedModel.getSource().trim() === ''
  ) {
    active.model.sharedModel.setSource(source);
  } else {
    const index = active
      ? notebook.activeCellIndex + 1
      : notebookModel.cells.length;
    notebookModel.sharedModel.insertCell(index, {
      cell_type: 'code',
      source,
      metadata: {}
    });
    notebook.activeCellIndex = index;
  }
  shell.activateById(panel.id);
  notebook.activeCell?.node.scrollIntoView({ block: 'nearest' });
  return true;
}

/** A new notebook whose first cell opens the experiment's comparison widget. */
export async function openComparison(
  app: JupyterFrontEnd,
  project: string,
  name: string
): Promise<NotebookPanel> {
  const { commands, shell } = app;
  const kernelName = app.serviceManager.kernelspecs.specs?.default;
  const panel = (await commands.execute(
    'notebook:create-new',
    kernelName ? { kernelName } : {}
  )) as NotebookPanel;
  await panel.context.ready;
  const notebookModel = panel.content.model;
  if (!notebookModel) {
    throw new Error('the new notebook has no model');
  }
  const source = experimentSnippet(project, name);
  const first = notebookModel.cells.length ? notebookModel.cells.get(0) : null;
  if (
    first &&
    first.type === 'code' &&
    first.sharedModel.getSource().trim() === ''
  ) {
    first.sharedModel.setSource(source);
  } else {
    notebookModel.sharedModel.insertCell(0, {
      cell_type: 'code',
      source,
      metadata: {}
    });
  }
  panel.content.activeCellIndex = 0;
  shell.activateById(panel.id);
  return panel;
}
