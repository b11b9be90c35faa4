/**
 * An experiment's status toolbar: status, progress and spend, and the
 * cancel, resume (with an optional new budget) and open-in-a-notebook
 * buttons.
 */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { errorMessage } from '../request';
import type { IExperiment, IExperimentState } from '../types';
import {
  FINAL_EXPERIMENT_STATUSES,
  formatUsd,
  progressPercent
} from '../utils';
import { ProgressBar, StatusBadge } from './ExperimentList';

export interface IExperimentToolbarProps {
  model: LlmLabModel;
  project: string;
  name: string;
  exp: IExperiment;
  /** Whether the experiment is running (or queued). */
  live: boolean;
  /** The state a cancel or start returned. */
  onState: (fresh: IExperimentState) => void;
  onError: (error: unknown) => void;
  onOpenNotebook: (project: string, name: string) => Promise<unknown>;
}

export function ExperimentToolbar(props: IExperimentToolbarProps): JSX.Element {
  const { model, project, name, exp, live } = props;
  const [budget, setBudget] = React.useState('');
  const [busy, setBusy] = React.useState(false);

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
      props.onState(fresh);
      model.notifyChanged({ kind: 'experiment', project, name });
    } catch (err) {
      props.onError(err);
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

  const final = FINAL_EXPERIMENT_STATUSES.includes(exp.status);
  const percent = progressPercent(exp);

  return (
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
  );
}
