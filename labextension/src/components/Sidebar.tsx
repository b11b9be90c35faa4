/**
 * The LLM Lab sidebar: a project picker, then Prompts, Datasets, Experiments
 * and Jobs tabs.
 */
import { InputDialog, Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { errorMessage } from '../request';
import type { IDataset, IExperiment, IJob, IProject, IPrompt } from '../types';
import { DatasetList } from './DatasetList';
import { ErrorBanner, TabBar } from './common';
import { ExperimentList } from './ExperimentList';
import { JobList } from './JobList';
import { VisibilityCheck, alwaysVisible } from './poll';
import { PromptList } from './PromptList';

export type SidebarTab = 'prompts' | 'datasets' | 'experiments' | 'jobs';

export interface ISidebarProps {
  model: LlmLabModel;
  onOpenPrompt: (project: string, prompt: IPrompt) => void;
  onNewPrompt: (project: string) => void;
  onOpenDataset: (project: string, dataset: IDataset) => void;
  onOpenExperiment?: (project: string, experiment: IExperiment) => void;
  onNewExperiment?: (project: string) => void;
  onOpenJob?: (project: string, job: IJob) => void;
  /** Whether the sidebar is on screen (live lists poll only then). */
  isVisible?: VisibilityCheck;
  /** The tab to show; changed by commands. */
  tab: SidebarTab;
  onTabChange: (tab: SidebarTab) => void;
}

export function Sidebar(props: ISidebarProps): JSX.Element {
  const { model, tab, onTabChange } = props;
  const [projects, setProjects] = React.useState<IProject[]>([]);
  const [project, setProject] = React.useState(model.project);
  const [error, setError] = React.useState<unknown>(null);
  const [reloadCount, setReloadCount] = React.useState(0);

  React.useEffect(() => {
    let cancelled = false;
    model.client
      .listProjects()
      .then(page => {
        if (cancelled) {
          return;
        }
        setProjects(page.items);
        setError(null);
        const slugs = page.items.map(p => p.slug);
        const preferred = [
          model.project,
          model.settings.defaultProject,
          'default',
          slugs[0]
        ].find(slug => slug && slugs.includes(slug));
        model.project = preferred ?? '';
      })
      .catch(err => {
        if (!cancelled) {
          setError(err);
        }
      });
    return () => {
      cancelled = true;
    };
  }, [model, reloadCount]);

  React.useEffect(() => {
    const onProject = (_: unknown, slug: string) => setProject(slug);
    const onRefresh = () => setReloadCount(count => count + 1);
    const onChanged = (_: unknown, change: { kind: string }) => {
      if (change.kind === 'project') {
        onRefresh();
      }
    };
    model.projectChanged.connect(onProject);
    model.refreshRequested.connect(onRefresh);
    model.changed.connect(onChanged);
    return () => {
      model.projectChanged.disconnect(onProject);
      model.refreshRequested.disconnect(onRefresh);
      model.changed.disconnect(onChanged);
    };
  }, [model]);

  const newProject = async () => {
    const result = await InputDialog.getText({
      title: 'New LLM Lab project',
      label: 'Project slug (lowercase letters, digits, - and _)',
      placeholder: 'my-project'
    });
    if (!result.button.accept || !result.value) {
      return;
    }
    try {
      const created = await model.client.createProject(result.value.trim());
      model.project = created.slug;
      model.notifyChanged({ kind: 'project', project: created.slug });
    } catch (err) {
      Notification.error(`Cannot create the project: ${errorMessage(err)}`);
    }
  };

  return (
    <div className="jp-llmlab-Sidebar">
      <div className="jp-llmlab-Sidebar-header">
        <h2 className="jp-llmlab-title">LLM Lab</h2>
      </div>
      <div className="jp-llmlab-toolbar">
        <select
          className="jp-llmlab-select jp-llmlab-grow"
          aria-label="Project"
          value={project}
          onChange={event => {
            model.project = event.target.value;
          }}
        >
          {projects.length === 0 && <option value="">No projects</option>}
          {projects.map(p => (
            <option key={p.slug} value={p.slug}>
              {p.title && p.title !== p.slug
                ? `${p.slug} — ${p.title}`
                : p.slug}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="jp-llmlab-icon-button"
          aria-label="New project"
          title="New project"
          onClick={() => void newProject()}
        >
          +
        </button>
        <button
          type="button"
          className="jp-llmlab-icon-button"
          aria-label="Refresh"
          title="Refresh"
          onClick={() => model.requestRefresh()}
        >
          ⟳
        </button>
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <TabBar<SidebarTab>
        tabs={[
          { id: 'prompts', label: 'Prompts' },
          { id: 'datasets', label: 'Datasets' },
          { id: 'experiments', label: 'Experiments' },
          { id: 'jobs', label: 'Jobs' }
        ]}
        current={tab}
        onChange={onTabChange}
        idPrefix="jp-llmlab-sidebar"
        ariaLabel="LLM Lab sections"
      />
      <div
        className="jp-llmlab-Sidebar-body"
        role="tabpanel"
        id={`jp-llmlab-sidebar-panel-${tab}`}
        aria-labelledby={`jp-llmlab-sidebar-tab-${tab}`}
      >
        {tab === 'prompts' && (
          <PromptList
            key={project}
            model={model}
            project={project}
            onOpen={prompt => props.onOpenPrompt(project, prompt)}
            onNew={() => props.onNewPrompt(project)}
          />
        )}
        {tab === 'datasets' && (
          <DatasetList
            key={project}
            model={model}
            project={project}
            onOpen={dataset => props.onOpenDataset(project, dataset)}
          />
        )}
        {tab === 'experiments' && (
          <ExperimentList
            key={project}
            model={model}
            project={project}
            onOpen={experiment => props.onOpenExperiment?.(project, experiment)}
            onNew={() => props.onNewExperiment?.(project)}
            isVisible={props.isVisible ?? alwaysVisible}
          />
        )}
        {tab === 'jobs' && (
          <JobList
            key={project}
            model={model}
            project={project}
            onOpen={job => props.onOpenJob?.(project, job)}
            isVisible={props.isVisible ?? alwaysVisible}
          />
        )}
      </div>
    </div>
  );
}
