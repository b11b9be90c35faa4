/**
 * Pure helpers: the notebook snippet, text forms of templates, dates.
 */
import type {
  ExperimentStatus,
  IExperiment,
  IPromptVersion,
  ISummaryRow,
  Template
} from './types';

/** A Python string literal for any text (JSON string syntax is valid Python). */
export function pyString(value: string): string {
  return JSON.stringify(value);
}

export interface IPromptRef {
  project: string;
  name: string;
  version?: number;
  label?: string;
}

/**
 * The cell inserted into a notebook: loads one prompt by version or by label
 * (never both; a version wins when both are given).
 */
export function promptSnippet(ref: IPromptRef): string {
  let selector = '';
  if (ref.version !== undefined && ref.version !== null) {
    selector = `, version=${Math.trunc(Number(ref.version))}`;
  } else if (ref.label) {
    selector = `, label=${pyString(ref.label)}`;
  }
  return [
    'from llmlab_jupyter import Lab',
    `lab = Lab(project=${pyString(ref.project)})`,
    `prompt = lab.prompts.get(${pyString(ref.name)}${selector})`,
    'prompt'
  ].join('\n');
}

/** A template as plain text: chat messages as `### role` sections. */
export function templateToText(template: Template): string {
  if (typeof template === 'string') {
    return template;
  }
  return template
    .map(message => `### ${message.role}\n${message.content}`)
    .join('\n\n');
}

/** The text compared by the diff view: the template, then the settings. */
export function versionToDiffText(version: IPromptVersion): string {
  const lines = [templateToText(version.template), '', '---'];
  lines.push(`model: ${version.model ?? '(none)'}`);
  lines.push(`params: ${JSON.stringify(version.params ?? {})}`);
  lines.push(`variables: ${version.variables.join(', ') || '(none)'}`);
  return lines.join('\n');
}

/** A short local date-time for tables, the full ISO string for tooltips. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  });
}

/** Any cell value as display text (objects as JSON). */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** Parse the parameters box: empty means `{}`; anything else must be an object. */
export function parseParams(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (!trimmed) {
    return {};
  }
  const value = JSON.parse(trimmed) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(
      'Parameters must be a JSON object, e.g. {"temperature": 0}'
    );
  }
  return value as Record<string, unknown>;
}

/** The cell of "Open comparison in a notebook": the experiment's comparison widget. */
export function experimentSnippet(project: string, name: string): string {
  return [
    'from llmlab_jupyter import Lab',
    `lab = Lab(project=${pyString(project)})`,
    `exp = lab.experiments.get(${pyString(name)})`,
    'exp.compare()'
  ].join('\n');
}

/** Statuses after which nothing changes unless someone resumes the run. */
export const FINAL_EXPERIMENT_STATUSES: ExperimentStatus[] = [
  'completed',
  'failed',
  'cancelled'
];

/** Whether an experiment is (or may soon be) making progress: worth polling. */
export function experimentIsLive(status: ExperimentStatus, active: boolean) {
  return active || status === 'running';
}

/** Completed share of the planned items, 0–100 (0 when nothing is planned). */
export function progressPercent(exp: {
  completed_items: number;
  total_items: number;
}): number {
  if (!exp.total_items) {
    return 0;
  }
  return Math.min(
    100,
    Math.max(0, Math.round((100 * exp.completed_items) / exp.total_items))
  );
}

/** The scorer names of an experiment (a scorer's `name`, else its `type`). */
export function scorerNames(exp: IExperiment): string[] {
  return exp.scorers.map(spec =>
    String((spec.name as string | undefined) ?? spec.type ?? '')
  );
}

/** A number for a table: `—` when missing, else `digits` decimals. */
export function formatNumber(value: unknown, digits = 3): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return '—';
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** Dollars: four decimals below a cent, else two. */
export function formatUsd(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return '—';
  }
  return value !== 0 && Math.abs(value) < 0.01
    ? `$${value.toFixed(4)}`
    : `$${value.toFixed(2)}`;
}

/** Milliseconds, as `12 ms` or `1.20 s`. */
export function formatMs(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return '—';
  }
  return value >= 1000
    ? `${(value / 1000).toFixed(2)} s`
    : `${Math.round(value)} ms`;
}

/** One scorer's cells in a summary row: mean with its CI, and W/L/T vs the baseline. */
export function scorerCells(
  row: ISummaryRow,
  scorer: string,
  baseline = 0
): { mean: string; ci: string; wlt: string } {
  const mean = row[`${scorer}.mean`];
  const low = row[`${scorer}.ci_low`];
  const high = row[`${scorer}.ci_high`];
  const wins = row[`${scorer}.wins`];
  const hasCi =
    typeof low === 'number' &&
    Number.isFinite(low) &&
    typeof high === 'number' &&
    Number.isFinite(high);
  let wlt = '—';
  if (row.variant_idx === baseline) {
    wlt = 'baseline';
  } else if (typeof wins === 'number') {
    wlt = `${wins}/${row[`${scorer}.losses`] ?? 0}/${row[`${scorer}.ties`] ?? 0}`;
  }
  return {
    mean: formatNumber(mean),
    ci: hasCi ? `[${formatNumber(low)}, ${formatNumber(high)}]` : '',
    wlt
  };
}

/** The form field a server validation error belongs to (null: the whole form). */
export type ExperimentFormField =
  'name' | 'variants' | 'models' | 'dataset' | 'scorers' | 'budget';

export function experimentFieldOf(
  field: string | null | undefined
): ExperimentFormField | null {
  if (!field) {
    return null;
  }
  const head = field.split(/[.[]/, 1)[0];
  switch (head) {
    case 'name':
      return 'name';
    case 'variants':
    case 'prompt':
    case 'version':
    case 'label':
      return 'variants';
    case 'models':
    case 'model':
      return 'models';
    case 'dataset':
      return 'dataset';
    case 'scorers':
    case 'scorer':
    case 'type':
    case 'column':
    case 'value':
    case 'threshold':
    case 'pattern':
    case 'schema':
      return 'scorers';
    case 'budget_usd':
      return 'budget';
    default:
      return null;
  }
}

/**
 * The scorers of the new-experiment form: the checked built-ins, then the
 * optional JSON spec (one object or a list of strings/objects).
 */
export function parseScorers(
  checked: string[],
  specText: string
): (string | Record<string, unknown>)[] {
  const out: (string | Record<string, unknown>)[] = [...checked];
  const trimmed = specText.trim();
  if (!trimmed) {
    return out;
  }
  const value = JSON.parse(trimmed) as unknown;
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) {
    if (
      typeof item === 'string' ||
      (item !== null && typeof item === 'object' && !Array.isArray(item))
    ) {
      out.push(item as string | Record<string, unknown>);
    } else {
      throw new Error(
        'A scorer spec is a name or an object such as {"type": "contains", "name": "has-paris"}'
      );
    }
  }
  return out;
}
