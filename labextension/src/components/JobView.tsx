/**
 * One batch job in the main area: state, parameters, result, logs (read
 * incrementally while it runs), cancel, and links to its report (a new
 * browser tab, sandboxed by the server's CSP) and executed notebook.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { FINAL_JOB_STATES, IJob, IJobLog } from '../types';
import { formatDate } from '../utils';
import { ErrorBanner, Loading, TextBlock } from './common';
import { StatusBadge } from './ExperimentList';
import { usePolling, VisibilityCheck } from './poll';

export interface IJobViewProps {
  model: LlmLabModel;
  project: string;
  id: number;
  isVisible: VisibilityCheck;
}

export function JobView(props: IJobViewProps): JSX.Element {
  const { model, project, id, isVisible } = props;
  const [job, setJob] = React.useState<IJob | null>(null);
  const [logs, setLogs] = React.useState<IJobLog[]>([]);
  const [error, setError] = React.useState<unknown>(null);
  const [busy, setBusy] = React.useState(false);
  const after = React.useRef(0);
  const wasFinal = React.useRef<boolean | null>(null);
  const reading = React.useRef<Promise<void> | null>(null);

  /** Append the chunks not read yet (one read at a time). */
  const readLogs = React.useCallback((): Promise<void> => {
    if (!reading.current) {
      reading.current = model.client
        .jobLogs(project, id, after.current)
        .then(reply => {
          if (reply.items.length) {
            after.current = reply.next_after;
            setLogs(previous => previous.concat(reply.items));
          }
        })
        .finally(() => {
          reading.current = null;
        });
    }
    return reading.current;
  }, [model, project, id]);

  const refresh = React.useCallback(async () => {
    const fresh = await model.client.getJob(project, id);
    setJob(fresh);
    setError(null);
    await readLogs();
    const isFinal = FINAL_JOB_STATES.includes(fresh.state);
    if (isFinal && wasFinal.current === false) {
      await readLogs(); // chunks written just before the end
      model.notifyChanged({ kind: 'job', project });
    }
    wasFinal.current = isFinal;
  }, [model, project, id, readLogs]);

  React.useEffect(() => {
    refresh()
      // the list may not know this job yet (submitted elsewhere)
      .then(() => model.notifyChanged({ kind: 'job', project }))
      .catch(err => setError(err));
  }, [refresh]);

  const final = job !== null && FINAL_JOB_STATES.includes(job.state);
  usePolling(
    () => refresh().catch(err => setError(err)),
    job !== null && !final,
    1000,
    isVisible
  );

  const cancel = async () => {
    setBusy(true);
    try {
      setJob(await model.client.cancelJob(project, id));
      model.notifyChanged({ kind: 'job', project });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!job) {
    return (
      <div className="jp-llmlab-DatasetView jp-llmlab-JobView">
        <ErrorBanner error={error} />
        {!error && <Loading what={`job ${id}`} />}
      </div>
    );
  }

  const logText = logs.map(chunk => chunk.text).join('');
  return (
    <div className="jp-llmlab-DatasetView jp-llmlab-JobView">
      <header className="jp-llmlab-PromptView-header">
        <h2 className="jp-llmlab-title">{`Job #${job.id} · ${job.template}`}</h2>
        <span className="jp-llmlab-PromptView-sub">{`${project} · job`}</span>
      </header>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="jp-llmlab-toolbar jp-llmlab-wrap">
        <StatusBadge status={job.state} label="Job state" />
        {job.cancel_requested && !final && (
          <span className="jp-llmlab-count">cancel requested</span>
        )}
        <span className="jp-llmlab-grow" />
        <button
          type="button"
          className="jp-llmlab-button"
          aria-label="Cancel job"
          disabled={busy || final}
          onClick={() => void cancel()}
        >
          Cancel
        </button>
        {job.artifacts.report ? (
          <a
            className="jp-llmlab-button"
            href={model.client.jobReportUrl(project, job.id)}
            target="_blank"
            rel="noopener noreferrer"
          >
            Open report
          </a>
        ) : (
          <span className="jp-llmlab-count">No report</span>
        )}
        {job.artifacts.notebook && (
          <a
            className="jp-llmlab-button"
            href={model.client.jobNotebookUrl(project, job.id)}
            download={`job-${job.id}.ipynb`}
          >
            Download notebook
          </a>
        )}
      </div>
      <dl className="jp-llmlab-meta">
        <dt>Attempts</dt>
        <dd>{`${job.attempts} of ${job.max_attempts}`}</dd>
        <dt>Executor</dt>
        <dd>{job.executor}</dd>
        <dt>Created</dt>
        <dd title={job.created_at}>
          {`${formatDate(job.created_at)} by ${job.created_by}`}
        </dd>
        {job.started_at && (
          <>
            <dt>Started</dt>
            <dd title={job.started_at}>{formatDate(job.started_at)}</dd>
          </>
        )}
        {job.finished_at && (
          <>
            <dt>Finished</dt>
            <dd title={job.finished_at}>{formatDate(job.finished_at)}</dd>
          </>
        )}
        {job.schedule && (
          <>
            <dt>Schedule</dt>
            <dd>{job.schedule}</dd>
          </>
        )}
        {job.error && (
          <>
            <dt>Error</dt>
            <dd className="jp-llmlab-result-error">{job.error}</dd>
          </>
        )}
      </dl>
      <h3 className="jp-llmlab-subtitle">Parameters</h3>
      <TextBlock
        text={JSON.stringify(job.parameters, null, 2)}
        label="Job parameters"
      />
      {job.result && (
        <>
          <h3 className="jp-llmlab-subtitle">Result</h3>
          <TextBlock
            text={JSON.stringify(job.result, null, 2)}
            label="Job result"
          />
        </>
      )}
      <h3 className="jp-llmlab-subtitle">Logs</h3>
      <TextBlock
        text={logText || (final ? '(no output)' : '(waiting for output…)')}
        label="Job logs"
        className="jp-llmlab-logs"
      />
    </div>
  );
}
