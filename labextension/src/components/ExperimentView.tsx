/**
 * One experiment in the main area: live progress, status and spend, cancel
 * and resume, the per-variant summary (score means with confidence intervals,
 * wins/losses/ties against the baseline), and a paged preview of the results.
 * This file composes the parts: the data comes from `useExperimentDetail`,
 * the panels from `ExperimentToolbar`, `ExperimentSummaryTable` and
 * `ExperimentResultsTable`.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { formatDate, scorerNames } from '../utils';
import { ErrorBanner, Loading } from './common';
import { ExperimentResultsTable } from './ExperimentResultsTable';
import { ExperimentSummaryTable } from './ExperimentSummaryTable';
import { ExperimentToolbar } from './ExperimentToolbar';
import { VisibilityCheck } from './poll';
import { useExperimentDetail } from './useExperimentDetail';

export interface IExperimentViewProps {
  model: LlmLabModel;
  project: string;
  name: string;
  isVisible: VisibilityCheck;
  onOpenNotebook: (project: string, name: string) => Promise<unknown>;
}

export function ExperimentView(props: IExperimentViewProps): JSX.Element {
  const { model, project, name, isVisible } = props;
  const [offset, setOffset] = React.useState(0);
  const [variant, setVariant] = React.useState<number | null>(null);
  const [errorsOnly, setErrorsOnly] = React.useState(false);
  const [baseline, setBaseline] = React.useState(0);
  const { state, summary, results, live, error, setError, applyState } =
    useExperimentDetail(model, project, name, isVisible, {
      baseline,
      offset,
      variant,
      errorsOnly
    });

  const exp = state?.experiment ?? null;

  if (!exp) {
    return (
      <div className="jp-llmlab-DatasetView jp-llmlab-ExperimentView">
        <ErrorBanner error={error} />
        {!error && <Loading what={name} />}
      </div>
    );
  }

  const scorers = scorerNames(exp);

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
      <ExperimentToolbar
        model={model}
        project={project}
        name={name}
        exp={exp}
        live={live}
        onState={applyState}
        onError={setError}
        onOpenNotebook={props.onOpenNotebook}
      />
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

      <ExperimentSummaryTable
        name={name}
        exp={exp}
        scorers={scorers}
        summary={summary}
        baseline={baseline}
        onBaseline={setBaseline}
      />

      <ExperimentResultsTable
        name={name}
        exp={exp}
        results={results}
        offset={offset}
        onOffset={setOffset}
        variant={variant}
        onVariant={setVariant}
        errorsOnly={errorsOnly}
        onErrorsOnly={setErrorsOnly}
      />
    </div>
  );
}
