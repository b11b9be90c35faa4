/**
 * The Labels tab: where each label points, moving a label (after a
 * confirmation), removing one, and the history of every move.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { errorMessage } from '../request';
import type { ILabelEvent, IPrompt, IPromptVersion } from '../types';
import { formatDate } from '../utils';
import { ErrorBanner } from './common';

export interface ILabelsTabProps {
  model: LlmLabModel;
  prompt: IPrompt;
  versions: IPromptVersion[];
  /** Reload the prompt after a move. */
  onChanged: () => void;
}

const COMMON_LABELS = ['production', 'staging'];

async function confirm(title: string, text: string, accept: string) {
  const result = await showDialog({
    title,
    body: <span className="jp-llmlab-dialog-text">{text}</span>,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: accept })]
  });
  return result.button.accept;
}

export function LabelsTab(props: ILabelsTabProps): JSX.Element {
  const { model, prompt, versions, onChanged } = props;
  const [label, setLabel] = React.useState('production');
  const [version, setVersion] = React.useState<number>(prompt.latest_version);
  const [history, setHistory] = React.useState<ILabelEvent[]>([]);
  const [error, setError] = React.useState<unknown>(null);
  const [busy, setBusy] = React.useState(false);

  const loadHistory = React.useCallback(async () => {
    try {
      const page = await model.client.labelHistory(prompt.project, prompt.name);
      setHistory(
        [...page.items].sort((x, y) => y.created_at.localeCompare(x.created_at))
      );
    } catch (err) {
      setError(err);
    }
  }, [model, prompt.project, prompt.name]);

  React.useEffect(() => {
    void loadHistory();
  }, [loadHistory, prompt]);

  React.useEffect(() => {
    setVersion(prompt.latest_version);
  }, [prompt.latest_version]);

  const labels = Object.entries(prompt.labels).sort(([x], [y]) =>
    x.localeCompare(y)
  );
  const suggestions = [
    ...new Set([...COMMON_LABELS, ...Object.keys(prompt.labels)])
  ];

  const move = async (event: React.FormEvent) => {
    event.preventDefault();
    const name = label.trim();
    if (!name) {
      setError(new Error('Give the label a name.'));
      return;
    }
    const from = prompt.labels[name];
    if (from === version) {
      setError(new Error(`“${name}” already points to v${version}.`));
      return;
    }
    const text =
      from === undefined
        ? `Create label “${name}” on v${version} of ${prompt.name}?`
        : `Move “${name}” of ${prompt.name} from v${from} to v${version}?`;
    if (!(await confirm('Move label', text, 'Move'))) {
      return;
    }
    setBusy(true);
    try {
      await model.client.setLabel(prompt.project, prompt.name, name, version);
      setError(null);
      Notification.success(`${prompt.name}: “${name}” → v${version}`, {
        autoClose: 3000
      });
      model.notifyChanged({
        kind: 'prompt',
        project: prompt.project,
        name: prompt.name
      });
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async (name: string) => {
    if (
      !(await confirm(
        'Remove label',
        `Remove “${name}” from ${prompt.name}? Code loading it by this label will fail.`,
        'Remove'
      ))
    ) {
      return;
    }
    try {
      await model.client.removeLabel(prompt.project, prompt.name, name);
      model.notifyChanged({
        kind: 'prompt',
        project: prompt.project,
        name: prompt.name
      });
      onChanged();
    } catch (err) {
      Notification.error(`Cannot remove the label: ${errorMessage(err)}`);
    }
  };

  return (
    <div className="jp-llmlab-LabelsTab">
      <h4 className="jp-llmlab-subtitle">Current labels</h4>
      {labels.length === 0 ? (
        <div className="jp-llmlab-empty">No labels yet.</div>
      ) : (
        <table className="jp-llmlab-table" aria-label="Current labels">
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Version</th>
              <th scope="col">
                <span className="jp-llmlab-sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {labels.map(([name, number]) => (
              <tr key={name}>
                <td>{name}</td>
                <td>{`v${number}`}</td>
                <td>
                  <button
                    type="button"
                    className="jp-llmlab-button"
                    aria-label={`Remove label ${name}`}
                    onClick={() => void remove(name)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4 className="jp-llmlab-subtitle">Move a label</h4>
      <form
        className="jp-llmlab-toolbar jp-llmlab-wrap"
        onSubmit={move}
        aria-label="Move a label"
      >
        <label className="jp-llmlab-inline-field">
          <span>Label</span>
          <input
            className="jp-llmlab-input"
            list="jp-llmlab-label-suggestions"
            value={label}
            aria-label="Label name"
            onChange={event => setLabel(event.target.value)}
          />
          <datalist id="jp-llmlab-label-suggestions">
            {suggestions.map(name => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </label>
        <label className="jp-llmlab-inline-field">
          <span>to version</span>
          <select
            className="jp-llmlab-select"
            aria-label="Target version"
            value={version}
            onChange={event => setVersion(Number(event.target.value))}
          >
            {versions.map(v => (
              <option key={v.number} value={v.number}>
                {`v${v.number}${v.message ? ' — ' + v.message.slice(0, 40) : ''}`}
              </option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          className="jp-llmlab-button jp-mod-accept"
          disabled={busy}
          aria-label="Move label"
        >
          Move label
        </button>
      </form>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <h4 className="jp-llmlab-subtitle">History</h4>
      {history.length === 0 ? (
        <div className="jp-llmlab-empty">No label moves yet.</div>
      ) : (
        <table className="jp-llmlab-table" aria-label="Label history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Label</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {history.map((event, index) => (
              <tr key={index}>
                <td title={event.created_at}>{formatDate(event.created_at)}</td>
                <td>{event.label}</td>
                <td>
                  {event.from_version === null ? '—' : `v${event.from_version}`}
                </td>
                <td>
                  {event.to_version === null
                    ? 'removed'
                    : `v${event.to_version}`}
                </td>
                <td>{event.created_by}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
