/**
 * Reading command arguments: the project, prompt or item name a command acts
 * on, taken from its args, else the current view or sidebar, else asked for
 * in a dialog.
 */
import {
  InputDialog,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { LlmLabModel } from '../model';
import { PromptWidget } from '../widgets';

/** Parse "name", "name@3" or "name@production". */
export function parseRef(text: string): {
  name: string;
  version?: number;
  label?: string;
} {
  const [name, selector] = text.trim().split('@', 2);
  if (!selector) {
    return { name };
  }
  return /^\d+$/.test(selector)
    ? { name, version: Number(selector) }
    : { name, label: selector };
}

/** The project named in args, else the sidebar's. */
export function projectOf(
  model: LlmLabModel,
  args: ReadonlyPartialJSONObject
): string {
  return (args.project as string | undefined) || model.project;
}

/** The prompt named in args, else the current prompt view's, else asked. */
export async function promptOf(
  model: LlmLabModel,
  prompts: WidgetTracker<MainAreaWidget<PromptWidget>>,
  args: ReadonlyPartialJSONObject
): Promise<{ project: string; name: string } | null> {
  if (args.name) {
    return { project: projectOf(model, args), name: args.name as string };
  }
  const current = prompts.currentWidget?.content;
  if (current && current.name !== null) {
    return { project: current.project, name: current.name };
  }
  const result = await InputDialog.getText({
    title: 'LLM Lab prompt',
    label: `Prompt name in ${model.project || 'the current project'}`
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  return { project: model.project, name: result.value.trim() };
}

/** The `name` argument of a command, or one asked for in a dialog ('' if cancelled). */
export async function nameFrom(
  model: LlmLabModel,
  args: ReadonlyPartialJSONObject,
  title: string,
  what: string
): Promise<string> {
  if (args.name) {
    return args.name as string;
  }
  const result = await InputDialog.getText({
    title,
    label: `${what} name in ${model.project}`
  });
  return result.button.accept ? (result.value ?? '').trim() : '';
}
