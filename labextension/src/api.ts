/**
 * A typed client of the LLM Lab REST API; one method per route.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE, requestAPI, seg, IRequestOptions } from './request';
import type {
  DatasetFormat,
  ExperimentStatus,
  ICreateExperiment,
  IExperimentResults,
  IExperimentState,
  IExperiment,
  IJob,
  IJobLogs,
  ISummaryRow,
  JobState,
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
} from './types';

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

  // experiments
  listExperiments(
    project: string,
    query: { status?: ExperimentStatus; offset?: number; limit?: number } = {}
  ): Promise<IPage<IExperiment>> {
    return this.call(`projects/${seg(project)}/experiments`, {
      query: { ...query }
    });
  }

  getExperiment(
    project: string,
    name: string,
    signal?: AbortSignal
  ): Promise<IExperimentState> {
    return this.call(this.experimentPath(project, name), { signal });
  }

  /** Plan an experiment and (unless `start: false`) start it in the background. */
  createExperiment(
    project: string,
    body: ICreateExperiment
  ): Promise<IExperimentState> {
    return this.call(`projects/${seg(project)}/experiments`, {
      method: 'POST',
      json: body
    });
  }

  /** Start or resume (interrupted, budget-stopped) with an optional new budget. */
  startExperiment(
    project: string,
    name: string,
    budgetUsd?: number
  ): Promise<IExperimentState> {
    return this.call(`${this.experimentPath(project, name)}/start`, {
      method: 'POST',
      json: budgetUsd !== undefined ? { budget_usd: budgetUsd } : {}
    });
  }

  cancelExperiment(project: string, name: string): Promise<IExperimentState> {
    return this.call(`${this.experimentPath(project, name)}/cancel`, {
      method: 'POST'
    });
  }

  experimentSummary(
    project: string,
    name: string,
    query: { baseline?: number; confidence?: number } = {}
  ): Promise<{ items: ISummaryRow[] }> {
    return this.call(`${this.experimentPath(project, name)}/summary`, {
      query: { ...query }
    });
  }

  experimentResults(
    project: string,
    name: string,
    query: {
      variant?: number;
      errors_only?: boolean;
      search?: string;
      offset?: number;
      limit?: number;
    } = {}
  ): Promise<IExperimentResults> {
    return this.call(`${this.experimentPath(project, name)}/results`, {
      query: { ...query, errors_only: query.errors_only || undefined }
    });
  }

  // jobs
  listJobs(
    project: string,
    query: {
      state?: JobState;
      schedule?: string;
      offset?: number;
      limit?: number;
    } = {}
  ): Promise<IPage<IJob>> {
    return this.call(`projects/${seg(project)}/jobs`, { query: { ...query } });
  }

  getJob(project: string, id: number): Promise<IJob> {
    return this.call(this.jobPath(project, id));
  }

  /** Submit a job: a template (`<name>.ipynb`, or `builtin-sleep`) with parameters. */
  submitJob(
    project: string,
    template: string,
    parameters: Record<string, unknown> = {},
    options: { idempotency_key?: string; timeout_s?: number } = {}
  ): Promise<IJob> {
    return this.call(`projects/${seg(project)}/jobs`, {
      method: 'POST',
      json: { template, parameters, ...options }
    });
  }

  cancelJob(project: string, id: number): Promise<IJob> {
    return this.call(`${this.jobPath(project, id)}/cancel`, { method: 'POST' });
  }

  /** Log chunks after the first `after` ones (incremental reading). */
  jobLogs(project: string, id: number, after = 0): Promise<IJobLogs> {
    return this.call(`${this.jobPath(project, id)}/logs`, { query: { after } });
  }

  /**
   * The URL of a job's HTML report, to open in a new browser tab (the login
   * cookie authenticates it; the server sandboxes it with a CSP).
   */
  jobReportUrl(project: string, id: number): string {
    return this.url(`${this.jobPath(project, id)}/report`);
  }

  /** The URL of a job's executed notebook (served as an attachment). */
  jobNotebookUrl(project: string, id: number): string {
    return this.url(`${this.jobPath(project, id)}/notebook`);
  }

  private url(endPoint: string): string {
    return URLExt.join(this.settings.baseUrl, API_NAMESPACE, endPoint);
  }

  private experimentPath(project: string, name: string): string {
    return `projects/${seg(project)}/experiments/${seg(name)}`;
  }

  private jobPath(project: string, id: number): string {
    return `projects/${seg(project)}/jobs/${seg(id)}`;
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
