/**
 * The `llmlab:*` commands and their command-palette entries.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget
} from '@jupyterlab/apputils';

import { PromptTab } from '../components/PromptView';
import { SidebarTab } from '../components/Sidebar';
import { llmlabIcon } from '../icons';
import { LlmLabModel } from '../model';
import { CommandIDs, PALETTE_CATEGORY } from '../tokens';
import { IPromptRef } from '../utils';
import { SidebarWidget, UploadWidget } from '../widgets';
import { nameFrom, parseRef, projectOf, promptOf } from './commandArgs';
import { IOpeners } from './openers';
import { ITrackers } from './trackers';

export interface ICommandsOptions {
  app: JupyterFrontEnd;
  model: LlmLabModel;
  sidebar: SidebarWidget;
  trackers: ITrackers;
  openers: IOpeners;
}

/** Add every command; each one gets a palette entry if there is a palette. */
export function registerCommands(
  options: ICommandsOptions,
  palette: ICommandPalette | null
): void {
  const { app, model, sidebar, trackers } = options;
  const { commands, shell } = app;
  const {
    insertPrompt,
    openPrompt,
    openDataset,
    openExperiment,
    newExperiment,
    openJob
  } = options.openers;

  /** Show one tab of the sidebar. */
  const showTab = (tab: SidebarTab) => () => {
    sidebar.tab = tab;
    shell.activateById(sidebar.id);
  };

  commands.addCommand(CommandIDs.openSidebar, {
    label: 'Open the LLM Lab Sidebar',
    caption: 'Show the prompts and datasets of a project',
    icon: llmlabIcon,
    execute: showTab('prompts')
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh LLM Lab',
    execute: () => model.requestRefresh()
  });

  commands.addCommand(CommandIDs.newPrompt, {
    label: 'New Prompt',
    caption: 'Write the first version of a new prompt',
    isEnabled: () => !!model.project,
    execute: args => openPrompt(projectOf(model, args), null)
  });

  commands.addCommand(CommandIDs.openPrompt, {
    label: args => (args.name ? `Open Prompt ${args.name}` : 'Open Prompt…'),
    execute: async args => {
      const target = await promptOf(model, trackers.prompts, args);
      return target
        ? openPrompt(
            target.project,
            target.name,
            (args.tab as PromptTab | undefined) ?? undefined
          )
        : null;
    }
  });

  commands.addCommand(CommandIDs.editPrompt, {
    label: 'New Version of Prompt…',
    caption: 'Edit a new version of the current prompt',
    execute: async args => {
      const target = await promptOf(model, trackers.prompts, args);
      return target ? openPrompt(target.project, target.name, 'edit') : null;
    }
  });

  commands.addCommand(CommandIDs.diffVersions, {
    label: 'Diff Prompt Versions…',
    caption: 'Compare two versions of a prompt side by side',
    execute: async args => {
      const target = await promptOf(model, trackers.prompts, args);
      return target
        ? openPrompt(
            target.project,
            target.name,
            'diff',
            args.a as number | undefined,
            args.b as number | undefined
          )
        : null;
    }
  });

  commands.addCommand(CommandIDs.moveLabel, {
    label: 'Move Prompt Label…',
    caption: 'Point a label such as production to another version',
    execute: async args => {
      const target = await promptOf(model, trackers.prompts, args);
      return target ? openPrompt(target.project, target.name, 'labels') : null;
    }
  });

  commands.addCommand(CommandIDs.insertPrompt, {
    label: 'Insert Prompt into Notebook…',
    caption: 'Insert a cell that loads a prompt into the active notebook',
    execute: async args => {
      let ref: IPromptRef | null = null;
      if (args.name) {
        ref = {
          project: projectOf(model, args),
          name: args.name as string,
          version: args.version as number | undefined,
          label: args.label as string | undefined
        };
      } else {
        const result = await InputDialog.getText({
          title: 'Insert prompt into notebook',
          label: 'Prompt (name, name@version or name@label)',
          placeholder: 'greet@production'
        });
        if (result.button.accept && result.value) {
          ref = { project: model.project, ...parseRef(result.value) };
        }
      }
      return ref ? insertPrompt(ref) : false;
    }
  });

  commands.addCommand(CommandIDs.openDatasets, {
    label: 'Open LLM Lab Datasets',
    execute: showTab('datasets')
  });

  commands.addCommand(CommandIDs.openDataset, {
    label: args => (args.name ? `Open Dataset ${args.name}` : 'Open Dataset…'),
    execute: async args => {
      const name = await nameFrom(model, args, 'Open dataset', 'Dataset');
      return name ? openDataset(projectOf(model, args), name) : null;
    }
  });

  commands.addCommand(CommandIDs.uploadDataset, {
    label: 'Upload Dataset…',
    caption: 'Upload a CSV, JSONL or Parquet file as a dataset version',
    isEnabled: () => !!model.project,
    execute: args => {
      const project = projectOf(model, args);
      const content = new UploadWidget(model, project, () => main.dispose());
      const main = new MainAreaWidget({ content });
      main.id = `llmlab-upload-${Date.now()}`;
      main.title.label = 'Upload dataset';
      main.title.icon = llmlabIcon;
      main.title.closable = true;
      shell.add(main, 'main');
      shell.activateById(main.id);
    }
  });

  commands.addCommand(CommandIDs.newExperiment, {
    label: 'New Experiment…',
    caption:
      'Run prompt versions × models on a dataset version, scored, in the background',
    isEnabled: () => !!model.project,
    execute: args =>
      newExperiment(
        projectOf(model, args),
        Array.isArray(args.variants) ? (args.variants as string[]) : []
      )
  });

  commands.addCommand(CommandIDs.openExperiments, {
    label: 'Open LLM Lab Experiments',
    execute: showTab('experiments')
  });

  commands.addCommand(CommandIDs.openExperiment, {
    label: args =>
      args.name ? `Open Experiment ${args.name}` : 'Open Experiment…',
    execute: async args => {
      const name = await nameFrom(model, args, 'Open experiment', 'Experiment');
      return name ? openExperiment(projectOf(model, args), name) : null;
    }
  });

  commands.addCommand(CommandIDs.openJobs, {
    label: 'Open LLM Lab Jobs',
    execute: showTab('jobs')
  });

  commands.addCommand(CommandIDs.openJob, {
    label: args => (args.id ? `Open Job #${args.id}` : 'Open Job…'),
    execute: async args => {
      let id = Number(args.id);
      if (!args.id) {
        const result = await InputDialog.getNumber({
          title: 'Open job',
          label: `Job number in ${model.project}`
        });
        id = result.button.accept ? Number(result.value) : NaN;
      }
      return Number.isInteger(id) && id > 0
        ? openJob(projectOf(model, args), id)
        : null;
    }
  });

  if (palette) {
    for (const command of [
      CommandIDs.openSidebar,
      CommandIDs.refresh,
      CommandIDs.newPrompt,
      CommandIDs.openPrompt,
      CommandIDs.editPrompt,
      CommandIDs.diffVersions,
      CommandIDs.moveLabel,
      CommandIDs.insertPrompt,
      CommandIDs.openDatasets,
      CommandIDs.openDataset,
      CommandIDs.uploadDataset,
      CommandIDs.newExperiment,
      CommandIDs.openExperiments,
      CommandIDs.openExperiment,
      CommandIDs.openJobs,
      CommandIDs.openJob
    ]) {
      palette.addItem({ command, category: PALETTE_CATEGORY });
    }
  }
}
