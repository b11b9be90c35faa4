/**
 * The Jobs panel of the sidebar: the project's batch jobs, newest first;
 * refreshed every ~1.5 s while any is queued or running, else every 10 s.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { FINAL_JOB_STATES, IJob } from '../types';
import { formatDate } from '../utils';
import { ErrorBanner, useLatest, useReloadCount } from './common';
import { StatusBadge } from './ExperimentList';
import { usePolling, VisibilityCheck } from './poll';

export interface IJobListProps {
  model: LlmLabModel;
  project: string;
  onOpen: (job: IJob) => void;
  isVisible: VisibilityCheck;
}

const PAGE = 100;
const ACTIVE_MS = 1500;
const IDLE_MS = 10000;

export function JobList(props: IJobListProps): JSX.Element {
  const { model, project, onOpen, isVisible } = props;
  const [items, setItems] = React.useState<IJob[]>([]);
  const [loaded, setLoaded] = React.useState(false);
  const [error, setError] = React.useState<unknown>(null);
  // reload after saves and on the refresh command
  const reloadCount = useReloadCount(model, project, 'job');
  const latest = useLatest();

  const load = React.useCallback(async () => {
    if (!project) {
      return;
    }
    const isCurrent = latest();
    try {
      const page = await model.client.listJobs(project, { limit: PAGE });
      if (isCurrent()) {
        setItems(page.items);
        setError(null);
      }
    } catch (err) {
      if (isCurrent()) {
        setError(err);
      }
    } finally {
      if (isCurrent()) {
        setLoaded(true);
      }
    }
  }, [model, project, latest]);

  React.useEffect(() => {
    void load();
  }, [load, reloadCount]);

  const pending = items.filter(job => !FINAL_JOB_STATES.includes(job.state));
  // quick while a job is active; slowly otherwise, to see jobs submitted
  // elsewhere (the CLI, a schedule, another user)
  usePolling(
    load,
    !!project,
    pending.length > 0 ? ACTIVE_MS : IDLE_MS,
    isVisible
  );

  return (
    <div className="jp-llmlab-DatasetList jp-llmlab-JobList">
      <div className="jp-llmlab-toolbar">
        <span className="jp-llmlab-count jp-llmlab-grow" aria-live="polite">
          {!loaded
            ? 'Loading…'
            : `${items.length}${items.length === PAGE ? '+' : ''} job${items.length === 1 ? '' : 's'}${pending.length ? ` · ${pending.length} active` : ''}`}
        </span>
        <button
          type="button"
          className="jp-llmlab-icon-button"
          aria-label="Refresh jobs"
          title="Refresh jobs"
          onClick={() => void load()}
        >
          ⟳
        </button>
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {loaded && items.length === 0 && !error && (
        <div className="jp-llmlab-empty">
          No jobs yet: submit one with `llmlab jobs submit` or the REST API.
        </div>
      )}
      <ul className="jp-llmlab-list" aria-label="Jobs">
        {items.map(job => (
          <li key={job.id}>
            <button
              type="button"
              className="jp-llmlab-list-item jp-llmlab-JobRow"
              aria-label={`Open job ${job.id}`}
              onClick={() => onOpen(job)}
            >
              <span className="jp-llmlab-PromptRow-name">{`#${job.id}`}</span>
              <span className="jp-llmlab-JobRow-template">{job.template}</span>
              <StatusBadge status={job.state} />
              <span className="jp-llmlab-PromptRow-desc">
                {`attempts ${job.attempts}/${job.max_attempts} · ${formatDate(job.created_at)}` +
                  (job.schedule ? ` · ${job.schedule}` : '')}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
