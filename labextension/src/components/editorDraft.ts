/**
 * The Edit tab's draft of a new version: its initial state from a base
 * version, and which form field a save error belongs to.
 */
import { LlmLabAPIError } from '../request';
import type { IChatMessage, IPromptVersion, PromptKind } from '../types';

export interface IDraft {
  kind: PromptKind;
  text: string;
  messages: IChatMessage[];
  model: string;
  params: string;
}

export function draftFrom(base: IPromptVersion | null): IDraft {
  if (!base) {
    return {
      kind: 'text',
      text: '',
      messages: [
        { role: 'system', content: '' },
        { role: 'user', content: '' }
      ],
      model: '',
      params: ''
    };
  }
  const isChat = typeof base.template !== 'string';
  return {
    kind: base.kind,
    text: isChat ? '' : (base.template as string),
    messages: isChat
      ? (base.template as IChatMessage[]).map(m => ({ ...m }))
      : [{ role: 'user', content: base.template as string }],
    model: base.model ?? '',
    params:
      Object.keys(base.params ?? {}).length > 0
        ? JSON.stringify(base.params, null, 2)
        : ''
  };
}

export function fieldOf(error: unknown): string {
  if (error instanceof LlmLabAPIError && error.field) {
    const field = error.field;
    for (const name of ['name', 'model', 'params', 'message', 'description']) {
      if (field === name || field.startsWith(`${name}.`)) {
        return name;
      }
    }
    if (field.startsWith('template') || field.startsWith('messages')) {
      return 'template';
    }
  }
  return '';
}
