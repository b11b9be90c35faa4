/**
 * The data behind one experiment view: its state (polled every second while
 * live), the per-variant summary against a baseline and one filtered page of
 * results, both reloaded while the run moves.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import type {
  IExperimentResults,
  IExperimentState,
  ISummaryRow
} from '../types';
import { experimentIsLive } from '../utils';
import { useLatest } from './common';
import { usePolling, VisibilityCheck } from './poll';

/** Results per page. */
export const PAGE = 20;
/** While running, the summary and results are reloaded at most this often. */
const DETAIL_REFRESH_MS = 2500;

/** What the view asks for: the summary's baseline and the results' page. */
export interface IExperimentQuery {
  baseline: number;
  offset: number;
  variant: number | null;
  errorsOnly: boolean;
}

export interface IExperimentDetail {
  state: IExperimentState | null;
  summary: ISummaryRow[] | null;
  results: IExperimentResults | null;
  /** Whether the experiment is running (or queued), so it is polled. */
  live: boolean;
  error: unknown;
  setError: (error: unknown) => void;
  /** Show a state returned by cancel/start and reload summary and results. */
  applyState: (fresh: IExperimentState) => void;
}

export function useExperimentDetail(
  model: LlmLabModel,
  project: string,
  name: string,
  isVisible: VisibilityCheck,
  query: IExperimentQuery
): IExperimentDetail {
  const { baseline, offset, variant, errorsOnly } = query;
  const [state, setState] = React.useState<IExperimentState | null>(null);
  const [summary, setSummary] = React.useState<ISummaryRow[] | null>(null);
  const [results, setResults] = React.useState<IExperimentResults | null>(null);
  const [error, setError] = React.useState<unknown>(null);
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

  const applyState = (fresh: IExperimentState) => {
    stateRef.current = fresh;
    setState(fresh);
    setError(null);
    setDetailTick(tick => tick + 1);
  };

  return { state, summary, results, live, error, setError, applyState };
}
