// Every call to the API: same origin, under /api/v1, with the bearer token.

import { accessToken, ensureFresh, handleUnauthorized } from './auth.js';

export const API = '/api/v1';

export class ApiError extends Error {
  /**
   * kind: 'network' (no answer), 'server' (5xx), 'unauthorized' (401, the session is over),
   * 'client' (another 4xx: a problem with this request).
   */
  constructor(kind, status = 0, problem = null) {
    super(problem?.detail || problem?.title || `${kind} ${status}`);
    this.kind = kind;
    this.status = status;
    this.problem = problem;
  }

  /** The API could not be reached or failed: keep the figures, mark them stale. */
  get transient() {
    return this.kind === 'network' || this.kind === 'server';
  }
}

export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === '') continue;
    query.append(name, String(value));
  }
  const text = query.toString();
  return `${API}${path}${text ? `?${text}` : ''}`;
}

async function readProblem(res) {
  try {
    const type = res.headers.get('Content-Type') || '';
    if (type.includes('json')) return await res.json();
  } catch {
    // not JSON after all
  }
  return null;
}

/**
 * Call the API. Answers the parsed JSON, or the Response itself with `raw: true`.
 * Throws ApiError; a 401 also ends the session (the sign-in form appears).
 */
export async function api(path, { params, method = 'GET', body, raw = false, signal } = {}) {
  await ensureFresh();
  const token = accessToken();
  if (!token) throw new ApiError('unauthorized', 401);
  const headers = {
    Authorization: `Bearer ${token}`,
    Accept: raw ? '*/*' : 'application/json',
    'Accept-Language': 'zh-CN',
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url(path, params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal,
    });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError('network');
  }
  if (res.status === 401) {
    // Only if the token that failed is still the current one (not renewed meanwhile).
    if (accessToken() === token) handleUnauthorized();
    throw new ApiError('unauthorized', 401, await readProblem(res));
  }
  if (!res.ok) {
    const kind = res.status >= 500 ? 'server' : 'client';
    throw new ApiError(kind, res.status, await readProblem(res));
  }
  if (raw) return res;
  if (res.status === 204) return null;
  try {
    return await res.json();
  } catch {
    throw new ApiError('server', res.status);
  }
}
