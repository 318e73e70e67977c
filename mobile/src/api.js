// Calls to the API with the session's bearer token; a refused token is renewed once.

import { accessToken, ensureFresh, recover } from './auth.js';
import { ApiError, failure, send, url } from './net.js';

/**
 * api('/reports', {params, method, body, headers}) → the parsed JSON ({body, response} with
 * `full: true`). Throws ApiError; a request stopped through `signal` is a 'network' one.
 */
export async function api(path, { params, method = 'GET', body, headers = {}, full = false, signal } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    await ensureFresh();
    const token = accessToken();
    if (!token) throw new ApiError('unauthorized', 401);
    const res = await send(url(path, params), {
      method,
      body,
      headers: { ...headers, Authorization: `Bearer ${token}` },
      signal,
    });
    if (res.status === 401 && attempt === 0 && (await recover(token))) continue;
    if (!res.ok) throw await failure(res);
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return full ? { body: data, response: res } : data;
  }
}
