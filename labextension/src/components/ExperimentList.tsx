/**
 * The Experiments panel of the sidebar: the project's experiments, newest
 * first, with their progress; running ones are polled about once a second.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import type { IExperiment } from '../types';
import { experimentIsLive, formatDate, progressPercent } from '../utils';
import { ErrorBanner, usePagedList } from './common';
import { usePolling, VisibilityCheck } from './poll';

export interface IExperimentListProps {
  model: LlmLabModel;
  project: string;
  onOpen: (experiment: IExperiment) => void;
  onNew: () => void;
  isVisible: VisibilityCheck;
}

/** How many running experiments are polled at once (the newest). */
const MAX_POLLED = 10;
const IDLE_MS = 10000;

export function ExperimentList(props: IExperimentListProps): JSX.Element {
  const { model, project, onOpen, onNew, isVisible } = props;
  const [active, setActive] = React.useState<Record<string, boolean>>({});
  const { items, setItems, nextOffset, error, setError, loading, load } =
    usePagedList(
      model,
      project,
      'experiment',
      (p, page) => model.client.listExperiments(p, page),
      change => {
        if (change.name) {
          setActive(previous => ({ ...previous, [change.name!]: true }));
        }
      }
    );

  const live = items
    .filter(exp => experimentIsLive(exp.status, !!active[exp.name]))
    .slice(0, MAX_POLLED)
    .map(exp => exp.name);

  usePolling(
    async () => {
      const states = await Promise.all(
        live.map(name =>
          model.client.getExperiment(project, name).catch(() => null)
        )
      );
      const fresh = new Map(
        states
          .filter(state => state !== null)
          .map(state => [state!.experiment.name, state!])
      );
      setItems(previous =>
        previous.map(exp => fresh.get(exp.name)?.experiment ?? exp)
      );
      setActive(previous => {
        const next = { ...previous };
        for (const [name, state] of fresh) {
          next[name] = state.active;
        }
        return next;
      });
    },
    live.length > 0,
    1000,
    isVisible
  );

  // every 10 s while shown: experiments started elsewhere (a notebook, the CLI)
  usePolling(() => load(0), !!project && live.length === 0, IDLE_MS, isVisible);

  return (
    <div className="jp-llmlab-DatasetList jp-llmlab-ExperimentList">
      <div className="jp-llmlab-toolbar">
        <span className="jp-llmlab-count jp-llmlab-grow" aria-live="polite">
          {loading && items.length === 0
            ? 'Loading…'
            : `${items.length}${nextOffset !== null ? '+' : ''} experiment${items.length === 1 ? '' : 's'}${live.length ? ` · ${live.length} running` : ''}`}
        </span>
        <button
          type="button"
          className="jp-llmlab-button jp-mod-accept"
          aria-label="New experiment"
          onClick={onNew}
          disabled={!project}
        >
          New…
        </button>
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {!loading && items.length === 0 && !error && (
        <div className="jp-llmlab-empty">
          No experiments yet: start one with New….
        </div>
      )}
      <ul className="jp-llmlab-list" aria-label="Experiments">
        {items.map(exp => {
          const percent = progressPercent(exp);
          return (
            <li key={exp.name}>
              <button
                type="button"
                className="jp-llmlab-list-item jp-llmlab-ExperimentRow"
                aria-label={`Open experiment ${exp.name}`}
                onClick={() => onOpen(exp)}
              >
                <span className="jp-llmlab-PromptRow-name">{exp.name}</span>
                <StatusBadge status={exp.status} />
                <span className="jp-llmlab-ExperimentRow-progress">
                  <ProgressBar
                    percent={percent}
                    label={`Progress of ${exp.name}`}
                    status={exp.status}
                  />
                  <span className="jp-llmlab-PromptRow-version">
                    {`${exp.completed_items}/${exp.total_items}`}
                  </span>
                </span>
                <span className="jp-llmlab-PromptRow-desc">
                  {`${exp.dataset}@${exp.dataset_version} · ${formatDate(exp.created_at)}`}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {nextOffset !== null && nextOffset > 0 && (
        <button
          type="button"
          className="jp-llmlab-button"
          onClick={() => void load(nextOffset)}
          aria-label="Load more experiments"
        >
          Load more
        </button>
      )}
    </div>
  );
}

/** A status (experiment or job) as a coloured badge. */
export function StatusBadge(props: {
  status: string;
  label?: string;
}): JSX.Element {
  return (
    <span
      className={`jp-llmlab-status jp-llmlab-status-${props.status}`}
      aria-label={props.label}
      title={props.label}
    >
      {props.status.replace(/_/g, ' ')}
    </span>
  );
}

/** A thin progress bar (an ARIA progressbar with the percentage). */
export function ProgressBar(props: {
  percent: number;
  label: string;
  status?: string;
}): JSX.Element {
  return (
    <span
      className={
        'jp-llmlab-progress' +
        (props.status ? ` jp-llmlab-progress-${props.status}` : '')
      }
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={props.percent}
    >
      <span
        className="jp-llmlab-progress-fill"
        style={{ width: `${props.percent}%` }}
      />
    </span>
  );
}
