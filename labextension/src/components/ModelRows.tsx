/**
 * The "New experiment" form's model rows: one input per model (crossed with
 * the prompt versions), with suggestions, remove and add buttons.
 */
import * as React from 'react';

import type { IFieldErrorHelpers } from './FieldErrors';

/** Models offered as suggestions; any model name the gateway knows works. */
export const MODEL_SUGGESTIONS = [
  'fake/echo',
  'fake/upper',
  'local/smollm2',
  'openai/gpt-4o-mini'
];

export interface IModelRowsProps extends IFieldErrorHelpers {
  /** One entry per row; an empty one means the prompt's own model. */
  models: string[];
  onModels: (models: string[]) => void;
  /** Prefix of the suggestions' datalist id. */
  listId: string;
}

export function ModelRows(props: IModelRowsProps): JSX.Element {
  const { models, listId, fieldError, invalid } = props;
  const setModels = props.onModels;
  return (
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
              onClick={() => setModels(models.filter((_, i) => i !== index))}
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
  );
}
