/**
 * The main plugin: builds the client and model, the sidebar, the view
 * openers and the commands, and provides the `ILlmLabClient` token.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { LlmLabClient } from '../api';
import { llmlabIcon } from '../icons';
import { LlmLabModel } from '../model';
import { ILlmLabClient, PLUGIN_ID } from '../tokens';
import { SidebarWidget } from '../widgets';
import { registerCommands } from './commands';
import { createOpeners } from './openers';
import { connectSettings } from './settings';
import { createTrackers, restoreLayout } from './trackers';

export const mainPlugin: JupyterFrontEndPlugin<LlmLabClient> = {
  id: PLUGIN_ID,
  description:
    'LLM Lab: versioned prompts and datasets in a JupyterLab sidebar.',
  autoStart: true,
  provides: ILlmLabClient,
  requires: [IEditorServices, INotebookTracker],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    editorServices: IEditorServices,
    notebooks: INotebookTracker,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ): LlmLabClient => {
    const { shell } = app;
    const client = new LlmLabClient(app.serviceManager.serverSettings);
    const model = new LlmLabModel(client);

    const trackers = createTrackers();
    const openers = createOpeners({
      app,
      model,
      editorServices,
      notebooks,
      trackers
    });
    const { openPrompt, openDataset, openExperiment, newExperiment, openJob } =
      openers;

    const sidebar = new SidebarWidget(model, {
      openPrompt: (project, prompt) => {
        openPrompt(project, prompt.name);
      },
      newPrompt: project => {
        openPrompt(project, null);
      },
      openDataset: (project, dataset) => {
        openDataset(project, dataset.name);
      },
      openExperiment: (project, experiment) => {
        openExperiment(project, experiment.name);
      },
      newExperiment: project => {
        newExperiment(project);
      },
      openJob: (project, job) => {
        openJob(project, job.id);
      }
    });
    sidebar.title.icon = llmlabIcon;
    sidebar.title.caption = 'LLM Lab';
    shell.add(sidebar, 'left', { rank: 350 });

    registerCommands({ app, model, sidebar, trackers, openers }, palette);

    if (restorer) {
      restoreLayout(restorer, sidebar, trackers);
    }

    if (settingRegistry) {
      connectSettings(settingRegistry, model);
    }

    return client;
  }
};
