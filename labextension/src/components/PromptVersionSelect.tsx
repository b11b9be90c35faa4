/**
 * The "New experiment" form's prompt-version picker: a multi-select of the
 * newest versions of each prompt, kept sorted so the first is the baseline.
 */
import * as React from 'react';

import type { IPrompt } from '../types';
import type { IFieldErrorHelpers } from './FieldErrors';

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

export interface IPromptVersionSelectProps extends IFieldErrorHelpers {
  prompts: IPrompt[];
  /** The selected `name@N` references. */
  variants: string[];
  onVariants: (variants: string[]) => void;
}

export function PromptVersionSelect(
  props: IPromptVersionSelectProps
): JSX.Element {
  const { prompts, variants, fieldError, invalid } = props;

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
    <label className="jp-llmlab-field jp-llmlab-grow">
      <span>Prompt versions (select several: Ctrl/⌘-click)</span>
      <select
        multiple
        className="jp-llmlab-select jp-llmlab-multi"
        aria-label="Prompt versions"
        value={variants}
        onChange={event =>
          props.onVariants(
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
  );
}
