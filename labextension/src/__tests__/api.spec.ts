/**
 * The API client: URLs under base_url, XSRF and token headers, JSON bodies,
 * error replies turned into LlmLabAPIError, and every route's method and path.
 */
import { ServerConnection } from '@jupyterlab/services';

import { LlmLabClient, formatFromFileName } from '../api';
import {
  LlmLabAPIError,
  errorMessage,
  queryString,
  requestAPI
} from '../request';
import {
  parseParams,
  promptSnippet,
  pyString,
  versionToDiffText
} from '../utils';
import type { IPromptVersion } from '../types';

interface ISeen {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

async function failure(promise: Promise<unknown>): Promise<LlmLabAPIError> {
  try {
    await promise;
  } catch (error) {
    return error as LlmLabAPIError;
  }
  throw new Error('expected the request to fail');
}

function fakeServer(
  reply: (seen: ISeen) => { status?: number; body?: unknown; raw?: string }
) {
  const seen: ISeen[] = [];
  const fetchMock = jest.fn(async (input: RequestInfo) => {
    const request = input as Request;
    const entry: ISeen = {
      // ServerConnection appends a cache-busting timestamp (cache: 'no-store')
      url: request.url.replace(/[?&]\d{10,}$/, ''),
      method: request.method,
      headers: request.headers,
      body: request.body ? await request.text() : ''
    };
    seen.push(entry);
    const { status = 200, body, raw } = reply(entry);
    const text = raw ?? (body === undefined ? '' : JSON.stringify(body));
    return new Response(status === 204 ? null : text, {
      status,
      headers: { 'Content-Type': 'application/json' }
    });
  });
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/ada/',
    wsUrl: 'ws://localhost:8888/user/ada/',
    token: 'secret-token',
    fetch: fetchMock as unknown as typeof fetch
  });
  return { seen, settings, fetchMock };
}

const VERSION: IPromptVersion = {
  project: 'demo',
  prompt: 'greet',
  number: 2,
  kind: 'text',
  template: 'Hello {{ name }}',
  variables: ['name'],
  declared_variables: [],
  model: 'fake/echo',
  params: { temperature: 0 },
  message: 'friendlier',
  content_hash: 'abc',
  parent: 1,
  labels: ['production'],
  created_at: '2024-01-01T00:00:00Z',
  created_by: 'ada'
};

afterEach(() => {
  document.cookie = '_xsrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
});

describe('requestAPI', () => {
  it('calls {base_url}llmlab/api with the token and XSRF headers', async () => {
    document.cookie = '_xsrf=xsrf-value';
    const { seen, settings } = fakeServer(() => ({ body: { items: [] } }));
    const data = await requestAPI<{ items: unknown[] }>(
      'projects',
      { query: { limit: 5, search: '', label: undefined } },
      settings
    );
    expect(data).toEqual({ items: [] });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe(
      'http://localhost:8888/user/ada/llmlab/api/projects?limit=5'
    );
    expect(seen[0].method).toBe('GET');
    expect(seen[0].headers.get('Authorization')).toBe('token secret-token');
    expect(seen[0].headers.get('X-XSRFToken')).toBe('xsrf-value');
  });

  it('sends JSON bodies with a JSON content type', async () => {
    const { seen, settings } = fakeServer(() => ({
      status: 201,
      body: { ok: true }
    }));
    await requestAPI('x', { method: 'POST', json: { a: 1 } }, settings);
    expect(seen[0].method).toBe('POST');
    expect(seen[0].headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(seen[0].body)).toEqual({ a: 1 });
  });

  it('returns undefined for 204 No Content', async () => {
    const { settings } = fakeServer(() => ({ status: 204 }));
    await expect(
      requestAPI('x', { method: 'DELETE' }, settings)
    ).resolves.toBeUndefined();
  });

  it('turns an error reply into LlmLabAPIError with the server message', async () => {
    const { settings } = fakeServer(() => ({
      status: 400,
      body: {
        message: 'unexpected end of template',
        error_code: 'invalid_template',
        field: 'template',
        line: 3
      }
    }));
    const error = await failure(requestAPI('x', {}, settings));
    expect(error).toBeInstanceOf(LlmLabAPIError);
    expect(error.message).toBe('unexpected end of template');
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe('invalid_template');
    expect(error.field).toBe('template');
    expect(error.line).toBe(3);
    expect(errorMessage(error)).toBe('unexpected end of template (template)');
  });

  it('reports a non-JSON error reply with its status', async () => {
    const { settings } = fakeServer(() => ({
      status: 502,
      raw: 'Bad Gateway'
    }));
    const error = await failure(requestAPI('x', {}, settings));
    expect(error).toBeInstanceOf(LlmLabAPIError);
    expect(error.status).toBe(502);
    expect(error.errorCode).toBe('http_502');
    expect(error.message).toContain('502');
  });

  it('reports a network failure as network_error', async () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as unknown as typeof fetch
    });
    const error = await failure(requestAPI('x', {}, settings));
    expect(error).toBeInstanceOf(LlmLabAPIError);
    expect(error.errorCode).toBe('network_error');
    expect(error.status).toBe(0);
  });
});

describe('LlmLabClient', () => {
  it('encodes names in paths and passes list filters', async () => {
    const { seen, settings } = fakeServer(() => ({
      body: { items: [], next_offset: null }
    }));
    const client = new LlmLabClient(settings);
    await client.listPrompts('my proj', {
      search: 'a b',
      label: 'production',
      limit: 50,
      offset: 100,
      sort: '-updated_at'
    });
    const url = new URL(seen[0].url);
    expect(url.pathname).toBe(
      '/user/ada/llmlab/api/projects/my%20proj/prompts'
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      search: 'a b',
      label: 'production',
      limit: '50',
      offset: '100',
      sort: '-updated_at'
    });
    await client.getPrompt('p', 'a/b');
    expect(new URL(seen[1].url).pathname).toBe(
      '/user/ada/llmlab/api/projects/p/prompts/a%2Fb'
    );
  });

  it('saves a version with POST and a JSON body', async () => {
    const { seen, settings } = fakeServer(() => ({
      status: 201,
      body: { version: VERSION, created: true }
    }));
    const client = new LlmLabClient(settings);
    const result = await client.saveVersion('demo', 'greet', {
      template: [{ role: 'user', content: 'Hi {{ name }}' }],
      message: 'chat'
    });
    expect(result.created).toBe(true);
    expect(seen[0].method).toBe('POST');
    expect(seen[0].url).toMatch(/projects\/demo\/prompts\/greet\/versions$/);
    expect(JSON.parse(seen[0].body)).toEqual({
      template: [{ role: 'user', content: 'Hi {{ name }}' }],
      message: 'chat'
    });
  });

  it('moves and removes labels, reads their history', async () => {
    const { seen, settings } = fakeServer(({ method }) =>
      method === 'DELETE' ? { status: 204 } : { body: { items: [] } }
    );
    const client = new LlmLabClient(settings);
    await client.setLabel('demo', 'greet', 'production', 2);
    await client.removeLabel('demo', 'greet', 'staging');
    await client.labelHistory('demo', 'greet', 'production');
    expect(seen.map(s => s.method)).toEqual(['PUT', 'DELETE', 'GET']);
    expect(seen[0].url).toMatch(/prompts\/greet\/labels\/production$/);
    expect(JSON.parse(seen[0].body)).toEqual({ version: 2 });
    expect(seen[1].url).toMatch(/labels\/staging$/);
    expect(seen[2].url).toMatch(/labels\/history\?label=production$/);
  });

  it('diffs, renders and previews', async () => {
    const { seen, settings } = fakeServer(() => ({ body: {} }));
    const client = new LlmLabClient(settings);
    await client.diff('demo', 'greet', 1, 2);
    await client.render(
      'demo',
      'greet',
      { name: 'Ada' },
      { label: 'production' }
    );
    await client.renderPreview('demo', 'Hi {{ x }}');
    await client.renderPreview('demo', 'Hi {{ x }}', { x: '1' });
    expect(seen[0].url).toMatch(/prompts\/greet\/diff\?a=1&b=2$/);
    expect(JSON.parse(seen[1].body)).toEqual({
      variables: { name: 'Ada' },
      label: 'production'
    });
    expect(seen[2].url).toMatch(/projects\/demo\/render-preview$/);
    expect(JSON.parse(seen[2].body)).toEqual({ template: 'Hi {{ x }}' });
    expect(JSON.parse(seen[3].body)).toEqual({
      template: 'Hi {{ x }}',
      variables: { x: '1' }
    });
  });

  it('follows the pages of versions', async () => {
    const { seen, settings } = fakeServer(({ url }) => {
      const offset = Number(new URL(url).searchParams.get('offset'));
      return offset === 0
        ? { body: { items: [VERSION, VERSION], next_offset: 2 } }
        : { body: { items: [VERSION], next_offset: null } };
    });
    const client = new LlmLabClient(settings);
    const all = await client.allVersions('demo', 'greet');
    expect(all).toHaveLength(3);
    expect(seen).toHaveLength(2);
  });

  it('uploads a dataset as the raw body with its format', async () => {
    const { seen, settings } = fakeServer(() => ({
      status: 201,
      body: { created: true }
    }));
    const client = new LlmLabClient(settings);
    // Node's Blob: jsdom's is not readable by Node's Request (the browser has one Blob)
    const { Blob: NodeBlob } = jest.requireActual<{ Blob: typeof Blob }>(
      'buffer'
    );
    const file = new NodeBlob(['q,a\n1,2\n'], {
      type: 'text/csv'
    }) as unknown as Blob;
    await client.uploadDataset('demo', 'qa', file, 'csv', 'first import');
    expect(seen[0].method).toBe('POST');
    const url = new URL(seen[0].url);
    expect(url.pathname).toMatch(/projects\/demo\/datasets\/qa\/versions$/);
    expect(url.searchParams.get('format')).toBe('csv');
    expect(url.searchParams.get('message')).toBe('first import');
    expect(seen[0].headers.get('Content-Type')).toBe('text/csv');
    expect(seen[0].body).toBe('q,a\n1,2\n');
  });

  it('pages through dataset rows', async () => {
    const { seen, settings } = fakeServer(() => ({
      body: { items: [], next_offset: null, total: 0 }
    }));
    const client = new LlmLabClient(settings);
    await client.datasetRows('demo', 'qa', 3, 50, 25);
    expect(seen[0].url).toMatch(
      /datasets\/qa\/versions\/3\/rows\?offset=50&limit=25$/
    );
  });
});

describe('helpers', () => {
  it('builds the notebook snippet by version or by label', () => {
    expect(promptSnippet({ project: 'demo', name: 'greet', version: 2 })).toBe(
      [
        'from llmlab_jupyter import Lab',
        'lab = Lab(project="demo")',
        'prompt = lab.prompts.get("greet", version=2)',
        'prompt'
      ].join('\n')
    );
    expect(
      promptSnippet({ project: 'demo', name: 'greet', label: 'production' })
    ).toContain('lab.prompts.get("greet", label="production")');
    expect(promptSnippet({ project: 'demo', name: 'greet' })).toContain(
      'lab.prompts.get("greet")'
    );
  });

  it('escapes names into Python string literals', () => {
    expect(pyString('a"b\\c\n')).toBe('"a\\"b\\\\c\\n"');
    const snippet = promptSnippet({ project: 'x")\nimport os#', name: 'n' });
    expect(snippet.split('\n')).toHaveLength(4);
  });

  it('builds query strings without empty values', () => {
    expect(queryString({ a: 1, b: '', c: null, d: undefined, e: 'x y' })).toBe(
      '?a=1&e=x+y'
    );
    expect(queryString({})).toBe('');
  });

  it('guesses upload formats and parses parameters', () => {
    expect(formatFromFileName('Data.CSV')).toBe('csv');
    expect(formatFromFileName('rows.ndjson')).toBe('jsonl');
    expect(formatFromFileName('t.parquet')).toBe('parquet');
    expect(formatFromFileName('notes.txt')).toBeNull();
    expect(parseParams('')).toEqual({});
    expect(parseParams('{"temperature": 0.2}')).toEqual({ temperature: 0.2 });
    expect(() => parseParams('[1]')).toThrow(/JSON object/);
  });

  it('diffs the template and the settings of a version', () => {
    const text = versionToDiffText(VERSION);
    expect(text.startsWith('Hello {{ name }}\n')).toBe(true);
    expect(text).toContain('model: fake/echo');
    expect(text).toContain('params: {"temperature":0}');
  });
});
