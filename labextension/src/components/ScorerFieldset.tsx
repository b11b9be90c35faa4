/**
 * The "New experiment" form's scorers: a checkbox per built-in scorer and an
 * optional JSON spec for configured ones.
 */
import * as React from 'react';

import type { IFieldErrorHelpers } from './FieldErrors';

export const BUILTIN_SCORERS = [
  'exact_match',
  'contains',
  'json_valid',
  'similarity'
];

export interface IScorerFieldsetProps extends IFieldErrorHelpers {
  /** The checked built-in scorers. */
  scorers: string[];
  onScorers: (scorers: string[]) => void;
  /** The JSON spec as typed. */
  scorerSpec: string;
  onScorerSpec: (spec: string) => void;
}

export function ScorerFieldset(props: IScorerFieldsetProps): JSX.Element {
  const { scorers, scorerSpec, fieldError, invalid } = props;
  return (
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
                props.onScorers(
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
        onChange={event => props.onScorerSpec(event.target.value)}
        placeholder='Optional JSON: {"type": "contains", "value": "Paris", "name": "has-paris"} or a list'
        aria-label="Scorer spec (JSON)"
        spellCheck={false}
        {...invalid('scorers')}
      />
      {fieldError('scorers')}
    </fieldset>
  );
}
