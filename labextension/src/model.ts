/**
 * The state shared by the sidebar and the main-area views: the API client,
 * the user's settings, and a signal fired whenever something was saved.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { LlmLabClient } from './api';

export interface ILlmLabSettings {
  /** Project selected when the sidebar opens ('' = the server's default). */
  defaultProject: string;
  /** Prompts fetched per request while scrolling the list. */
  pageSize: number;
}

export const DEFAULT_SETTINGS: ILlmLabSettings = {
  defaultProject: '',
  pageSize: 100
};

/** What changed, so views reload only what they show. */
export interface IChange {
  kind: 'prompt' | 'dataset' | 'project' | 'experiment' | 'job';
  project: string;
  name?: string;
}

export class LlmLabModel {
  constructor(client: LlmLabClient) {
    this.client = client;
  }

  readonly client: LlmLabClient;

  get settings(): ILlmLabSettings {
    return this._settings;
  }

  set settings(value: ILlmLabSettings) {
    this._settings = value;
    this._settingsChanged.emit(value);
  }

  get settingsChanged(): ISignal<this, ILlmLabSettings> {
    return this._settingsChanged;
  }

  /** The project selected in the sidebar ('' until the projects load). */
  get project(): string {
    return this._project;
  }

  set project(value: string) {
    if (value !== this._project) {
      this._project = value;
      this._projectChanged.emit(value);
    }
  }

  get projectChanged(): ISignal<this, string> {
    return this._projectChanged;
  }

  /** Fired after a save, a label move or an upload. */
  get changed(): ISignal<this, IChange> {
    return this._changed;
  }

  notifyChanged(change: IChange): void {
    this._changed.emit(change);
  }

  /** Ask the sidebar to reload (the `llmlab:refresh` command). */
  get refreshRequested(): ISignal<this, void> {
    return this._refreshRequested;
  }

  requestRefresh(): void {
    this._refreshRequested.emit();
  }

  private _settings: ILlmLabSettings = { ...DEFAULT_SETTINGS };
  private _settingsChanged = new Signal<this, ILlmLabSettings>(this);
  private _project = '';
  private _projectChanged = new Signal<this, string>(this);
  private _changed = new Signal<this, IChange>(this);
  private _refreshRequested = new Signal<this, void>(this);
}
