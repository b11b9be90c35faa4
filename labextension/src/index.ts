/**
 * The LLM Lab JupyterLab extension: a sidebar to browse prompts and datasets,
 * main-area views to read, diff, edit and label prompt versions, and commands
 * (all in the palette under "LLM Lab") to drive them.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { LlmLabClient } from './api';
import { PromptTab } from './components/PromptView';
import { SidebarTab } from './components/Sidebar';
import { llmlabIcon } from './icons';
import { DEFAULT_SETTINGS, LlmLabModel } from './model';
import {
  CommandIDs,
  ILlmLabClient,
  PALETTE_CATEGORY,
  PLUGIN_ID
} from './tokens';
import { IPromptRef, experimentSnippet, promptSnippet } from './utils';
import {
  DatasetWidget,
  ExperimentWidget,
  JobWidget,
  NewExperimentWidget,
  PromptWidget,
  SidebarWidget,
  UploadWidget
} from './widgets';

export { LlmLabClient } from './api';
export { requestAPI, LlmLabAPIError } from './request';
export * from './tokens';
export * from './types';

/** Parse "name", "name@3" or "name@production". */
function parseRef(text: string): {
  name: string;
  version?: number;
  label?: string;
} {
  const [name, selector] = text.trim().split('@', 2);
  if (!selector) {
    return { name };
  }
  return /^\d+$/.test(selector)
    ? { name, version: Number(selector) }
    : { name, label: selector };
}

const plugin: JupyterFrontEndPlugin<LlmLabClient> = {
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
    const { commands, shell } = app;
    const client = new LlmLabClient(app.serviceManager.serverSettings);
    const model = new LlmLabModel(client);

    const prompts = new WidgetTracker<MainAreaWidget<PromptWidget>>({
      namespace: 'llmlab-prompt'
    });
    const datasets = new WidgetTracker<MainAreaWidget<DatasetWidget>>({
      namespace: 'llmlab-dataset'
    });

    const experiments = new WidgetTracker<MainAreaWidget<ExperimentWidget>>({
      namespace: 'llmlab-experiment'
    });
    const jobs = new WidgetTracker<MainAreaWidget<JobWidget>>({
      namespace: 'llmlab-job'
    });

    const promptKey = (project: string, name: string) =>
      `llmlab-prompt-${encodeURIComponent(project)}-${encodeURIComponent(name)}`;

    const findPrompt = (project: string, name: string) =>
      prompts.find(
        w => w.content.project === project && w.content.name === name
      );

    const insertPrompt = (ref: IPromptRef): boolean => {
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
    };

    const trackPrompt = (widget: MainAreaWidget<PromptWidget>) => {
      void prompts.add(widget);
    };

    const openPrompt = (
      project: string,
      name: string | null,
      tab?: PromptTab,
      a?: number,
      b?: number
    ): MainAreaWidget<PromptWidget> => {
      const existing = name !== null ? findPrompt(project, name) : undefined;
      if (existing) {
        if (tab) {
          existing.content.showTab({ tab, a, b });
        }
        shell.activateById(existing.id);
        return existing;
      }
      const content = new PromptWidget({
        model,
        editorServices,
        project,
        name,
        onInsert: ref => {
          insertPrompt(ref);
        },
        onNamed: (widget, newName) => {
          main.id = promptKey(project, newName);
          main.title.label = newName;
          main.title.caption = `${project}/${newName}`;
          trackPrompt(main);
          void prompts.save(main);
        }
      });
      const main = new MainAreaWidget({ content });
      main.id =
        name !== null
          ? promptKey(project, name)
          : `llmlab-prompt-new-${Date.now()}`;
      main.title.label = name ?? 'New prompt';
      main.title.caption = name !== null ? `${project}/${name}` : project;
      main.title.icon = llmlabIcon;
      main.title.closable = true;
      if (tab) {
        content.showTab({ tab, a, b });
      }
      shell.add(main, 'main');
      if (name !== null) {
        trackPrompt(main);
      }
      shell.activateById(main.id);
      return main;
    };

    const openDataset = (project: string, name: string) => {
      const existing = datasets.find(
        w => w.content.project === project && w.content.name === name
      );
      if (existing) {
        shell.activateById(existing.id);
        return existing;
      }
      const content = new DatasetWidget(model, project, name);
      const main = new MainAreaWidget({ content });
      main.id = `llmlab-dataset-${encodeURIComponent(project)}-${encodeURIComponent(name)}`;
      main.title.label = name;
      main.title.caption = `${project}/${name} (dataset)`;
      main.title.icon = llmlabIcon;
      main.title.closable = true;
      shell.add(main, 'main');
      void datasets.add(main);
      shell.activateById(main.id);
      return main;
    };

    /** A new notebook whose first cell opens the experiment's comparison widget. */
    const openComparison = async (
      project: string,
      name: string
    ): Promise<NotebookPanel> => {
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
      const first = notebookModel.cells.length
        ? notebookModel.cells.get(0)
        : null;
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
    };

    const openExperiment = (project: string, name: string) => {
      const existing = experiments.find(
        w => w.content.project === project && w.content.name === name
      );
      if (existing) {
        shell.activateById(existing.id);
        return existing;
      }
      const content = new ExperimentWidget({
        model,
        project,
        name,
        onOpenNotebook: openComparison
      });
      const main = new MainAreaWidget({ content });
      main.id = `llmlab-experiment-${encodeURIComponent(project)}-${encodeURIComponent(name)}`;
      main.title.label = name;
      main.title.caption = `${project}/${name} (experiment)`;
      main.title.icon = llmlabIcon;
      main.title.closable = true;
      shell.add(main, 'main');
      void experiments.add(main);
      shell.activateById(main.id);
      return main;
    };

    const newExperiment = (project: string, variants: string[] = []) => {
      const content = new NewExperimentWidget(
        model,
        project,
        state => {
          main.dispose();
          openExperiment(project, state.experiment.name);
        },
        () => main.dispose(),
        variants
      );
      const main = new MainAreaWidget({ content });
      main.id = `llmlab-new-experiment-${Date.now()}`;
      main.title.label = 'New experiment';
      main.title.caption = `New experiment in ${project}`;
      main.title.icon = llmlabIcon;
      main.title.closable = true;
      shell.add(main, 'main');
      shell.activateById(main.id);
      return main;
    };

    const openJob = (project: string, id: number) => {
      const existing = jobs.find(
        w => w.content.project === project && w.content.jobId === id
      );
      if (existing) {
        shell.activateById(existing.id);
        return existing;
      }
      const content = new JobWidget(model, project, id);
      const main = new MainAreaWidget({ content });
      main.id = `llmlab-job-${encodeURIComponent(project)}-${id}`;
      main.title.label = `Job #${id}`;
      main.title.caption = `${project} job #${id}`;
      main.title.icon = llmlabIcon;
      main.title.closable = true;
      shell.add(main, 'main');
      void jobs.add(main);
      shell.activateById(main.id);
      return main;
    };

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

    /** The project named in args, else the sidebar's. */
    const projectOf = (args: ReadonlyPartialJSONObject): string =>
      (args.project as string | undefined) || model.project;

    /** The prompt named in args, else the current prompt view's, else asked. */
    const promptOf = async (
      args: ReadonlyPartialJSONObject
    ): Promise<{ project: string; name: string } | null> => {
      if (args.name) {
        return { project: projectOf(args), name: args.name as string };
      }
      const current = prompts.currentWidget?.content;
      if (current && current.name !== null) {
        return { project: current.project, name: current.name };
      }
      const result = await InputDialog.getText({
        title: 'LLM Lab prompt',
        label: `Prompt name in ${model.project || 'the current project'}`
      });
      if (!result.button.accept || !result.value) {
        return null;
      }
      return { project: model.project, name: result.value.trim() };
    };

    /** Show one tab of the sidebar. */
    const showTab = (tab: SidebarTab) => () => {
      sidebar.tab = tab;
      shell.activateById(sidebar.id);
    };

    /** The `name` argument of a command, or one asked for in a dialog ('' if cancelled). */
    const nameFrom = async (
      args: ReadonlyPartialJSONObject,
      title: string,
      what: string
    ): Promise<string> => {
      if (args.name) {
        return args.name as string;
      }
      const result = await InputDialog.getText({
        title,
        label: `${what} name in ${model.project}`
      });
      return result.button.accept ? (result.value ?? '').trim() : '';
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
      execute: args => openPrompt(projectOf(args), null)
    });

    commands.addCommand(CommandIDs.openPrompt, {
      label: args => (args.name ? `Open Prompt ${args.name}` : 'Open Prompt…'),
      execute: async args => {
        const target = await promptOf(args);
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
        const target = await promptOf(args);
        return target ? openPrompt(target.project, target.name, 'edit') : null;
      }
    });

    commands.addCommand(CommandIDs.diffVersions, {
      label: 'Diff Prompt Versions…',
      caption: 'Compare two versions of a prompt side by side',
      execute: async args => {
        const target = await promptOf(args);
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
        const target = await promptOf(args);
        return target
          ? openPrompt(target.project, target.name, 'labels')
          : null;
      }
    });

    commands.addCommand(CommandIDs.insertPrompt, {
      label: 'Insert Prompt into Notebook…',
      caption: 'Insert a cell that loads a prompt into the active notebook',
      execute: async args => {
        let ref: IPromptRef | null = null;
        if (args.name) {
          ref = {
            project: projectOf(args),
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
      label: args =>
        args.name ? `Open Dataset ${args.name}` : 'Open Dataset…',
      execute: async args => {
        const name = await nameFrom(args, 'Open dataset', 'Dataset');
        return name ? openDataset(projectOf(args), name) : null;
      }
    });

    commands.addCommand(CommandIDs.uploadDataset, {
      label: 'Upload Dataset…',
      caption: 'Upload a CSV, JSONL or Parquet file as a dataset version',
      isEnabled: () => !!model.project,
      execute: args => {
        const project = projectOf(args);
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
          projectOf(args),
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
        const name = await nameFrom(args, 'Open experiment', 'Experiment');
        return name ? openExperiment(projectOf(args), name) : null;
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
          ? openJob(projectOf(args), id)
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

    if (restorer) {
      restorer.add(sidebar, 'llmlab-sidebar');
      void restorer.restore(prompts, {
        command: CommandIDs.openPrompt,
        args: widget => ({
          project: widget.content.project,
          name: widget.content.name ?? ''
        }),
        name: widget => `${widget.content.project}/${widget.content.name ?? ''}`
      });
      void restorer.restore(datasets, {
        command: CommandIDs.openDataset,
        args: widget => ({
          project: widget.content.project,
          name: widget.content.name
        }),
        name: widget => `${widget.content.project}/${widget.content.name}`
      });
      void restorer.restore(experiments, {
        command: CommandIDs.openExperiment,
        args: widget => ({
          project: widget.content.project,
          name: widget.content.name
        }),
        name: widget => `${widget.content.project}/${widget.content.name}`
      });
      void restorer.restore(jobs, {
        command: CommandIDs.openJob,
        args: widget => ({
          project: widget.content.project,
          id: widget.content.jobId
        }),
        name: widget => `${widget.content.project}/${widget.content.jobId}`
      });
    }

    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings) => {
        model.settings = {
          defaultProject:
            (settings.get('defaultProject').composite as string) ??
            DEFAULT_SETTINGS.defaultProject,
          pageSize:
            (settings.get('pageSize').composite as number) ??
            DEFAULT_SETTINGS.pageSize
        };
      };
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          apply(settings);
          settings.changed.connect(apply);
          const preferred = model.settings.defaultProject;
          if (preferred && preferred !== model.project) {
            model.project = preferred;
            model.requestRefresh();
          }
        })
        .catch(reason => {
          console.error('llmlab-jupyter: cannot load settings', reason);
        });
    }

    return client;
  }
};

export default plugin;
