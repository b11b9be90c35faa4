/**
 * Lumino widgets hosting the React views: the sidebar, one main-area view
 * per prompt, dataset, experiment or job, and the upload and new-experiment
 * forms.
 */
import { IEditorServices } from '@jupyterlab/codeeditor';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { UploadForm } from './components/DatasetList';
import { DatasetView } from './components/DatasetView';
import { ExperimentView } from './components/ExperimentView';
import { JobView } from './components/JobView';
import { NewExperimentForm } from './components/NewExperimentForm';
import { IViewRequest, PromptView } from './components/PromptView';
import { Sidebar, SidebarTab } from './components/Sidebar';
import type { LlmLabModel } from './model';
import type {
  IDataset,
  IExperiment,
  IExperimentState,
  IJob,
  IPrompt
} from './types';
import type { IPromptRef } from './utils';

export interface ISidebarCallbacks {
  openPrompt: (project: string, prompt: IPrompt) => void;
  newPrompt: (project: string) => void;
  openDataset: (project: string, dataset: IDataset) => void;
  openExperiment?: (project: string, experiment: IExperiment) => void;
  newExperiment?: (project: string) => void;
  openJob?: (project: string, job: IJob) => void;
}

export class SidebarWidget extends ReactWidget {
  constructor(
    readonly model: LlmLabModel,
    private callbacks: ISidebarCallbacks
  ) {
    super();
    this.id = 'jp-llmlab-sidebar';
    this.addClass('jp-llmlab-SidebarWidget');
  }

  get tab(): SidebarTab {
    return this._tab;
  }

  set tab(value: SidebarTab) {
    this._tab = value;
    this.update();
  }

  render(): JSX.Element {
    return (
      <Sidebar
        model={this.model}
        tab={this._tab}
        onTabChange={tab => {
          this.tab = tab;
        }}
        onOpenPrompt={this.callbacks.openPrompt}
        onNewPrompt={this.callbacks.newPrompt}
        onOpenDataset={this.callbacks.openDataset}
        onOpenExperiment={this.callbacks.openExperiment}
        onNewExperiment={this.callbacks.newExperiment}
        onOpenJob={this.callbacks.openJob}
        isVisible={this.visibleCheck}
      />
    );
  }

  /** For polling views: whether the sidebar is on screen now. */
  private visibleCheck = () => this.isVisible;

  private _tab: SidebarTab = 'prompts';
}

export class PromptWidget extends ReactWidget {
  constructor(options: {
    model: LlmLabModel;
    editorServices: IEditorServices;
    project: string;
    name: string | null;
    onInsert: (ref: IPromptRef) => void;
    onNamed: (widget: PromptWidget, name: string) => void;
  }) {
    super();
    this.model = options.model;
    this.editorServices = options.editorServices;
    this.project = options.project;
    this._name = options.name;
    this.onInsert = options.onInsert;
    this.onNamed = options.onNamed;
    this.addClass('jp-llmlab-PromptWidget');
  }

  readonly model: LlmLabModel;
  readonly editorServices: IEditorServices;
  readonly project: string;

  /** The prompt's name; null until a new prompt is first saved. */
  get name(): string | null {
    return this._name;
  }

  /** Show a tab (and versions, for the diff). */
  showTab(request: IViewRequest): void {
    this._request = { ...request };
    this.update();
  }

  render(): JSX.Element {
    return (
      <PromptView
        key={this._name ?? '(new)'}
        model={this.model}
        editorServices={this.editorServices}
        project={this.project}
        name={this._name}
        request={this._request}
        onInsert={this.onInsert}
        onNamed={name => {
          this._name = name;
          this._request = { tab: 'versions' };
          this.onNamed(this, name);
          this.update();
        }}
      />
    );
  }

  private _name: string | null;
  private _request: IViewRequest | null = null;
  private onInsert: (ref: IPromptRef) => void;
  private onNamed: (widget: PromptWidget, name: string) => void;
}

export class DatasetWidget extends ReactWidget {
  constructor(
    readonly model: LlmLabModel,
    readonly project: string,
    readonly name: string
  ) {
    super();
    this.addClass('jp-llmlab-DatasetWidget');
  }

  render(): JSX.Element {
    return (
      <DatasetView model={this.model} project={this.project} name={this.name} />
    );
  }
}

export class UploadWidget extends ReactWidget {
  constructor(
    readonly model: LlmLabModel,
    readonly project: string,
    private onDone: () => void
  ) {
    super();
    this.addClass('jp-llmlab-UploadWidget');
  }

  render(): JSX.Element {
    return (
      <div className="jp-llmlab-PromptView">
        <header className="jp-llmlab-PromptView-header">
          <h2 className="jp-llmlab-title">{`Upload a dataset to ${this.project}`}</h2>
        </header>
        <UploadForm
          model={this.model}
          project={this.project}
          onDone={this.onDone}
        />
      </div>
    );
  }
}

export class ExperimentWidget extends ReactWidget {
  constructor(options: {
    model: LlmLabModel;
    project: string;
    name: string;
    onOpenNotebook: (project: string, name: string) => Promise<unknown>;
  }) {
    super();
    this.model = options.model;
    this.project = options.project;
    this.name = options.name;
    this.onOpenNotebook = options.onOpenNotebook;
    this.addClass('jp-llmlab-ExperimentWidget');
  }

  readonly model: LlmLabModel;
  readonly project: string;
  readonly name: string;

  render(): JSX.Element {
    return (
      <ExperimentView
        model={this.model}
        project={this.project}
        name={this.name}
        isVisible={this.visibleCheck}
        onOpenNotebook={this.onOpenNotebook}
      />
    );
  }

  private visibleCheck = () => this.isVisible;
  private onOpenNotebook: (project: string, name: string) => Promise<unknown>;
}

export class NewExperimentWidget extends ReactWidget {
  constructor(
    readonly model: LlmLabModel,
    readonly project: string,
    private onCreated: (state: IExperimentState) => void,
    private onCancel: () => void,
    private variants: string[] = []
  ) {
    super();
    this.addClass('jp-llmlab-NewExperimentWidget');
  }

  render(): JSX.Element {
    return (
      <div className="jp-llmlab-PromptView">
        <header className="jp-llmlab-PromptView-header">
          <h2 className="jp-llmlab-title">{`New experiment in ${this.project}`}</h2>
        </header>
        <NewExperimentForm
          model={this.model}
          project={this.project}
          variants={this.variants}
          onCreated={this.onCreated}
          onCancel={this.onCancel}
        />
      </div>
    );
  }
}

export class JobWidget extends ReactWidget {
  constructor(
    readonly model: LlmLabModel,
    readonly project: string,
    readonly jobId: number
  ) {
    super();
    this.addClass('jp-llmlab-JobWidget');
  }

  render(): JSX.Element {
    return (
      <JobView
        model={this.model}
        project={this.project}
        id={this.jobId}
        isVisible={this.visibleCheck}
      />
    );
  }

  private visibleCheck = () => this.isVisible;
}
