/**
 * The "New experiment" form's state: the prompts, datasets and dataset
 * versions offered, the values entered, client-side checks that build the
 * request body, and submission with the server's errors mapped to fields.
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
import type { FieldErrors } from './FieldErrors';

type Setter<T> = React.Dispatch<React.SetStateAction<T>>;

export interface INewExperimentForm {
  prompts: IPrompt[];
  datasets: IDataset[];
  /** The chosen dataset's versions, newest first. */
  versions: IDatasetVersion[];
  name: string;
  setName: Setter<string>;
  description: string;
  setDescription: Setter<string>;
  variants: string[];
  setVariants: Setter<string[]>;
  models: string[];
  setModels: Setter<string[]>;
  dataset: string;
  setDataset: Setter<string>;
  datasetVersion: string;
  setDatasetVersion: Setter<string>;
  scorers: string[];
  setScorers: Setter<string[]>;
  scorerSpec: string;
  setScorerSpec: Setter<string>;
  budget: string;
  setBudget: Setter<string>;
  busy: boolean;
  error: unknown;
  setError: Setter<unknown>;
  fieldErrors: FieldErrors;
  submit: (event: React.FormEvent) => Promise<void>;
}

export function useNewExperimentForm(
  model: LlmLabModel,
  project: string,
  /** Preselected prompt versions (`name@N`). */
  initialVariants: string[] | undefined,
  onCreated: (state: IExperimentState) => void
): INewExperimentForm {
  const [prompts, setPrompts] = React.useState<IPrompt[]>([]);
  const [datasets, setDatasets] = React.useState<IDataset[]>([]);
  const [versions, setVersions] = React.useState<IDatasetVersion[]>([]);
  const [name, setName] = React.useState('');
  const [description, setDescription] = React.useState('');
  const [variants, setVariants] = React.useState<string[]>(
    initialVariants ?? []
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

  return {
    prompts,
    datasets,
    versions,
    name,
    setName,
    description,
    setDescription,
    variants,
    setVariants,
    models,
    setModels,
    dataset,
    setDataset,
    datasetVersion,
    setDatasetVersion,
    scorers,
    setScorers,
    scorerSpec,
    setScorerSpec,
    budget,
    setBudget,
    busy,
    error,
    setError,
    fieldErrors,
    submit
  };
}
