/**
 * A typed client of the LLM Lab REST API; one method per route.
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI, seg, IRequestOptions } from './request';
import type {
  DatasetFormat,
  ICreatePromptVersion,
  IDataset,
  IDatasetRows,
  IDatasetSaveResult,
  IDatasetVersion,
  IDiff,
  ILabel,
  ILabelEvent,
  IPage,
  IProject,
  IPrompt,
  IPromptVersion,
  IRenderPreview,
  IRendered,
  ISaveResult,
  Template
} from './tokens';

export type PromptSort = 'name' | '-name' | 'updated_at' | '-updated_at';

export interface IListPromptsQuery {
  search?: string;
  label?: string;
  limit?: number;
  offset?: number;
  sort?: PromptSort;
}

export class LlmLabClient {
  /**
   * @param settings - server settings; the default reads the page's base URL,
   *   token and XSRF cookie like every JupyterLab service.
   */
  constructor(settings?: ServerConnection.ISettings) {
    this.settings = settings ?? ServerConnection.makeSettings();
  }

  readonly settings: ServerConnection.ISettings;

  private call<T>(endPoint: string, options?: IRequestOptions): Promise<T> {
    return requestAPI<T>(endPoint, options, this.settings);
  }

  // projects
  listProjects(offset = 0, limit = 500): Promise<IPage<IProject>> {
    return this.call('projects', { query: { offset, limit } });
  }

  createProject(slug: string, title = ''): Promise<IProject> {
    return this.call('projects', { method: 'POST', json: { slug, title } });
  }

  // prompts
  listPrompts(
    project: string,
    query: IListPromptsQuery = {}
  ): Promise<IPage<IPrompt>> {
    return this.call(`projects/${seg(project)}/prompts`, {
      query: { ...query }
    });
  }

  getPrompt(project: string, name: string): Promise<IPrompt> {
    return this.call(this.promptPath(project, name));
  }

  listVersions(
    project: string,
    name: string,
    offset = 0,
    limit = 100
  ): Promise<IPage<IPromptVersion>> {
    return this.call(`${this.promptPath(project, name)}/versions`, {
      query: { offset, limit }
    });
  }

  /** Every version of a prompt, newest first (follows the pages). */
  async allVersions(project: string, name: string): Promise<IPromptVersion[]> {
    const items: IPromptVersion[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page: IPage<IPromptVersion> = await this.listVersions(
        project,
        name,
        offset,
        200
      );
      items.push(...page.items);
      offset = page.items.length > 0 ? page.next_offset : null;
    }
    return items;
  }

  getVersion(
    project: string,
    name: string,
    number: number
  ): Promise<IPromptVersion> {
    return this.call(
      `${this.promptPath(project, name)}/versions/${seg(number)}`
    );
  }

  saveVersion(
    project: string,
    name: string,
    body: ICreatePromptVersion
  ): Promise<ISaveResult> {
    return this.call(`${this.promptPath(project, name)}/versions`, {
      method: 'POST',
      json: body
    });
  }

  diff(project: string, name: string, a: number, b: number): Promise<IDiff> {
    return this.call(`${this.promptPath(project, name)}/diff`, {
      query: { a, b }
    });
  }

  setLabel(
    project: string,
    name: string,
    label: string,
    version: number
  ): Promise<ILabel> {
    return this.call(`${this.promptPath(project, name)}/labels/${seg(label)}`, {
      method: 'PUT',
      json: { version }
    });
  }

  async removeLabel(
    project: string,
    name: string,
    label: string
  ): Promise<void> {
    await this.call<void>(
      `${this.promptPath(project, name)}/labels/${seg(label)}`,
      { method: 'DELETE' }
    );
  }

  labelHistory(
    project: string,
    name: string,
    label?: string
  ): Promise<{ items: ILabelEvent[] }> {
    return this.call(`${this.promptPath(project, name)}/labels/history`, {
      query: { label }
    });
  }

  render(
    project: string,
    name: string,
    variables: Record<string, unknown>,
    ref: { version?: number; label?: string } = {}
  ): Promise<IRendered> {
    return this.call(`${this.promptPath(project, name)}/render`, {
      method: 'POST',
      json: { variables, ...ref }
    });
  }

  renderPreview(
    project: string,
    template: Template,
    variables?: Record<string, unknown>,
    signal?: AbortSignal
  ): Promise<IRenderPreview> {
    return this.call(`projects/${seg(project)}/render-preview`, {
      method: 'POST',
      json: variables ? { template, variables } : { template },
      signal
    });
  }

  // datasets
  listDatasets(
    project: string,
    query: { search?: string; offset?: number; limit?: number } = {}
  ): Promise<IPage<IDataset>> {
    return this.call(`projects/${seg(project)}/datasets`, {
      query: { ...query }
    });
  }

  listDatasetVersions(
    project: string,
    name: string
  ): Promise<IPage<IDatasetVersion>> {
    return this.call(`${this.datasetPath(project, name)}/versions`, {
      query: { limit: 200 }
    });
  }

  datasetRows(
    project: string,
    name: string,
    number: number,
    offset = 0,
    limit = 50
  ): Promise<IDatasetRows> {
    return this.call(
      `${this.datasetPath(project, name)}/versions/${seg(number)}/rows`,
      { query: { offset, limit } }
    );
  }

  uploadDataset(
    project: string,
    name: string,
    file: Blob,
    format: DatasetFormat,
    message = ''
  ): Promise<IDatasetSaveResult> {
    const types: Record<DatasetFormat, string> = {
      csv: 'text/csv',
      jsonl: 'application/x-ndjson',
      parquet: 'application/octet-stream'
    };
    return this.call(`${this.datasetPath(project, name)}/versions`, {
      method: 'POST',
      query: { format, message },
      body: file,
      contentType: types[format]
    });
  }

  private promptPath(project: string, name: string): string {
    return `projects/${seg(project)}/prompts/${seg(name)}`;
  }

  private datasetPath(project: string, name: string): string {
    return `projects/${seg(project)}/datasets/${seg(name)}`;
  }
}

/** The format of an uploaded file, from its name. */
export function formatFromFileName(fileName: string): DatasetFormat | null {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) {
    return 'csv';
  }
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) {
    return 'jsonl';
  }
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) {
    return 'parquet';
  }
  return null;
}
