/**
 * Shared identifiers of the extension: the plugin id, the command ids and the
 * `ILlmLabClient` token. The wire types are in `types.ts`.
 */
import { Token } from '@lumino/coreutils';

import type { LlmLabClient } from './api';

/** The id of the main plugin, also the id of its settings. */
export const PLUGIN_ID = 'llmlab-jupyter:plugin';

/** Command ids: every one has a command-palette entry under "LLM Lab". */
export namespace CommandIDs {
  export const openSidebar = 'llmlab:open-sidebar';
  export const refresh = 'llmlab:refresh';
  export const newPrompt = 'llmlab:new-prompt';
  export const openPrompt = 'llmlab:open-prompt';
  export const editPrompt = 'llmlab:edit-prompt';
  export const diffVersions = 'llmlab:diff-versions';
  export const moveLabel = 'llmlab:move-label';
  export const insertPrompt = 'llmlab:insert-prompt';
  export const openDatasets = 'llmlab:open-datasets';
  export const openDataset = 'llmlab:open-dataset';
  export const uploadDataset = 'llmlab:upload-dataset';
  export const newExperiment = 'llmlab:new-experiment';
  export const openExperiments = 'llmlab:open-experiments';
  export const openExperiment = 'llmlab:open-experiment';
  export const openJobs = 'llmlab:open-jobs';
  export const openJob = 'llmlab:open-job';
}

/** The palette category of every command. */
export const PALETTE_CATEGORY = 'LLM Lab';

/** A token other extensions can require to talk to the LLM Lab server. */
export const ILlmLabClient = new Token<LlmLabClient>(
  'llmlab-jupyter:ILlmLabClient',
  'The LLM Lab REST API client.'
);
