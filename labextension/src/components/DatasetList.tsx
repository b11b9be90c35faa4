/**
 * The Datasets panel of the sidebar: the project's datasets and an upload
 * form that creates a dataset (or a new version of one) from a file.
 */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { formatFromFileName } from '../api';
import type { LlmLabModel } from '../model';
import type { DatasetFormat, IDataset } from '../types';
import { ErrorBanner, usePagedList } from './common';

export interface IDatasetListProps {
  model: LlmLabModel;
  project: string;
  onOpen: (dataset: IDataset) => void;
}

export function DatasetList(props: IDatasetListProps): JSX.Element {
  const { model, project, onOpen } = props;
  const [showUpload, setShowUpload] = React.useState(false);
  const { items, nextOffset, error, setError, loading, load } = usePagedList(
    model,
    project,
    'dataset',
    (p, page) => model.client.listDatasets(p, page)
  );

  return (
    <div className="jp-llmlab-DatasetList">
      <div className="jp-llmlab-toolbar">
        <span className="jp-llmlab-count jp-llmlab-grow" aria-live="polite">
          {loading && items.length === 0
            ? 'Loading…'
            : `${items.length}${nextOffset !== null ? '+' : ''} dataset${items.length === 1 ? '' : 's'}`}
        </span>
        <button
          type="button"
          className="jp-llmlab-button jp-mod-accept"
          aria-label="Upload dataset"
          aria-expanded={showUpload}
          onClick={() => setShowUpload(!showUpload)}
          disabled={!project}
        >
          Upload…
        </button>
      </div>
      {showUpload && (
        <UploadForm
          model={model}
          project={project}
          onDone={() => {
            setShowUpload(false);
          }}
        />
      )}
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <ul className="jp-llmlab-list" aria-label="Datasets">
        {items.map(dataset => (
          <li key={dataset.name}>
            <button
              type="button"
              className="jp-llmlab-list-item"
              aria-label={`Open dataset ${dataset.name}`}
              onClick={() => onOpen(dataset)}
            >
              <span className="jp-llmlab-PromptRow-name">{dataset.name}</span>
              <span className="jp-llmlab-PromptRow-version">
                {`v${dataset.latest_version}`}
              </span>
              {dataset.description && (
                <span className="jp-llmlab-PromptRow-desc">
                  {dataset.description}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
      {nextOffset !== null && nextOffset > 0 && (
        <button
          type="button"
          className="jp-llmlab-button"
          onClick={() => void load(nextOffset)}
          aria-label="Load more datasets"
        >
          Load more
        </button>
      )}
    </div>
  );
}

export interface IUploadFormProps {
  model: LlmLabModel;
  project: string;
  /** A fixed dataset name (uploading a new version); otherwise asked. */
  datasetName?: string;
  onDone: (version?: number) => void;
}

/** Upload a CSV, JSONL or Parquet file as a (new version of a) dataset. */
export function UploadForm(props: IUploadFormProps): JSX.Element {
  const { model, project, datasetName, onDone } = props;
  const [name, setName] = React.useState(datasetName ?? '');
  const [file, setFile] = React.useState<File | null>(null);
  const [format, setFormat] = React.useState<DatasetFormat | ''>('');
  const [message, setMessage] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<unknown>(null);
  const [result, setResult] = React.useState<string>('');

  const onFile = (event: React.ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0] ?? null;
    setFile(chosen);
    if (chosen) {
      setFormat(formatFromFileName(chosen.name) ?? '');
      if (!name) {
        setName(
          chosen.name
            .replace(/\.[^.]+$/, '')
            .toLowerCase()
            .replace(/[^a-z0-9_-]+/g, '-')
        );
      }
    }
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!file || !format || !name) {
      setError(new Error('Choose a name, a file and its format.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const saved = await model.client.uploadDataset(
        project,
        name,
        file,
        format,
        message
      );
      const text = saved.created
        ? `Saved ${name} v${saved.version.number} (${saved.version.row_count} rows)`
        : `Unchanged: identical to ${name} v${saved.version.number}`;
      setResult(text);
      Notification.success(text, { autoClose: 4000 });
      model.notifyChanged({ kind: 'dataset', project, name });
      onDone(saved.version.number);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="jp-llmlab-form"
      onSubmit={submit}
      aria-label="Upload dataset"
    >
      {datasetName === undefined && (
        <label className="jp-llmlab-field">
          <span>Dataset name</span>
          <input
            className="jp-llmlab-input"
            value={name}
            onChange={event => setName(event.target.value)}
            placeholder="e.g. golden-questions"
            aria-label="Dataset name"
            required
          />
        </label>
      )}
      <label className="jp-llmlab-field">
        <span>File (CSV, JSONL, Parquet)</span>
        <input
          type="file"
          className="jp-llmlab-input"
          accept=".csv,.jsonl,.ndjson,.parquet,.pq"
          aria-label="File"
          onChange={onFile}
        />
      </label>
      <label className="jp-llmlab-field">
        <span>Format</span>
        <select
          className="jp-llmlab-select"
          aria-label="Format"
          value={format}
          onChange={event => setFormat(event.target.value as DatasetFormat)}
        >
          <option value="">Choose…</option>
          <option value="csv">CSV</option>
          <option value="jsonl">JSONL</option>
          <option value="parquet">Parquet</option>
        </select>
      </label>
      <label className="jp-llmlab-field">
        <span>Message</span>
        <input
          className="jp-llmlab-input"
          value={message}
          onChange={event => setMessage(event.target.value)}
          placeholder="What changed"
          aria-label="Message"
        />
      </label>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {result && (
        <div className="jp-llmlab-note" role="status">
          {result}
        </div>
      )}
      <div className="jp-llmlab-toolbar">
        <button
          type="submit"
          className="jp-llmlab-button jp-mod-accept"
          disabled={busy}
          aria-label="Upload file"
        >
          {busy ? 'Uploading…' : 'Upload'}
        </button>
        <button
          type="button"
          className="jp-llmlab-button"
          onClick={() => onDone()}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
