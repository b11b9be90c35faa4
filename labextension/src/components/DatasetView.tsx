/**
 * One dataset in the main area: its versions, column schema, a paged
 * preview of the rows, and the upload of a new version.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import type { IDatasetRows, IDatasetVersion } from '../types';
import { cellText, formatDate } from '../utils';
import { UploadForm } from './DatasetList';
import { ErrorBanner, Loading, Pager, useLatest } from './common';

const PAGE = 50;

export interface IDatasetViewProps {
  model: LlmLabModel;
  project: string;
  name: string;
}

export function DatasetView(props: IDatasetViewProps): JSX.Element {
  const { model, project, name } = props;
  const [versions, setVersions] = React.useState<IDatasetVersion[]>([]);
  const [selected, setSelected] = React.useState<number | null>(null);
  const [rows, setRows] = React.useState<IDatasetRows | null>(null);
  const [offset, setOffset] = React.useState(0);
  const [error, setError] = React.useState<unknown>(null);
  const [upload, setUpload] = React.useState(false);
  const [reloadCount, setReloadCount] = React.useState(0);
  const latestVersions = useLatest();
  const latestRows = useLatest();

  React.useEffect(() => {
    const isCurrent = latestVersions();
    model.client
      .listDatasetVersions(project, name)
      .then(page => {
        if (!isCurrent()) {
          return;
        }
        const sorted = [...page.items].sort((x, y) => y.number - x.number);
        setVersions(sorted);
        setSelected(previous =>
          previous !== null && sorted.some(v => v.number === previous)
            ? previous
            : (sorted[0]?.number ?? null)
        );
      })
      .catch(err => isCurrent() && setError(err));
  }, [model, project, name, reloadCount, latestVersions]);

  React.useEffect(() => {
    if (selected === null) {
      return;
    }
    const isCurrent = latestRows();
    model.client
      .datasetRows(project, name, selected, offset, PAGE)
      .then(page => isCurrent() && setRows(page))
      .catch(err => isCurrent() && setError(err));
  }, [model, project, name, selected, offset, latestRows]);

  React.useEffect(() => {
    const onChanged = (
      _: unknown,
      change: { kind: string; project: string; name?: string }
    ) => {
      if (
        change.kind === 'dataset' &&
        change.project === project &&
        change.name === name
      ) {
        setReloadCount(count => count + 1);
      }
    };
    model.changed.connect(onChanged);
    return () => {
      model.changed.disconnect(onChanged);
    };
  }, [model, project, name]);

  const version = versions.find(v => v.number === selected) ?? null;
  const columns = version?.columns ?? [];

  return (
    <div className="jp-llmlab-DatasetView">
      <header className="jp-llmlab-PromptView-header">
        <h2 className="jp-llmlab-title">{name}</h2>
        <span className="jp-llmlab-PromptView-sub">{`${project} · dataset`}</span>
      </header>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="jp-llmlab-toolbar">
        <label className="jp-llmlab-inline-field">
          <span>Version</span>
          <select
            className="jp-llmlab-select"
            aria-label="Dataset version"
            value={selected ?? ''}
            onChange={event => {
              setSelected(Number(event.target.value));
              setOffset(0);
            }}
          >
            {versions.map(v => (
              <option key={v.number} value={v.number}>
                {`v${v.number} · ${v.row_count} rows · ${formatDate(v.created_at)}`}
              </option>
            ))}
          </select>
        </label>
        <span className="jp-llmlab-grow" />
        <button
          type="button"
          className="jp-llmlab-button"
          aria-label="Upload a new version"
          aria-expanded={upload}
          onClick={() => setUpload(!upload)}
        >
          Upload new version…
        </button>
      </div>
      {upload && (
        <UploadForm
          model={model}
          project={project}
          datasetName={name}
          onDone={number => {
            setUpload(false);
            if (number !== undefined) {
              setSelected(number);
              setOffset(0);
            }
          }}
        />
      )}
      {!version && versions.length === 0 && !error && <Loading what={name} />}
      {version && (
        <>
          <dl className="jp-llmlab-meta">
            <dt>Author</dt>
            <dd>{version.created_by}</dd>
            <dt>Date</dt>
            <dd title={version.created_at}>{formatDate(version.created_at)}</dd>
            <dt>Message</dt>
            <dd>{version.message || '(no message)'}</dd>
            <dt>Rows</dt>
            <dd>{String(version.row_count)}</dd>
            <dt>Source</dt>
            <dd>{version.source_format}</dd>
            <dt>Hash</dt>
            <dd title={version.content_hash}>
              <code>
                {version.content_hash.replace(/^sha256:/, '').slice(0, 12)}
              </code>
            </dd>
            <dt>Columns</dt>
            <dd>
              {columns.map(column => (
                <code key={column.name} className="jp-llmlab-var">
                  {`${column.name}: ${column.type}`}
                </code>
              ))}
            </dd>
          </dl>
          <div className="jp-llmlab-table-wrap">
            <table
              className="jp-llmlab-table"
              aria-label={`Rows of ${name} v${version.number}`}
            >
              <thead>
                <tr>
                  <th scope="col" className="jp-llmlab-rownum">
                    #
                  </th>
                  {columns.map(column => (
                    <th key={column.name} scope="col" title={column.type}>
                      {column.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {(rows?.items ?? []).map((row, index) => (
                  <tr key={offset + index}>
                    <td className="jp-llmlab-rownum">
                      {String(offset + index + 1)}
                    </td>
                    {columns.map(column => (
                      <td key={column.name}>{cellText(row[column.name])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            noun="rows"
            offset={offset}
            pageSize={PAGE}
            page={rows}
            onOffset={setOffset}
          />
        </>
      )}
    </div>
  );
}
