/**
 * The "New experiment" form: prompt versions × models on a dataset version,
 * scored by built-in scorers (and an optional JSON spec), within a budget.
 * The server validates; its errors are shown next to the field they name.
 * This file lays the form out; its state lives in `useNewExperimentForm`,
 * and the prompt versions, model rows and scorers are their own components.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import type { IExperimentState } from '../types';
import { ErrorBanner } from './common';
import { fieldErrorHelpers } from './FieldErrors';
import { ModelRows } from './ModelRows';
import { PromptVersionSelect } from './PromptVersionSelect';
import { ScorerFieldset } from './ScorerFieldset';
import { useNewExperimentForm } from './useNewExperimentForm';

export interface INewExperimentFormProps {
  model: LlmLabModel;
  project: string;
  /** Preselected prompt versions (`name@N`). */
  variants?: string[];
  onCreated: (state: IExperimentState) => void;
  onCancel?: () => void;
}

export function NewExperimentForm(props: INewExperimentFormProps): JSX.Element {
  const { model, project, onCreated } = props;
  const form = useNewExperimentForm(model, project, props.variants, onCreated);
  const { datasets, versions, dataset, datasetVersion, busy } = form;
  const listId = React.useId();
  const errors = fieldErrorHelpers(form.fieldErrors, listId);
  const { fieldError, invalid } = errors;

  return (
    <form
      className="jp-llmlab-form jp-llmlab-NewExperiment"
      onSubmit={form.submit}
      aria-label="New experiment"
      noValidate
    >
      <div className="jp-llmlab-row">
        <label className="jp-llmlab-field jp-llmlab-grow">
          <span>Name (optional: generated from the first prompt)</span>
          <input
            className="jp-llmlab-input"
            value={form.name}
            onChange={event => form.setName(event.target.value)}
            placeholder="e.g. summarize-v1-vs-v2"
            aria-label="Experiment name"
            {...invalid('name')}
          />
          {fieldError('name')}
        </label>
        <label className="jp-llmlab-field jp-llmlab-grow">
          <span>Description</span>
          <input
            className="jp-llmlab-input"
            value={form.description}
            onChange={event => form.setDescription(event.target.value)}
            aria-label="Description"
          />
        </label>
      </div>

      <div className="jp-llmlab-row">
        <PromptVersionSelect
          prompts={form.prompts}
          variants={form.variants}
          onVariants={form.setVariants}
          {...errors}
        />
        <ModelRows
          models={form.models}
          onModels={form.setModels}
          listId={listId}
          {...errors}
        />
      </div>

      <div className="jp-llmlab-row">
        <label className="jp-llmlab-field jp-llmlab-grow">
          <span>Dataset</span>
          <select
            className="jp-llmlab-select"
            aria-label="Dataset"
            value={dataset}
            onChange={event => form.setDataset(event.target.value)}
            {...invalid('dataset')}
          >
            {datasets.length === 0 && <option value="">No datasets</option>}
            {datasets.map(d => (
              <option key={d.name} value={d.name}>
                {d.name}
              </option>
            ))}
          </select>
          {fieldError('dataset')}
        </label>
        <label className="jp-llmlab-field jp-llmlab-grow">
          <span>Dataset version</span>
          <select
            className="jp-llmlab-select"
            aria-label="Dataset version"
            value={datasetVersion}
            onChange={event => form.setDatasetVersion(event.target.value)}
          >
            <option value="">
              {versions.length ? `latest (v${versions[0].number})` : 'latest'}
            </option>
            {versions.map(v => (
              <option key={v.number} value={String(v.number)}>
                {`v${v.number} · ${v.row_count} rows`}
              </option>
            ))}
          </select>
        </label>
        <label className="jp-llmlab-field">
          <span>Budget (USD, optional)</span>
          <input
            className="jp-llmlab-input"
            type="number"
            min="0"
            step="any"
            value={form.budget}
            placeholder="no limit"
            onChange={event => form.setBudget(event.target.value)}
            aria-label="Budget (USD)"
            {...invalid('budget')}
          />
          {fieldError('budget')}
        </label>
      </div>

      <ScorerFieldset
        scorers={form.scorers}
        onScorers={form.setScorers}
        scorerSpec={form.scorerSpec}
        onScorerSpec={form.setScorerSpec}
        {...errors}
      />

      <ErrorBanner error={form.error} onDismiss={() => form.setError(null)} />
      <div className="jp-llmlab-toolbar jp-llmlab-tight">
        <button
          type="submit"
          className="jp-llmlab-button jp-mod-accept"
          disabled={busy || !project}
          aria-label="Start experiment"
        >
          {busy ? 'Starting…' : 'Start experiment'}
        </button>
        {props.onCancel && (
          <button
            type="button"
            className="jp-llmlab-button"
            onClick={props.onCancel}
          >
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
