/**
 * One experiment in the main area: live progress, status and spend, cancel
 * and resume, the per-variant summary (score means with confidence intervals,
 * wins/losses/ties against the baseline), and a paged preview of the results.
 */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { errorMessage } from '../request';
import type {
  IExperimentResults,
  IExperimentState,
  ISummaryRow
} from '../types';
import {
  FINAL_EXPERIMENT_STATUSES,
  cellText,
  experimentIsLive,
  formatDate,
  formatMs,
  formatNumber,
  formatUsd,
  progressPercent,
  scorerCells,
  scorerNames
} from '../utils';
import { ErrorBanner, Loading, Pager, TextBlock, useLatest } from './common';
import { ProgressBar, StatusBadge } from './ExperimentList';
import { usePolling, VisibilityCheck } from './poll';

const PAGE = 20;
/** While running, the summary and results are reloaded at most this often. */
const DETAIL_REFRESH_MS = 2500;

export interface IExperimentViewProps {
  model: LlmLabModel;
  project: string;
  name: string;
  isVisible: VisibilityCheck;
  onOpenNotebook: (project: string, name: string) => Promise<unknown>;
}

export function ExperimentView(props: IExperimentViewProps): JSX.Element {
  const { model, project, name, isVisible } = props;
  const [state, setState] = React.useState<IExperimentState | null>(null);
  const [summary, setSummary] = React.useState<ISummaryRow[] | null>(null);
  const [results, setResults] = React.useState<IExperimentResults | null>(null);
  const [offset, setOffset] = React.useState(0);
  const [variant, setVariant] = React.useState<number | null>(null);
  const [errorsOnly, setErrorsOnly] = React.useState(false);
  const [baseline, setBaseline] = React.useState(0);
  const [budget, setBudget] = React.useState('');
  const [error, setError] = React.useState<unknown>(null);
  const [busy, setBusy] = React.useState(false);
  const [detailTick, setDetailTick] = React.useState(0);
  const lastDetail = React.useRef(0);
  const latestSummary = useLatest();
  const latestResults = useLatest();

  const stateRef = React.useRef<IExperimentState | null>(null);

  const loadState = React.useCallback(async () => {
    const fresh = await model.client.getExperiment(project, name);
    const previous = stateRef.current;
    stateRef.current = fresh;
    setState(fresh);
    setError(null);
    if (previous !== null) {
      const wasLive = experimentIsLive(
        previous.experiment.status,
        previous.active
      );
      const isLive = experimentIsLive(fresh.experiment.status, fresh.active);
      const moved =
        previous.experiment.completed_items !==
          fresh.experiment.completed_items ||
        previous.experiment.status !== fresh.experiment.status;
      const due = Date.now() - lastDetail.current >= DETAIL_REFRESH_MS;
      if ((wasLive && !isLive) || (moved && due)) {
        lastDetail.current = Date.now();
        setDetailTick(tick => tick + 1);
      }
    } else {
      lastDetail.current = Date.now();
    }
    return fresh;
  }, [model, project, name]);

  React.useEffect(() => {
    loadState().catch(err => setError(err));
  }, [loadState]);

  React.useEffect(() => {
    const isCurrent = latestSummary();
    model.client
      .experimentSummary(project, name, { baseline })
      .then(reply => isCurrent() && setSummary(reply.items))
      .catch(err => isCurrent() && setError(err));
  }, [model, project, name, baseline, detailTick, latestSummary]);

  React.useEffect(() => {
    const isCurrent = latestResults();
    model.client
      .experimentResults(project, name, {
        offset,
        limit: PAGE,
        variant: variant ?? undefined,
        errors_only: errorsOnly
      })
      .then(page => isCurrent() && setResults(page))
      .catch(err => isCurrent() && setError(err));
  }, [
    model,
    project,
    name,
    offset,
    variant,
    errorsOnly,
    detailTick,
    latestResults
  ]);

  const exp = state?.experiment ?? null;
  const live = exp !== null && experimentIsLive(exp.status, state!.active);

  usePolling(
    () => loadState().catch(err => setError(err)),
    live,
    1000,
    isVisible
  );

  const act = async (what: 'cancel' | 'start') => {
    setBusy(true);
    try {
      let fresh: IExperimentState;
      if (what === 'cancel') {
        fresh = await model.client.cancelExperiment(project, name);
      } else {
        const value = budget.trim() ? Number(budget) : undefined;
        if (value !== undefined && !(value > 0)) {
          throw new Error('The budget must be a positive number of dollars.');
        }
        fresh = await model.client.startExperiment(project, name, value);
      }
      stateRef.current = fresh;
      setState(fresh);
      setError(null);
      setDetailTick(tick => tick + 1);
      model.notifyChanged({ kind: 'experiment', project, name });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const openNotebook = async () => {
    try {
      await props.onOpenNotebook(project, name);
    } catch (err) {
      Notification.error(`Cannot open a notebook: ${errorMessage(err)}`);
    }
  };

  if (!exp) {
    return (
      <div className="jp-llmlab-DatasetView jp-llmlab-ExperimentView">
        <ErrorBanner error={error} />
        {!error && <Loading what={name} />}
      </div>
    );
  }

  const scorers = scorerNames(exp);
  const final = FINAL_EXPERIMENT_STATUSES.includes(exp.status);
  const percent = progressPercent(exp);

  return (
    <div className="jp-llmlab-DatasetView jp-llmlab-ExperimentView">
      <header className="jp-llmlab-PromptView-header">
        <h2 className="jp-llmlab-title">{name}</h2>
        <span className="jp-llmlab-PromptView-sub">{`${project} · experiment`}</span>
        {exp.description && (
          <p className="jp-llmlab-PromptView-desc">{exp.description}</p>
        )}
      </header>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="jp-llmlab-toolbar jp-llmlab-wrap">
        <StatusBadge status={exp.status} label="Experiment status" />
        <ProgressBar
          percent={percent}
          label="Experiment progress"
          status={exp.status}
        />
        <span className="jp-llmlab-ExperimentView-counts" aria-live="polite">
          {`${exp.completed_items} / ${exp.total_items} items · ${percent}%` +
            (exp.error_items ? ` · ${exp.error_items} errors` : '')}
        </span>
        <span className="jp-llmlab-ExperimentView-spend">
          {`Spent ${formatUsd(exp.spent_usd)}` +
            (exp.budget_usd !== null ? ` of ${formatUsd(exp.budget_usd)}` : '')}
        </span>
        <span className="jp-llmlab-grow" />
        <button
          type="button"
          className="jp-llmlab-button"
          aria-label="Cancel experiment"
          disabled={busy || final}
          onClick={() => void act('cancel')}
        >
          Cancel
        </button>
        <input
          className="jp-llmlab-input jp-llmlab-ExperimentView-budget"
          type="number"
          min="0"
          step="any"
          placeholder="budget $"
          aria-label="New budget (USD)"
          title="An optional new budget for the resumed run"
          value={budget}
          disabled={busy || live || exp.status === 'completed'}
          onChange={event => setBudget(event.target.value)}
        />
        <button
          type="button"
          className="jp-llmlab-button"
          aria-label="Resume experiment"
          disabled={busy || live || exp.status === 'completed'}
          onClick={() => void act('start')}
        >
          {exp.status === 'created' ? 'Start' : 'Resume'}
        </button>
        <button
          type="button"
          className="jp-llmlab-button jp-mod-accept"
          aria-label="Open comparison in a notebook"
          onClick={() => void openNotebook()}
        >
          Open comparison in a notebook
        </button>
      </div>
      {exp.message && <div className="jp-llmlab-note">{exp.message}</div>}
      <dl className="jp-llmlab-meta">
        <dt>Dataset</dt>
        <dd>{`${exp.dataset}@${exp.dataset_version}`}</dd>
        <dt>Scorers</dt>
        <dd>{scorers.length ? scorers.join(', ') : '(none)'}</dd>
        <dt>Created</dt>
        <dd title={exp.created_at}>
          {`${formatDate(exp.created_at)} by ${exp.created_by}`}
        </dd>
        {exp.finished_at && (
          <>
            <dt>Finished</dt>
            <dd title={exp.finished_at}>{formatDate(exp.finished_at)}</dd>
          </>
        )}
      </dl>

      <div className="jp-llmlab-toolbar">
        <h3 className="jp-llmlab-subtitle jp-llmlab-grow">Summary</h3>
        <label className="jp-llmlab-inline-field">
          <span>Baseline</span>
          <select
            className="jp-llmlab-select"
            aria-label="Baseline variant"
            value={baseline}
            onChange={event => setBaseline(Number(event.target.value))}
          >
            {exp.variants.map(v => (
              <option key={v.idx} value={v.idx}>
                {v.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {summary === null ? (
        <Loading what="the summary" />
      ) : (
        <div className="jp-llmlab-table-wrap">
          <table
            className="jp-llmlab-table jp-llmlab-summary"
            aria-label={`Summary of ${name}`}
          >
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col">Results</th>
                <th scope="col">Errors</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
                <th scope="col">Cost</th>
                {scorers.map(scorer => (
                  <React.Fragment key={scorer}>
                    <th scope="col" title={`${scorer}: mean [CI]`}>
                      {`${scorer}.mean`}
                    </th>
                    <th
                      scope="col"
                      title={`${scorer}: wins/losses/ties vs the baseline`}
                    >
                      {`${scorer} W/L/T`}
                    </th>
                  </React.Fragment>
                ))}
              </tr>
            </thead>
            <tbody>
              {summary.map(row => (
                <tr key={row.variant_idx}>
                  <th scope="row">{row.variant}</th>
                  <td className="jp-llmlab-num">{String(row.results)}</td>
                  <td className="jp-llmlab-num">{String(row.errors)}</td>
                  <td className="jp-llmlab-num">
                    {formatMs(row.latency_p50_ms)}
                  </td>
                  <td className="jp-llmlab-num">
                    {formatMs(row.latency_p95_ms)}
                  </td>
                  <td className="jp-llmlab-num">{formatUsd(row.cost_usd)}</td>
                  {scorers.map(scorer => {
                    const cells = scorerCells(row, scorer, baseline);
                    return (
                      <React.Fragment key={scorer}>
                        <td className="jp-llmlab-num">
                          {cells.mean}
                          {cells.ci && (
                            <span className="jp-llmlab-ci">{` ${cells.ci}`}</span>
                          )}
                        </td>
                        <td className="jp-llmlab-num">{cells.wlt}</td>
                      </React.Fragment>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <div className="jp-llmlab-toolbar jp-llmlab-wrap">
        <h3 className="jp-llmlab-subtitle jp-llmlab-grow">Results</h3>
        <label className="jp-llmlab-inline-field">
          <span>Variant</span>
          <select
            className="jp-llmlab-select"
            aria-label="Filter results by variant"
            value={variant ?? ''}
            onChange={event => {
              setVariant(
                event.target.value === '' ? null : Number(event.target.value)
              );
              setOffset(0);
            }}
          >
            <option value="">All</option>
            {exp.variants.map(v => (
              <option key={v.idx} value={v.idx}>
                {v.name}
              </option>
            ))}
          </select>
        </label>
        <label className="jp-llmlab-radio">
          <input
            type="checkbox"
            checked={errorsOnly}
            onChange={event => {
              setErrorsOnly(event.target.checked);
              setOffset(0);
            }}
          />
          <span>Errors only</span>
        </label>
      </div>
      <div className="jp-llmlab-table-wrap">
        <table className="jp-llmlab-table" aria-label={`Results of ${name}`}>
          <thead>
            <tr>
              <th scope="col" className="jp-llmlab-rownum">
                Row
              </th>
              <th scope="col">Variant</th>
              <th scope="col">Input</th>
              <th scope="col">Output</th>
              <th scope="col">Scores</th>
              <th scope="col">Latency</th>
            </tr>
          </thead>
          <tbody>
            {(results?.items ?? []).map(result => (
              <tr key={`${result.variant_idx}-${result.row_idx}`}>
                <td className="jp-llmlab-rownum">{String(result.row_idx)}</td>
                <td>{result.variant}</td>
                <td>{cellText(result.input)}</td>
                <td>
                  {result.error ? (
                    <span className="jp-llmlab-result-error">
                      {`${result.error_code ?? 'error'}: ${result.error}`}
                    </span>
                  ) : (
                    <TextBlock
                      text={result.output ?? ''}
                      className="jp-llmlab-output"
                    />
                  )}
                </td>
                <td>
                  {Object.entries(result.scores ?? {})
                    .map(([key, value]) => `${key}=${formatNumber(value)}`)
                    .join(' ')}
                </td>
                <td className="jp-llmlab-num">{formatMs(result.latency_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager
        noun="results"
        offset={offset}
        pageSize={PAGE}
        page={results}
        onOffset={setOffset}
      />
    </div>
  );
}
