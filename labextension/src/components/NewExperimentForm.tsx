/**
 * The "New experiment" form: prompt versions × models on a dataset version,
 * scored by built-in scorers (and an optional JSON spec), within a budget.
 * The server validates; its errors are shown next to the field they name.
 */
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { LlmLabAPIError, errorMessage } from '../request';
import type {
  ICreateExperiment,
  IDataset,
  IDatasetVersion,
  IExperimentState,
  IPrompt
} from '../types';
import { ExperimentFormField, experimentFieldOf, parseScorers } from '../utils';
import { ErrorBanner } from './common';

/** Models offered as suggestions; any model name the gateway knows works. */
export const MODEL_SUGGESTIONS = [
  'fake/echo',
  'fake/upper',
  'local/smollm2',
  'openai/gpt-4o-mini'
];

export const BUILTIN_SCORERS = [
  'exact_match',
  'contains',
  'json_valid',
  'similarity'
];

/** Versions offered per prompt (newest first); older ones: type `name@N`. */
const VERSIONS_PER_PROMPT = 20;

/**
 * `name@N` references by name, then oldest version first: the first variant
 * is the summary's default baseline.
 */
export function sortRefs(refs: string[]): string[] {
  const split = (ref: string): [string, number] => {
    const at = ref.lastIndexOf('@');
    return at < 0 ? [ref, 0] : [ref.slice(0, at), Number(ref.slice(at + 1))];
  };
  return [...refs].sort((a, b) => {
    const [na, va] = split(a);
    const [nb, vb] = split(b);
    return na === nb ? va - vb : na < nb ? -1 : 1;
  });
}

export interface INewExperimentFormProps {
  model: LlmLabModel;
  project: string;
  /** Preselected prompt versions (`name@N`). */
  variants?: string[];
  onCreated: (state: IExperimentState) => void;
  onCancel?: () => void;
}

type FieldErrors = Partial<Record<ExperimentFormField, string>>;

export function NewExperimentForm(props: INewExperimentFormProps): JSX.Element {
  const { model, project, onCreated } = props;
  const [prompts, setPrompts] = React.useState<IPrompt[]>([]);
  const [datasets, setDatasets] = React.useState<IDataset[]>([]);
  const [versions, setVersions] = React.useState<IDatasetVersion[]>([]);
  const [name, setName] = React.useState('');
  const [description, setDescription] = React.useState('');
  const [variants, setVariants] = React.useState<string[]>(
    props.variants ?? []
  );
  const [models, setModels] = React.useState<string[]>(['']);
  const [dataset, setDataset] = React.useState('');
  const [datasetVersion, setDatasetVersion] = React.useState('');
  const [scorers, setScorers] = React.useState<string[]>([]);
  const [scorerSpec, setScorerSpec] = React.useState('');
  const [budget, setBudget] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = React.useState<FieldErrors>({});
  const listId = React.useId();

  React.useEffect(() => {
    let cancelled = false;
    Promise.all([
      model.client.listPrompts(project, { limit: 500, sort: 'name' }),
      model.client.listDatasets(project, { limit: 500 })
    ])
      .then(([promptPage, datasetPage]) => {
        if (cancelled) {
          return;
        }
        setPrompts(promptPage.items);
        setDatasets(datasetPage.items);
        setDataset(previous => previous || datasetPage.items[0]?.name || '');
      })
      .catch(err => !cancelled && setError(err));
    return () => {
      cancelled = true;
    };
  }, [model, project]);

  React.useEffect(() => {
    if (!dataset) {
      setVersions([]);
      return;
    }
    let cancelled = false;
    model.client
      .listDatasetVersions(project, dataset)
      .then(page => {
        if (!cancelled) {
          setVersions([...page.items].sort((a, b) => b.number - a.number));
          setDatasetVersion('');
        }
      })
      .catch(err => !cancelled && setError(err));
    return () => {
      cancelled = true;
    };
  }, [model, project, dataset]);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setFieldErrors({});
    let body: ICreateExperiment;
    try {
      body = buildBody();
    } catch (err) {
      const field = (err as { field?: ExperimentFormField }).field;
      if (field) {
        setFieldErrors({ [field]: errorMessage(err) });
      } else {
        setError(err);
      }
      return;
    }
    setBusy(true);
    try {
      const state = await model.client.createExperiment(project, body);
      model.notifyChanged({
        kind: 'experiment',
        project,
        name: state.experiment.name
      });
      onCreated(state);
    } catch (err) {
      const field =
        err instanceof LlmLabAPIError ? experimentFieldOf(err.field) : null;
      if (field) {
        setFieldErrors({ [field]: (err as LlmLabAPIError).message });
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const buildBody = (): ICreateExperiment => {
    const fail = (field: ExperimentFormField, message: string) =>
      Object.assign(new Error(message), { field });
    if (variants.length === 0) {
      throw fail('variants', 'Choose at least one prompt version.');
    }
    if (!dataset) {
      throw fail('dataset', 'Choose a dataset.');
    }
    let scorerList: (string | Record<string, unknown>)[];
    try {
      scorerList = parseScorers(scorers, scorerSpec);
    } catch (err) {
      throw fail('scorers', `Scorer spec: ${errorMessage(err)}`);
    }
    const body: ICreateExperiment = {
      dataset: datasetVersion ? `${dataset}@${datasetVersion}` : dataset,
      variants,
      scorers: scorerList
    };
    const modelList = models.map(m => m.trim()).filter(m => m);
    if (modelList.length) {
      body.models = modelList;
    }
    if (name.trim()) {
      body.name = name.trim();
    }
    if (description.trim()) {
      body.description = description.trim();
    }
    if (budget.trim()) {
      const value = Number(budget);
      if (!(value > 0)) {
        throw fail(
          'budget',
          'The budget must be a positive number of dollars.'
        );
      }
      body.budget_usd = value;
    }
    return body;
  };

  const fieldError = (field: ExperimentFormField) =>
    fieldErrors[field] ? (
      <div
        className="jp-llmlab-field-error"
        role="alert"
        id={`${listId}-${field}-error`}
      >
        {fieldErrors[field]}
      </div>
    ) : null;

  const invalid = (field: ExperimentFormField) => ({
    'aria-invalid': fieldErrors[field] ? true : undefined,
    'aria-describedby': fieldErrors[field]
      ? `${listId}-${field}-error`
      : undefined
  });

  const versionOptions = prompts.map(prompt => {
    const numbers: number[] = [];
    for (
      let n = prompt.latest_version;
      n >= Math.max(1, prompt.latest_version - VERSIONS_PER_PROMPT + 1);
      n--
    ) {
      numbers.push(n);
    }
    return { prompt, numbers };
  });

  return (
    <form
      className="jp-llmlab-form jp-llmlab-NewExperiment"
      onSubmit={submit}
      aria-label="New experiment"
      noValidate
    >
      <div className="jp-llmlab-row">
        <label className="jp-llmlab-field jp-llmlab-grow">
          <span>Name (optional: generated from the first prompt)</span>
          <input
            className="jp-llmlab-input"
            value={name}
            onChange={event => setName(event.target.value)}
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
            value={description}
            onChange={event => setDescription(event.target.value)}
            aria-label="Description"
          />
        </label>
      </div>

      <div className="jp-llmlab-row">
        <label className="jp-llmlab-field jp-llmlab-grow">
          <span>Prompt versions (select several: Ctrl/⌘-click)</span>
          <select
            multiple
            className="jp-llmlab-select jp-llmlab-multi"
            aria-label="Prompt versions"
            value={variants}
            onChange={event =>
              setVariants(
                sortRefs(Array.from(event.target.selectedOptions, o => o.value))
              )
            }
            {...invalid('variants')}
          >
            {versionOptions.map(({ prompt, numbers }) => (
              <optgroup key={prompt.name} label={prompt.name}>
                {numbers.map(n => (
                  <option
                    key={n}
                    value={`${prompt.name}@${n}`}
                  >{`${prompt.name}@${n}`}</option>
                ))}
              </optgroup>
            ))}
          </select>
          <span className="jp-llmlab-hint">
            {variants.length
              ? `Selected: ${variants.join(', ')}`
              : prompts.length
                ? 'No version selected'
                : 'No prompts in this project yet'}
          </span>
          {fieldError('variants')}
        </label>

        <fieldset className="jp-llmlab-field jp-llmlab-grow jp-llmlab-fieldset">
          <legend>Models (crossed with the prompt versions)</legend>
          <datalist id={`${listId}-models`}>
            {MODEL_SUGGESTIONS.map(m => (
              <option key={m} value={m} />
            ))}
          </datalist>
          {models.map((value, index) => (
            <div key={index} className="jp-llmlab-toolbar jp-llmlab-tight">
              <input
                className="jp-llmlab-input jp-llmlab-grow"
                list={`${listId}-models`}
                value={value}
                placeholder="fake/echo (empty: the prompt's own model)"
                aria-label={`Model ${index + 1}`}
                onChange={event =>
                  setModels(
                    models.map((m, i) => (i === index ? event.target.value : m))
                  )
                }
                {...invalid('models')}
              />
              {models.length > 1 && (
                <button
                  type="button"
                  className="jp-llmlab-icon-button"
                  aria-label={`Remove model ${index + 1}`}
                  title="Remove"
                  onClick={() =>
                    setModels(models.filter((_, i) => i !== index))
                  }
                >
                  ×
                </button>
              )}
            </div>
          ))}
          <div>
            <button
              type="button"
              className="jp-llmlab-button"
              aria-label="Add model"
              onClick={() => setModels([...models, ''])}
            >
              + Model
            </button>
          </div>
          {fieldError('models')}
        </fieldset>
      </div>

      <div className="jp-llmlab-row">
        <label className="jp-llmlab-field jp-llmlab-grow">
          <span>Dataset</span>
          <select
            className="jp-llmlab-select"
            aria-label="Dataset"
            value={dataset}
            onChange={event => setDataset(event.target.value)}
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
            onChange={event => setDatasetVersion(event.target.value)}
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
            value={budget}
            placeholder="no limit"
            onChange={event => setBudget(event.target.value)}
            aria-label="Budget (USD)"
            {...invalid('budget')}
          />
          {fieldError('budget')}
        </label>
      </div>

      <fieldset className="jp-llmlab-field jp-llmlab-fieldset">
        <legend>Scorers</legend>
        <div className="jp-llmlab-toolbar jp-llmlab-wrap jp-llmlab-tight">
          {BUILTIN_SCORERS.map(scorer => (
            <label key={scorer} className="jp-llmlab-radio">
              <input
                type="checkbox"
                aria-label={scorer}
                checked={scorers.includes(scorer)}
                onChange={event =>
                  setScorers(
                    event.target.checked
                      ? [...scorers, scorer]
                      : scorers.filter(s => s !== scorer)
                  )
                }
              />
              <code>{scorer}</code>
            </label>
          ))}
        </div>
        <textarea
          className="jp-llmlab-input jp-llmlab-code"
          rows={3}
          value={scorerSpec}
          onChange={event => setScorerSpec(event.target.value)}
          placeholder='Optional JSON: {"type": "contains", "value": "Paris", "name": "has-paris"} or a list'
          aria-label="Scorer spec (JSON)"
          spellCheck={false}
          {...invalid('scorers')}
        />
        {fieldError('scorers')}
      </fieldset>

      <ErrorBanner error={error} onDismiss={() => setError(null)} />
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
