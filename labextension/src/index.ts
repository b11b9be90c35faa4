/**
 * The LLM Lab JupyterLab extension: a sidebar to browse prompts and datasets,
 * main-area views to read, diff, edit and label prompt versions, and commands
 * (all in the palette under "LLM Lab") to drive them.
 *
 * This module only lists the plugins and the package's public exports; the
 * plugin itself is in `plugin/`.
 */
import { mainPlugin } from './plugin/main';

export { LlmLabClient } from './api';
export { requestAPI, LlmLabAPIError } from './request';
export * from './tokens';
export * from './types';

export default mainPlugin;
