/**
 * Opening the main-area views: one prompt, dataset, experiment or job view
 * per item (an open one is activated instead of opened twice) and the
 * new-experiment form.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { INotebookTracker } from '@jupyterlab/notebook';

import { PromptTab } from '../components/PromptView';
import { llmlabIcon } from '../icons';
import { LlmLabModel } from '../model';
import { IPromptRef } from '../utils';
import {
  DatasetWidget,
  ExperimentWidget,
  JobWidget,
  NewExperimentWidget,
  PromptWidget
} from '../widgets';
import { insertPrompt, openComparison } from './notebook';
import { ITrackers } from './trackers';

export interface IOpenersOptions {
  app: JupyterFrontEnd;
  model: LlmLabModel;
  editorServices: IEditorServices;
  notebooks: INotebookTracker;
  trackers: ITrackers;
}

/** The view openers the sidebar and the commands call. */
export interface IOpeners {
  insertPrompt: (ref: IPromptRef) => boolean;
  openPrompt: (
    project: string,
    name: string | null,
    tab?: PromptTab,
    a?: number,
    b?: number
  ) => MainAreaWidget<PromptWidget>;
  openDataset: (project: string, name: string) => MainAreaWidget<DatasetWidget>;
  openExperiment: (
    project: string,
    name: string
  ) => MainAreaWidget<ExperimentWidget>;
  newExperiment: (
    project: string,
    variants?: string[]
  ) => MainAreaWidget<NewExperimentWidget>;
  openJob: (project: string, id: number) => MainAreaWidget<JobWidget>;
}

export function createOpeners(options: IOpenersOptions): IOpeners {
  const { app, model, editorServices, notebooks } = options;
  const { prompts, datasets, experiments, jobs } = options.trackers;
  const { shell } = app;

  const promptKey = (project: string, name: string) =>
    `llmlab-prompt-${encodeURIComponent(project)}-${encodeURIComponent(name)}`;

  const findPrompt = (project: string, name: string) =>
    prompts.find(w => w.content.project === project && w.content.name === name);

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
        insertPrompt(notebooks, shell, ref);
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
      onOpenNotebook: (inProject, experiment) =>
        openComparison(app, inProject, experiment)
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

  return {
    insertPrompt: ref => insertPrompt(notebooks, shell, ref),
    openPrompt,
    openDataset,
    openExperiment,
    newExperiment,
    openJob
  };
}
