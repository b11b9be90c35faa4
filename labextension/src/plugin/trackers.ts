/**
 * The widget trackers of the main-area views and the layout restorer wiring
 * that reopens them (and the sidebar) when JupyterLab starts again.
 */
import { ILayoutRestorer } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';

import { CommandIDs } from '../tokens';
import {
  DatasetWidget,
  ExperimentWidget,
  JobWidget,
  PromptWidget,
  SidebarWidget
} from '../widgets';

/** One tracker per kind of main-area view that is restored. */
export interface ITrackers {
  prompts: WidgetTracker<MainAreaWidget<PromptWidget>>;
  datasets: WidgetTracker<MainAreaWidget<DatasetWidget>>;
  experiments: WidgetTracker<MainAreaWidget<ExperimentWidget>>;
  jobs: WidgetTracker<MainAreaWidget<JobWidget>>;
}

export function createTrackers(): ITrackers {
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
  return { prompts, datasets, experiments, jobs };
}

/** Restore the sidebar and every tracked view through its open command. */
export function restoreLayout(
  restorer: ILayoutRestorer,
  sidebar: SidebarWidget,
  trackers: ITrackers
): void {
  const { prompts, datasets, experiments, jobs } = trackers;
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
