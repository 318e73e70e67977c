// Talking to the API: same origin, JSON, errors as problem documents in Chinese.

export const API = '/api/v1';

export const MESSAGES = {
  network: '网络不可用，请检查网络后重试',
  server: '服务器暂时无法处理，请稍后再试',
  expired: '登录已过期，请重新登录',
  badPassword: '用户名或密码错误',
  throttled: '登录尝试次数过多，请稍后再试',
  missing: '请输入用户名和密码',
  signedOut: '已退出登录',
};

export class ApiError extends Error {
  /**
   * kind: 'network' (no answer), 'server' (5xx, 429, a 409 to send again: try again later),
   * 'unauthorized' (401), 'client' (another 4xx: this request will never succeed as it is).
   */
  constructor(kind, status = 0, problem = null, retryAfter = null) {
    super(problemText(problem) || (kind === 'network' ? MESSAGES.network : MESSAGES.server));
    this.kind = kind;
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  get transient() {
    return this.kind === 'network' || this.kind === 'server';
  }

  get code() {
    return this.problem?.code ?? null;
  }
}

/** What to tell the user of a problem document: its detail (in Chinese, as asked). */
export function problemText(problem) {
  if (!problem || typeof problem !== 'object') return '';
  return String(problem.detail || problem.title || '');
}

export const baseHeaders = () => ({ Accept: 'application/json', 'Accept-Language': 'zh-CN' });

export function retryAfterSeconds(value) {
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

/** The kind of error an HTTP status is (see ApiError). */
export function kindOf(status, code = null) {
  if (status === 0) return 'network';
  if (status === 401) return 'unauthorized';
  if (status >= 500 || status === 429 || status === 408 || code === 'conflict_retry') {
    return 'server';
  }
  return 'client';
}

export async function readJson(res) {
  try {
    const type = res.headers.get('Content-Type') || '';
    if (type.includes('json')) return await res.json();
  } catch {
    // not JSON after all
  }
  return null;
}

// A request without an answer by then is given up: on a dead connection a phone may otherwise
// wait minutes before the socket is closed.
const TIMEOUT_MS = 30_000;

/**
 * One request, no session involved. Answers the Response; throws ApiError('network') when no
 * answer came: unreachable, timed out, or stopped through `signal`.
 */
export async function send(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const all = { ...baseHeaders(), ...headers };
  if (body !== undefined) all['Content-Type'] = 'application/json';
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), TIMEOUT_MS);
  const forward = () => stop.abort();
  signal?.addEventListener('abort', forward);
  try {
    return await fetch(path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal: stop.signal,
    });
  } catch {
    throw new ApiError('network');
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
}

/** The error a failed answer stands for. */
export async function failure(res) {
  const problem = await readJson(res);
  return new ApiError(
    kindOf(res.status, problem?.code),
    res.status,
    problem,
    retryAfterSeconds(res.headers.get('Retry-After')),
  );
}

export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === '') continue;
    for (const one of Array.isArray(value) ? value : [value]) query.append(name, String(one));
  }
  const text = query.toString();
  return `${API}${path}${text ? `?${text}` : ''}`;
}
