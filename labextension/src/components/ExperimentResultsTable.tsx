/**
 * An experiment's results panel: the variant and errors-only filters, one
 * page of results (input, output or error, scores, latency) and its pager.
 */
import * as React from 'react';

import type { IExperiment, IExperimentResults } from '../types';
import { cellText, formatMs, formatNumber } from '../utils';
import { Pager, TextBlock } from './common';
import { PAGE } from './useExperimentDetail';

export interface IExperimentResultsTableProps {
  name: string;
  exp: IExperiment;
  /** `null` while the first page loads. */
  results: IExperimentResults | null;
  offset: number;
  onOffset: (offset: number) => void;
  /** The variant shown, or `null` for all. */
  variant: number | null;
  onVariant: (variant: number | null) => void;
  errorsOnly: boolean;
  onErrorsOnly: (errorsOnly: boolean) => void;
}

export function ExperimentResultsTable(
  props: IExperimentResultsTableProps
): JSX.Element {
  const { name, exp, results, offset, variant, errorsOnly } = props;
  return (
    <>
      <div className="jp-llmlab-toolbar jp-llmlab-wrap">
        <h3 className="jp-llmlab-subtitle jp-llmlab-grow">Results</h3>
        <label className="jp-llmlab-inline-field">
          <span>Variant</span>
          <select
            className="jp-llmlab-select"
            aria-label="Filter results by variant"
            value={variant ?? ''}
            onChange={event => {
              props.onVariant(
                event.target.value === '' ? null : Number(event.target.value)
              );
              props.onOffset(0);
            }}
          >
            <option value="">All</option>
            {exp.variants.map(v => (
              <option key={v.idx} value={v.idx}>
                {v.name}
              </option>
            ))}
          </select>
        </label>
        <label className="jp-llmlab-radio">
          <input
            type="checkbox"
            checked={errorsOnly}
            onChange={event => {
              props.onErrorsOnly(event.target.checked);
              props.onOffset(0);
            }}
          />
          <span>Errors only</span>
        </label>
      </div>
      <div className="jp-llmlab-table-wrap">
        <table className="jp-llmlab-table" aria-label={`Results of ${name}`}>
          <thead>
            <tr>
              <th scope="col" className="jp-llmlab-rownum">
                Row
              </th>
              <th scope="col">Variant</th>
              <th scope="col">Input</th>
              <th scope="col">Output</th>
              <th scope="col">Scores</th>
              <th scope="col">Latency</th>
            </tr>
          </thead>
          <tbody>
            {(results?.items ?? []).map(result => (
              <tr key={`${result.variant_idx}-${result.row_idx}`}>
                <td className="jp-llmlab-rownum">{String(result.row_idx)}</td>
                <td>{result.variant}</td>
                <td>{cellText(result.input)}</td>
                <td>
                  {result.error ? (
                    <span className="jp-llmlab-result-error">
                      {`${result.error_code ?? 'error'}: ${result.error}`}
                    </span>
                  ) : (
                    <TextBlock
                      text={result.output ?? ''}
                      className="jp-llmlab-output"
                    />
                  )}
                </td>
                <td>
                  {Object.entries(result.scores ?? {})
                    .map(([key, value]) => `${key}=${formatNumber(value)}`)
                    .join(' ')}
                </td>
                <td className="jp-llmlab-num">{formatMs(result.latency_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager
        noun="results"
        offset={offset}
        pageSize={PAGE}
        page={results}
        onOffset={props.onOffset}
      />
    </>
  );
}
