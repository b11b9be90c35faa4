/**
 * Pure helpers: the notebook snippet, text forms of templates, dates.
 */
import type { IPromptVersion, Template } from './tokens';

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
