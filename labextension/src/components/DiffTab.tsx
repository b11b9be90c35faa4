/**
 * The Diff tab: pick any two versions, see them side by side.
 */
import * as React from 'react';

import type { IPromptVersion } from '../types';
import { versionToDiffText } from '../utils';
import { DiffMergeView } from './MergeView';

export interface IDiffTabProps {
  versions: IPromptVersion[];
  a: number | null;
  b: number | null;
  onChange: (a: number, b: number) => void;
}

export function DiffTab(props: IDiffTabProps): JSX.Element {
  const { versions, onChange } = props;
  if (versions.length === 0) {
    return <div className="jp-llmlab-empty">No versions to compare.</div>;
  }
  const newest = versions[0].number;
  const b = props.b ?? newest;
  const a = props.a ?? Math.max(1, b - 1);
  const va = versions.find(v => v.number === a);
  const vb = versions.find(v => v.number === b);

  const picker = (
    label: string,
    value: number,
    set: (value: number) => void
  ) => (
    <label className="jp-llmlab-inline-field">
      <span>{label}</span>
      <select
        className="jp-llmlab-select"
        aria-label={`${label} version`}
        value={value}
        onChange={event => set(Number(event.target.value))}
      >
        {versions.map(v => (
          <option key={v.number} value={v.number}>
            {`v${v.number}${v.labels.length ? ' (' + v.labels.join(', ') + ')' : ''}${v.message ? ' — ' + v.message.slice(0, 40) : ''}`}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div className="jp-llmlab-DiffTab">
      <div className="jp-llmlab-toolbar">
        {picker('From', a, value => onChange(value, b))}
        <button
          type="button"
          className="jp-llmlab-icon-button"
          aria-label="Swap versions"
          title="Swap"
          onClick={() => onChange(b, a)}
        >
          ⇄
        </button>
        {picker('To', b, value => onChange(a, value))}
      </div>
      {va && vb ? (
        <>
          {va.content_hash === vb.content_hash && (
            <div className="jp-llmlab-note" role="status">
              These versions have the same content.
            </div>
          )}
          <DiffMergeView
            a={versionToDiffText(va)}
            b={versionToDiffText(vb)}
            labelA={`v${va.number}`}
            labelB={`v${vb.number}`}
          />
        </>
      ) : (
        <div className="jp-llmlab-empty">Choose two versions.</div>
      )}
    </div>
  );
}
