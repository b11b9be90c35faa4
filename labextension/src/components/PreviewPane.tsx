/**
 * The Edit tab's side pane: the detected variables, each with a value for
 * the preview, and the rendered preview (as text, never as HTML).
 */
import * as React from 'react';

import type { IRenderPreview } from '../types';
import { templateToText } from '../utils';
import { ErrorBanner, TextBlock } from './common';

export interface IPreviewPaneProps {
  preview: IRenderPreview | null;
  previewError: unknown;
  values: Record<string, string>;
  setValues: React.Dispatch<React.SetStateAction<Record<string, string>>>;
}

export function PreviewPane(props: IPreviewPaneProps): JSX.Element {
  const { preview, previewError, values, setValues } = props;
  return (
    <aside className="jp-llmlab-editor-side" aria-label="Variables and preview">
      <h4 className="jp-llmlab-subtitle">Detected variables</h4>
      {(preview?.variables ?? []).length === 0 ? (
        <div className="jp-llmlab-empty">None</div>
      ) : (
        <ul className="jp-llmlab-vars" aria-label="Detected variables">
          {preview!.variables.map(variable => (
            <li key={variable}>
              <label className="jp-llmlab-field">
                <code className="jp-llmlab-var">{variable}</code>
                <input
                  className="jp-llmlab-input"
                  value={values[variable] ?? ''}
                  placeholder="value for the preview"
                  aria-label={`Preview value for ${variable}`}
                  onChange={event =>
                    setValues(previous => ({
                      ...previous,
                      [variable]: event.target.value
                    }))
                  }
                />
              </label>
            </li>
          ))}
        </ul>
      )}
      <h4 className="jp-llmlab-subtitle">Preview</h4>
      <ErrorBanner error={previewError} />
      {preview &&
      !preview.error &&
      preview.rendered !== undefined &&
      preview.rendered !== null ? (
        <TextBlock
          text={templateToText(preview.rendered)}
          label="Rendered preview"
          className="jp-llmlab-preview"
        />
      ) : (
        <div className="jp-llmlab-empty">
          {preview?.error ? 'Fix the template to see the preview.' : '—'}
        </div>
      )}
    </aside>
  );
}
