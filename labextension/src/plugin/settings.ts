/**
 * The extension's settings: load them into the model, follow their changes,
 * and switch to the preferred default project once they are loaded.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { DEFAULT_SETTINGS, LlmLabModel } from '../model';
import { PLUGIN_ID } from '../tokens';

export function connectSettings(
  settingRegistry: ISettingRegistry,
  model: LlmLabModel
): void {
  const apply = (settings: ISettingRegistry.ISettings) => {
    model.settings = {
      defaultProject:
        (settings.get('defaultProject').composite as string) ??
        DEFAULT_SETTINGS.defaultProject,
      pageSize:
        (settings.get('pageSize').composite as number) ??
        DEFAULT_SETTINGS.pageSize
    };
  };
  settingRegistry
    .load(PLUGIN_ID)
    .then(settings => {
      apply(settings);
      settings.changed.connect(apply);
      const preferred = model.settings.defaultProject;
      if (preferred && preferred !== model.project) {
        model.project = preferred;
        model.requestRefresh();
      }
    })
    .catch(reason => {
      console.error('llmlab-jupyter: cannot load settings', reason);
    });
}
