/**
 * The one place the extension talks HTTP: every call goes through `requestAPI`,
 * which resolves paths under `{base_url}llmlab/api` and lets
 * `ServerConnection.makeRequest` add the token and the XSRF header.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { IErrorBody } from './types';

/** The API prefix under the server's base URL. */
export const API_NAMESPACE = 'llmlab/api';

/**
 * An error reply of the LLM Lab server (or a network failure), carrying the
 * server's message, its stable `errorCode` and the offending `field` if any.
 */
export class LlmLabAPIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string,
    readonly field: string | null = null,
    readonly line: number | null = null
  ) {
    super(message);
    this.name = 'LlmLabAPIError';
  }
}

/** Query parameters; `undefined`, `null` and `''` values are left out. */
export type Query = Record<
  string,
  string | number | boolean | null | undefined
>;

/** Encode one path segment (prompt, dataset and project names). */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}

/** `?a=1&b=x` from a query object, or '' when nothing is set. */
export function queryString(query?: Query): string {
  if (!query) {
    return '';
  }
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export interface IRequestOptions {
  method?: string;
  query?: Query;
  /** A JSON-serialisable body; sent as `application/json`. */
  json?: unknown;
  /** A raw body (a file upload); `contentType` names its type. */
  body?: Blob | ArrayBuffer | string;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * Call the LLM Lab REST API.
 *
 * @param endPoint - the path under `llmlab/api`, e.g. `projects/default/prompts`
 * @returns the decoded JSON body, or `undefined` for an empty reply (204)
 * @throws {LlmLabAPIError} with the server's message on any non-2xx reply
 */
export async function requestAPI<T>(
  endPoint: string,
  options: IRequestOptions = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url =
    URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint) +
    queryString(options.query);
  const init: RequestInit = { method: options.method ?? 'GET' };
  const headers: Record<string, string> = {};
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    headers['Content-Type'] = 'application/json';
  } else if (options.body !== undefined) {
    init.body = options.body;
    headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
  }
  init.headers = headers;
  if (options.signal) {
    init.signal = options.signal;
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') {
      throw error;
    }
    throw new LlmLabAPIError(
      `Cannot reach the LLM Lab server: ${(error as Error).message ?? error}`,
      0,
      'network_error'
    );
  }

  const text = await response.text();
  let data: unknown = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }

  if (!response.ok) {
    throw errorFromReply(response, data);
  }
  return data as T;
}

function errorFromReply(response: Response, data: unknown): LlmLabAPIError {
  if (data && typeof data === 'object' && 'message' in data) {
    const body = data as IErrorBody;
    return new LlmLabAPIError(
      String(body.message),
      response.status,
      body.error_code ? String(body.error_code) : `http_${response.status}`,
      body.field ?? null,
      body.line ?? null
    );
  }
  const detail =
    typeof data === 'string' && data.length > 0 && data.length < 300
      ? data
      : response.statusText || 'request failed';
  return new LlmLabAPIError(
    `HTTP ${response.status}: ${detail}`,
    response.status,
    `http_${response.status}`
  );
}

/** A readable one-line message for any error thrown by the client. */
export function errorMessage(error: unknown): string {
  if (error instanceof LlmLabAPIError) {
    return error.field ? `${error.message} (${error.field})` : error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
