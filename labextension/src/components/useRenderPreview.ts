/**
 * The Edit tab's live preview: detect the template's variables on the server
 * and render it with the values given so far, debounced, as you type.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import type { IRenderPreview, Template } from '../types';
import { templateToText } from '../utils';

export function useRenderPreview(
  model: LlmLabModel,
  project: string,
  template: Template,
  values: Record<string, string>
): { preview: IRenderPreview | null; previewError: unknown } {
  const [preview, setPreview] = React.useState<IRenderPreview | null>(null);
  const [previewError, setPreviewError] = React.useState<unknown>(null);

  // live variable detection and preview, debounced
  React.useEffect(() => {
    const controller = new AbortController();
    const timer = window.setTimeout(async () => {
      try {
        const detected = await model.client.renderPreview(
          project,
          template,
          undefined,
          controller.signal
        );
        if (detected.error || detected.variables.length === 0) {
          const result =
            detected.error || templateToText(template) === ''
              ? detected
              : await model.client.renderPreview(
                  project,
                  template,
                  {},
                  controller.signal
                );
          setPreview(result);
        } else {
          const vars: Record<string, string> = {};
          for (const variable of detected.variables) {
            vars[variable] = values[variable] ?? `‹${variable}›`;
          }
          const rendered = await model.client.renderPreview(
            project,
            template,
            vars,
            controller.signal
          );
          setPreview({ ...rendered, variables: detected.variables });
        }
        setPreviewError(null);
      } catch (err) {
        if (!controller.signal.aborted) {
          setPreviewError(err);
        }
      }
    }, 300);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [model, project, template, values]);

  return { preview, previewError };
}
