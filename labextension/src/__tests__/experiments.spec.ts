/**
 * The experiment and job routes of the API client, and the helpers of the
 * Experiments and Jobs panels.
 */
import { ServerConnection } from '@jupyterlab/services';

import { LlmLabClient } from '../api';
import { LlmLabAPIError, errorMessage } from '../request';
import { sortRefs } from '../components/PromptVersionSelect';
import type { ISummaryRow } from '../types';
import {
  experimentFieldOf,
  experimentIsLive,
  experimentSnippet,
  formatMs,
  formatNumber,
  formatUsd,
  parseScorers,
  progressPercent,
  scorerCells,
  scorerNames
} from '../utils';

interface ISeen {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

function fakeServer(
  reply: (seen: ISeen) => { status?: number; body?: unknown }
) {
  const seen: ISeen[] = [];
  const fetchMock = jest.fn(async (input: RequestInfo) => {
    const request = input as Request;
    const entry: ISeen = {
      url: request.url.replace(/[?&]\d{10,}$/, ''),
      method: request.method,
      headers: request.headers,
      body: request.body ? await request.text() : ''
    };
    seen.push(entry);
    const { status = 200, body } = reply(entry);
    return new Response(
      status === 204 || body === undefined ? null : JSON.stringify(body),
      { status, headers: { 'Content-Type': 'application/json' } }
    );
  });
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/ada/',
    wsUrl: 'ws://localhost:8888/user/ada/',
    token: 'secret-token',
    fetch: fetchMock as unknown as typeof fetch
  });
  return { seen, settings };
}

const API = 'http://localhost:8888/user/ada/llmlab/api';

describe('experiment routes', () => {
  it('lists, reads, creates, starts and cancels experiments', async () => {
    const { seen, settings } = fakeServer(({ method }) => ({
      status: method === 'POST' ? 201 : 200,
      body: { items: [], next_offset: null }
    }));
    const client = new LlmLabClient(settings);
    await client.listExperiments('demo', { status: 'running', limit: 10 });
    await client.getExperiment('demo', 'exp-1');
    await client.createExperiment('demo', {
      dataset: 'qa@2',
      variants: ['greet@1', 'greet@2'],
      models: ['fake/echo', 'fake/upper'],
      scorers: ['exact_match', { type: 'contains', value: 'Paris' }],
      budget_usd: 0.5
    });
    await client.startExperiment('demo', 'exp-1');
    await client.startExperiment('demo', 'exp-1', 2);
    await client.cancelExperiment('demo', 'exp-1');
    expect(seen.map(s => `${s.method} ${s.url.replace(API, '')}`)).toEqual([
      'GET /projects/demo/experiments?status=running&limit=10',
      'GET /projects/demo/experiments/exp-1',
      'POST /projects/demo/experiments',
      'POST /projects/demo/experiments/exp-1/start',
      'POST /projects/demo/experiments/exp-1/start',
      'POST /projects/demo/experiments/exp-1/cancel'
    ]);
    expect(JSON.parse(seen[2].body)).toEqual({
      dataset: 'qa@2',
      variants: ['greet@1', 'greet@2'],
      models: ['fake/echo', 'fake/upper'],
      scorers: ['exact_match', { type: 'contains', value: 'Paris' }],
      budget_usd: 0.5
    });
    expect(seen[2].headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(seen[3].body)).toEqual({});
    expect(JSON.parse(seen[4].body)).toEqual({ budget_usd: 2 });
    expect(seen[5].body).toBe('');
  });

  it('reads the summary and pages through results', async () => {
    const { seen, settings } = fakeServer(() => ({
      body: { items: [], next_offset: null, total: 0 }
    }));
    const client = new LlmLabClient(settings);
    await client.experimentSummary('demo', 'e', { baseline: 1 });
    await client.experimentResults('demo', 'e', { offset: 20, limit: 20 });
    await client.experimentResults('demo', 'e', {
      variant: 0,
      errors_only: true,
      search: 'a b'
    });
    await client.experimentResults('demo', 'e', { errors_only: false });
    expect(seen.map(s => s.url.replace(API, ''))).toEqual([
      '/projects/demo/experiments/e/summary?baseline=1',
      '/projects/demo/experiments/e/results?offset=20&limit=20',
      '/projects/demo/experiments/e/results?variant=0&errors_only=true&search=a+b',
      '/projects/demo/experiments/e/results'
    ]);
  });

  it('keeps the server validation error: message, code and field', async () => {
    const { settings } = fakeServer(() => ({
      status: 400,
      body: {
        message: 'dataset qa@1 lacks column name needed by prompt greet@1',
        error_code: 'invalid_input',
        field: 'dataset'
      }
    }));
    const client = new LlmLabClient(settings);
    let caught: unknown = null;
    try {
      await client.createExperiment('demo', {
        dataset: 'qa',
        variants: ['greet@1']
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LlmLabAPIError);
    const error = caught as LlmLabAPIError;
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe('invalid_input');
    expect(error.field).toBe('dataset');
    expect(experimentFieldOf(error.field)).toBe('dataset');
    expect(errorMessage(error)).toContain('lacks column name');
  });

  it('encodes experiment names in paths', async () => {
    const { seen, settings } = fakeServer(() => ({ body: {} }));
    const client = new LlmLabClient(settings);
    await client.getExperiment('my proj', 'a/b');
    expect(new URL(seen[0].url).pathname).toBe(
      '/user/ada/llmlab/api/projects/my%20proj/experiments/a%2Fb'
    );
  });
});

describe('job routes', () => {
  it('lists, reads, submits and cancels jobs', async () => {
    const { seen, settings } = fakeServer(({ method }) => ({
      status: method === 'POST' ? 201 : 200,
      body: { items: [], next_offset: null }
    }));
    const client = new LlmLabClient(settings);
    await client.listJobs('demo', { state: 'running', limit: 50 });
    await client.getJob('demo', 7);
    await client.submitJob(
      'demo',
      'builtin-sleep',
      { seconds: 1 },
      { idempotency_key: 'k' }
    );
    await client.cancelJob('demo', 7);
    expect(seen.map(s => `${s.method} ${s.url.replace(API, '')}`)).toEqual([
      'GET /projects/demo/jobs?state=running&limit=50',
      'GET /projects/demo/jobs/7',
      'POST /projects/demo/jobs',
      'POST /projects/demo/jobs/7/cancel'
    ]);
    expect(JSON.parse(seen[2].body)).toEqual({
      template: 'builtin-sleep',
      parameters: { seconds: 1 },
      idempotency_key: 'k'
    });
  });

  it('reads logs incrementally with ?after', async () => {
    const { seen, settings } = fakeServer(({ url }) => {
      const after = Number(new URL(url).searchParams.get('after'));
      return {
        body: {
          items: after === 0 ? [{ attempt: 1, text: 'a', created_at: '' }] : [],
          next_after: after === 0 ? 1 : after
        }
      };
    });
    const client = new LlmLabClient(settings);
    const first = await client.jobLogs('demo', 3);
    const second = await client.jobLogs('demo', 3, first.next_after);
    expect(first.items).toHaveLength(1);
    expect(second.items).toHaveLength(0);
    expect(seen.map(s => s.url.replace(API, ''))).toEqual([
      '/projects/demo/jobs/3/logs?after=0',
      '/projects/demo/jobs/3/logs?after=1'
    ]);
  });

  it('links to the report and the notebook under the base URL', () => {
    const { settings } = fakeServer(() => ({}));
    const client = new LlmLabClient(settings);
    expect(client.jobReportUrl('my proj', 4)).toBe(
      `${API}/projects/my%20proj/jobs/4/report`
    );
    expect(client.jobNotebookUrl('demo', 4)).toBe(
      `${API}/projects/demo/jobs/4/notebook`
    );
  });
});

describe('experiment helpers', () => {
  it('builds the comparison cell, escaping names', () => {
    expect(experimentSnippet('demo', 'exp-1')).toBe(
      [
        'from llmlab_jupyter import Lab',
        'lab = Lab(project="demo")',
        'exp = lab.experiments.get("exp-1")',
        'exp.compare()'
      ].join('\n')
    );
    expect(experimentSnippet('x")\nimport os#', 'n').split('\n')).toHaveLength(
      4
    );
  });

  it('computes progress and liveness', () => {
    expect(progressPercent({ completed_items: 3, total_items: 4 })).toBe(75);
    expect(progressPercent({ completed_items: 0, total_items: 0 })).toBe(0);
    expect(progressPercent({ completed_items: 9, total_items: 4 })).toBe(100);
    expect(experimentIsLive('running', false)).toBe(true);
    expect(experimentIsLive('created', true)).toBe(true);
    expect(experimentIsLive('completed', false)).toBe(false);
  });

  it('formats summary numbers and scorer cells', () => {
    expect(formatNumber(0.66667)).toBe('0.667');
    expect(formatNumber(2)).toBe('2');
    expect(formatNumber(null)).toBe('—');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(0.00123)).toBe('$0.0012');
    expect(formatUsd(1.5)).toBe('$1.50');
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(1500)).toBe('1.50 s');
    const base: ISummaryRow = {
      variant: 'greet@1 · fake/echo',
      variant_idx: 0,
      prompt: 'greet@1',
      model: 'fake/echo',
      results: 3,
      errors: 0,
      error_rate: 0,
      latency_p50_ms: 1,
      latency_p95_ms: 2,
      cost_usd: 0,
      'exact_match.mean': 1,
      'exact_match.ci_low': 1,
      'exact_match.ci_high': 1
    };
    expect(scorerCells(base, 'exact_match')).toEqual({
      mean: '1',
      ci: '[1, 1]',
      wlt: 'baseline'
    });
    const other: ISummaryRow = {
      ...base,
      variant_idx: 1,
      'exact_match.mean': 0.5,
      'exact_match.ci_low': 0,
      'exact_match.ci_high': 1,
      'exact_match.wins': 0,
      'exact_match.losses': 2,
      'exact_match.ties': 1
    };
    expect(scorerCells(other, 'exact_match')).toEqual({
      mean: '0.500',
      ci: '[0, 1]',
      wlt: '0/2/1'
    });
    expect(
      scorerCells({ ...other, 'exact_match.wins': undefined }, 'exact_match')
        .wlt
    ).toBe('—');
    expect(
      scorerCells({ ...base, 'exact_match.mean': null }, 'exact_match')
    ).toEqual({ mean: '—', ci: '[1, 1]', wlt: 'baseline' });
  });

  it('names scorers and parses the optional JSON spec', () => {
    expect(
      scorerNames({
        scorers: [{ type: 'exact_match' }, { type: 'contains', name: 'paris' }]
      } as never)
    ).toEqual(['exact_match', 'paris']);
    expect(parseScorers(['exact_match'], '')).toEqual(['exact_match']);
    expect(
      parseScorers([], '{"type": "contains", "value": "Paris", "name": "p"}')
    ).toEqual([{ type: 'contains', value: 'Paris', name: 'p' }]);
    expect(
      parseScorers(
        ['json_valid'],
        '["similarity", {"type": "regex", "pattern": "x"}]'
      )
    ).toEqual(['json_valid', 'similarity', { type: 'regex', pattern: 'x' }]);
    expect(() => parseScorers([], '[1]')).toThrow(/scorer spec/);
    expect(() => parseScorers([], '{oops')).toThrow();
  });

  it('maps server error fields to form fields', () => {
    expect(experimentFieldOf('variants[0]')).toBe('variants');
    expect(experimentFieldOf('variants.1.prompt')).toBe('variants');
    expect(experimentFieldOf('model')).toBe('models');
    expect(experimentFieldOf('scorers')).toBe('scorers');
    expect(experimentFieldOf('type')).toBe('scorers');
    expect(experimentFieldOf('budget_usd')).toBe('budget');
    expect(experimentFieldOf('name')).toBe('name');
    expect(experimentFieldOf('body')).toBeNull();
    expect(experimentFieldOf(null)).toBeNull();
  });
});

describe('new experiment form', () => {
  it('orders the chosen prompt versions oldest first (the first is the baseline)', () => {
    expect(sortRefs(['b@1', 'a@10', 'a@2', 'a@1'])).toEqual([
      'a@1',
      'a@2',
      'a@10',
      'b@1'
    ]);
  });
});
