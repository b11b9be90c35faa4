/**
 * The Edit tab: write a new version. Variables are detected by the server as
 * you type, the preview renders with the values you give, template errors
 * are shown at their line, and save errors next to their field.
 */
import { IEditorServices } from '@jupyterlab/codeeditor';
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { LlmLabAPIError } from '../request';
import { IPromptVersion, PromptKind, Template } from '../types';
import { parseParams } from '../utils';
import { TemplateEditor } from './CodeEditor';
import { ErrorBanner } from './common';
import { IDraft, draftFrom, fieldOf } from './editorDraft';
import { MessagesEditor } from './MessagesEditor';
import { PreviewPane } from './PreviewPane';
import { useRenderPreview } from './useRenderPreview';

export interface IEditorTabProps {
  model: LlmLabModel;
  editorServices: IEditorServices;
  project: string;
  /** null for a prompt that does not exist yet (then its name is asked). */
  name: string | null;
  description: string;
  /** The version the editor starts from (usually the latest). */
  base: IPromptVersion | null;
  onSaved: (name: string, version: number, created: boolean) => void;
}

export function EditorTab(props: IEditorTabProps): JSX.Element {
  const { model, project, base } = props;
  const [draft, setDraft] = React.useState<IDraft>(() => draftFrom(base));
  const [name, setName] = React.useState(props.name ?? '');
  const [description, setDescription] = React.useState(props.description);
  const [message, setMessage] = React.useState('');
  const [values, setValues] = React.useState<Record<string, string>>({});
  const [saveError, setSaveError] = React.useState<unknown>(null);
  const [paramsError, setParamsError] = React.useState('');
  const [busy, setBusy] = React.useState(false);

  // start again from a new base version (e.g. "Edit as new version")
  React.useEffect(() => {
    setDraft(draftFrom(base));
    setSaveError(null);
  }, [base]);

  const template: Template = React.useMemo(
    () => (draft.kind === 'text' ? draft.text : draft.messages),
    [draft.kind, draft.text, draft.messages]
  );

  const { preview, previewError } = useRenderPreview(
    model,
    project,
    template,
    values
  );

  const errorLine = preview?.error?.line ?? null;
  const saveField = fieldOf(saveError);

  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    setSaveError(null);
    let params: Record<string, unknown>;
    try {
      params = parseParams(draft.params);
      setParamsError('');
    } catch (err) {
      setParamsError((err as Error).message);
      return;
    }
    const target = (props.name ?? name).trim();
    if (!target) {
      setSaveError(
        new LlmLabAPIError(
          'Give the prompt a name.',
          400,
          'invalid_input',
          'name'
        )
      );
      return;
    }
    setBusy(true);
    try {
      const result = await model.client.saveVersion(project, target, {
        template,
        kind: draft.kind,
        model: draft.model.trim() || null,
        params,
        message,
        description:
          description !== props.description || props.name === null
            ? description
            : undefined
      });
      if (result.created) {
        Notification.success(`Saved ${target} v${result.version.number}`, {
          autoClose: 3000
        });
        setMessage('');
      } else {
        Notification.info(
          `No change: identical to ${target} v${result.version.number}`,
          { autoClose: 4000 }
        );
      }
      model.notifyChanged({ kind: 'prompt', project, name: target });
      props.onSaved(target, result.version.number, result.created);
    } catch (err) {
      setSaveError(err);
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (field: string) =>
    saveField === field ? (
      <div className="jp-llmlab-field-error" role="alert">
        {(saveError as LlmLabAPIError).message}
      </div>
    ) : null;

  return (
    <form
      className="jp-llmlab-EditorTab"
      onSubmit={save}
      aria-label="New version"
    >
      <div className="jp-llmlab-editor-main">
        {props.name === null && (
          <label className="jp-llmlab-field">
            <span>Prompt name</span>
            <input
              className="jp-llmlab-input"
              value={name}
              onChange={event => setName(event.target.value)}
              placeholder="e.g. summarize-ticket"
              aria-label="Prompt name"
              aria-invalid={saveField === 'name'}
            />
            {fieldError('name')}
          </label>
        )}
        <div className="jp-llmlab-toolbar">
          <span className="jp-llmlab-label">Kind</span>
          <div
            role="radiogroup"
            aria-label="Prompt kind"
            className="jp-llmlab-toolbar"
          >
            {(['text', 'chat'] as PromptKind[]).map(kind => (
              <label key={kind} className="jp-llmlab-radio">
                <input
                  type="radio"
                  name="jp-llmlab-kind"
                  value={kind}
                  checked={draft.kind === kind}
                  onChange={() => setDraft(previous => ({ ...previous, kind }))}
                />
                {kind === 'text' ? 'Text' : 'Chat messages'}
              </label>
            ))}
          </div>
        </div>
        {draft.kind === 'text' ? (
          <TemplateEditor
            editorServices={props.editorServices}
            value={draft.text}
            onChange={text => setDraft(previous => ({ ...previous, text }))}
            ariaLabel="Template"
            errorLine={errorLine}
          />
        ) : (
          <MessagesEditor
            editorServices={props.editorServices}
            messages={draft.messages}
            setDraft={setDraft}
          />
        )}
        {preview?.error && (
          <div className="jp-llmlab-field-error" role="alert">
            {preview.error.line
              ? `Line ${preview.error.line}: ${preview.error.message}`
              : preview.error.message}
          </div>
        )}
        {fieldError('template')}
        <div className="jp-llmlab-row">
          <label className="jp-llmlab-field jp-llmlab-grow">
            <span>Model</span>
            <input
              className="jp-llmlab-input"
              value={draft.model}
              onChange={event =>
                setDraft(previous => ({
                  ...previous,
                  model: event.target.value
                }))
              }
              placeholder="provider/model, e.g. fake/echo"
              aria-label="Model"
              aria-invalid={saveField === 'model'}
            />
            {fieldError('model')}
          </label>
          <label className="jp-llmlab-field jp-llmlab-grow">
            <span>Parameters (JSON)</span>
            <textarea
              className="jp-llmlab-input jp-llmlab-code"
              rows={2}
              value={draft.params}
              onChange={event =>
                setDraft(previous => ({
                  ...previous,
                  params: event.target.value
                }))
              }
              placeholder='{"temperature": 0}'
              aria-label="Parameters"
              aria-invalid={!!paramsError || saveField === 'params'}
            />
            {paramsError && (
              <div className="jp-llmlab-field-error" role="alert">
                {paramsError}
              </div>
            )}
            {fieldError('params')}
          </label>
        </div>
        <label className="jp-llmlab-field">
          <span>Description</span>
          <input
            className="jp-llmlab-input"
            value={description}
            onChange={event => setDescription(event.target.value)}
            placeholder="What this prompt is for"
            aria-label="Description"
          />
          {fieldError('description')}
        </label>
        <label className="jp-llmlab-field">
          <span>Commit message</span>
          <input
            className="jp-llmlab-input"
            value={message}
            onChange={event => setMessage(event.target.value)}
            placeholder="What changed in this version"
            aria-label="Commit message"
          />
          {fieldError('message')}
        </label>
        {saveError !== null && saveField === '' && (
          <ErrorBanner error={saveError} onDismiss={() => setSaveError(null)} />
        )}
        <div className="jp-llmlab-toolbar">
          <button
            type="submit"
            className="jp-llmlab-button jp-mod-accept"
            disabled={busy}
            aria-label="Save version"
          >
            {busy ? 'Saving…' : 'Save version'}
          </button>
        </div>
      </div>
      <PreviewPane
        preview={preview}
        previewError={previewError}
        values={values}
        setValues={setValues}
      />
    </form>
  );
}
