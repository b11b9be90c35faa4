/**
 * An experiment's summary panel: the baseline picker and one row per variant
 * (results, errors, latency, cost, and per scorer the mean with its
 * confidence interval and wins/losses/ties against the baseline).
 */
import * as React from 'react';

import type { IExperiment, ISummaryRow } from '../types';
import { formatMs, formatUsd, scorerCells } from '../utils';
import { Loading } from './common';

export interface IExperimentSummaryTableProps {
  name: string;
  exp: IExperiment;
  scorers: string[];
  /** `null` while loading. */
  summary: ISummaryRow[] | null;
  baseline: number;
  onBaseline: (baseline: number) => void;
}

export function ExperimentSummaryTable(
  props: IExperimentSummaryTableProps
): JSX.Element {
  const { name, exp, scorers, summary, baseline } = props;
  return (
    <>
      <div className="jp-llmlab-toolbar">
        <h3 className="jp-llmlab-subtitle jp-llmlab-grow">Summary</h3>
        <label className="jp-llmlab-inline-field">
          <span>Baseline</span>
          <select
            className="jp-llmlab-select"
            aria-label="Baseline variant"
            value={baseline}
            onChange={event => props.onBaseline(Number(event.target.value))}
          >
            {exp.variants.map(v => (
              <option key={v.idx} value={v.idx}>
                {v.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {summary === null ? (
        <Loading what="the summary" />
      ) : (
        <div className="jp-llmlab-table-wrap">
          <table
            className="jp-llmlab-table jp-llmlab-summary"
            aria-label={`Summary of ${name}`}
          >
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col">Results</th>
                <th scope="col">Errors</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
                <th scope="col">Cost</th>
                {scorers.map(scorer => (
                  <React.Fragment key={scorer}>
                    <th scope="col" title={`${scorer}: mean [CI]`}>
                      {`${scorer}.mean`}
                    </th>
                    <th
                      scope="col"
                      title={`${scorer}: wins/losses/ties vs the baseline`}
                    >
                      {`${scorer} W/L/T`}
                    </th>
                  </React.Fragment>
                ))}
              </tr>
            </thead>
            <tbody>
              {summary.map(row => (
                <tr key={row.variant_idx}>
                  <th scope="row">{row.variant}</th>
                  <td className="jp-llmlab-num">{String(row.results)}</td>
                  <td className="jp-llmlab-num">{String(row.errors)}</td>
                  <td className="jp-llmlab-num">
                    {formatMs(row.latency_p50_ms)}
                  </td>
                  <td className="jp-llmlab-num">
                    {formatMs(row.latency_p95_ms)}
                  </td>
                  <td className="jp-llmlab-num">{formatUsd(row.cost_usd)}</td>
                  {scorers.map(scorer => {
                    const cells = scorerCells(row, scorer, baseline);
                    return (
                      <React.Fragment key={scorer}>
                        <td className="jp-llmlab-num">
                          {cells.mean}
                          {cells.ci && (
                            <span className="jp-llmlab-ci">{` ${cells.ci}`}</span>
                          )}
                        </td>
                        <td className="jp-llmlab-num">{cells.wlt}</td>
                      </React.Fragment>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
