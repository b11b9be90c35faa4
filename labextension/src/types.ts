/**
 * The wire types of the LLM Lab REST API: interfaces and the few constants
 * that enumerate their values. Imports nothing, so every module can use them.
 *
 * The types mirror the server's pydantic models (snake_case, as on the wire).
 */
/** A page of a listing; `next_offset` is null on the last page. */
export interface IPage<T> {
  items: T[];
  next_offset: number | null;
}

export type Role = 'owner' | 'editor' | 'viewer';

export interface IProject {
  slug: string;
  title: string;
  role: Role | null;
  created_at: string;
  created_by: string;
}

export type PromptKind = 'text' | 'chat';

export type MessageRole =
  'system' | 'user' | 'assistant' | 'tool' | 'developer';

export const MESSAGE_ROLES: MessageRole[] = [
  'system',
  'user',
  'assistant',
  'tool',
  'developer'
];

export interface IChatMessage {
  role: MessageRole;
  content: string;
}

export type Template = string | IChatMessage[];

export interface IPrompt {
  project: string;
  name: string;
  description: string;
  kind: PromptKind;
  latest_version: number;
  /** label name → version number */
  labels: Record<string, number>;
  created_at: string;
  created_by: string;
  updated_at: string;
}

export interface IPromptVersion {
  project: string;
  prompt: string;
  number: number;
  kind: PromptKind;
  template: Template;
  variables: string[];
  declared_variables: string[];
  model: string | null;
  params: Record<string, unknown>;
  message: string;
  content_hash: string;
  parent: number | null;
  labels: string[];
  created_at: string;
  created_by: string;
}

export interface ICreatePromptVersion {
  template: Template;
  kind?: PromptKind;
  variables?: string[];
  model?: string | null;
  params?: Record<string, unknown>;
  message?: string;
  description?: string;
}

export interface ISaveResult {
  version: IPromptVersion;
  created: boolean;
}

export interface IDiff {
  diff: string;
  a: IPromptVersion;
  b: IPromptVersion;
}

export interface ILabel {
  project: string;
  prompt: string;
  name: string;
  version: number;
  updated_at: string;
  updated_by: string;
}

export interface ILabelEvent {
  label: string;
  from_version: number | null;
  to_version: number | null;
  created_at: string;
  created_by: string;
}

export interface ITemplateError {
  message: string;
  error_code: string;
  field?: string | null;
  line?: number | null;
}

export interface IRenderPreview {
  variables: string[];
  rendered?: Template | null;
  error?: ITemplateError | null;
}

export interface IRendered {
  rendered: Template;
}

export type ColumnType =
  'string' | 'integer' | 'number' | 'boolean' | 'datetime' | 'json';

export interface IColumn {
  name: string;
  type: ColumnType;
}

export interface IDataset {
  project: string;
  name: string;
  description: string;
  latest_version: number;
  created_at: string;
  created_by: string;
  updated_at: string;
}

export interface IDatasetVersion {
  project: string;
  dataset: string;
  number: number;
  content_hash: string;
  columns: IColumn[];
  row_count: number;
  source_format: string;
  message: string;
  created_at: string;
  created_by: string;
}

export interface IDatasetRows {
  items: Record<string, unknown>[];
  next_offset: number | null;
  total: number;
}

export interface IDatasetSaveResult {
  version: IDatasetVersion;
  created: boolean;
}

export type DatasetFormat = 'csv' | 'jsonl' | 'parquet';

/** The body of every error reply of the server. */
export interface IErrorBody {
  message: string;
  error_code: string;
  field?: string | null;
  line?: number | null;
}

export type ExperimentStatus =
  | 'created'
  | 'running'
  | 'completed'
  | 'interrupted'
  | 'failed'
  | 'cancelled'
  | 'budget_exceeded';

/** One arm of an experiment: a prompt version × a model (× parameters). */
export interface IVariant {
  idx: number;
  name: string;
  prompt: string;
  prompt_version: number;
  prompt_hash: string;
  model: string;
  params: Record<string, unknown>;
}

export interface IExperiment {
  project: string;
  name: string;
  description: string;
  dataset: string;
  dataset_version: number;
  dataset_hash: string;
  status: ExperimentStatus;
  variants: IVariant[];
  /** Built scorer descriptions: `{type, name?, ...options}`. */
  scorers: Record<string, unknown>[];
  settings: Record<string, unknown>;
  budget_usd: number | null;
  spent_usd: number;
  total_items: number;
  completed_items: number;
  error_items: number;
  package_version: string;
  message: string;
  created_at: string;
  created_by: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
}

/** An experiment and whether the server is running it right now. */
export interface IExperimentState {
  experiment: IExperiment;
  active: boolean;
}

export interface IVariantSpec {
  prompt: string;
  version?: number;
  label?: string;
  model?: string;
  params?: Record<string, unknown>;
}

export interface ICreateExperiment {
  /** `name` (latest version) or `name@N`. */
  dataset: string;
  /** `name@N` references or full specs. */
  variants: (string | IVariantSpec)[];
  models?: string[];
  scorers?: (string | Record<string, unknown>)[];
  name?: string;
  description?: string;
  budget_usd?: number;
  concurrency?: number;
  use_cache?: boolean;
  start?: boolean;
}

/** One result row: inputs, output (untrusted text), scores, provenance. */
export interface IExperimentResult {
  row_idx: number;
  variant: string;
  variant_idx: number;
  prompt: string;
  prompt_version: number;
  model: string;
  input: Record<string, unknown>;
  output: string | null;
  error: string | null;
  error_code?: string | null;
  latency_ms: number | null;
  cost_usd: number | null;
  cache_hit?: boolean;
  scores: Record<string, number | null>;
  [key: string]: unknown;
}

export interface IExperimentResults {
  items: IExperimentResult[];
  next_offset: number | null;
  total: number;
}

/**
 * One variant of a summary: fixed columns, then `<scorer>.mean`, `.ci_low`,
 * `.ci_high` and, against the baseline, `.wins`, `.losses`, `.ties`.
 */
export interface ISummaryRow {
  variant: string;
  variant_idx: number;
  prompt: string;
  model: string;
  results: number;
  errors: number;
  error_rate: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  cost_usd: number;
  [key: string]: unknown;
}

export type JobState =
  'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINAL_JOB_STATES: JobState[] = [
  'succeeded',
  'failed',
  'cancelled'
];

export interface IJob {
  id: number;
  project: string;
  template: string;
  parameters: Record<string, unknown>;
  state: JobState;
  executor: string;
  idempotency_key?: string | null;
  schedule?: string | null;
  scheduled_for?: string | null;
  attempts: number;
  max_attempts: number;
  timeout_s: number;
  cancel_requested?: boolean;
  /** Celery executor: when the queued job was last handed to the broker. */
  dispatched_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  error: string;
  result?: Record<string, unknown> | null;
  /** Artifact keys by kind: `notebook`, `report`, `result`. */
  artifacts: Record<string, string>;
  created_at: string;
  created_by: string;
}

export interface IJobLog {
  attempt: number;
  text: string;
  created_at: string;
}

export interface IJobLogs {
  items: IJobLog[];
  /** Pass as `after` to read only newer chunks. */
  next_after: number;
}
