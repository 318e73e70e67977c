// One photo to POST /api/v1/uploads, by XMLHttpRequest (fetch reports no upload progress).
// sendPhoto never throws: the caller (the report's draft) decides, from the status, whether to
// try again. uploadPhoto sends until the upload is made (a wish's photo).

import { accessToken, ensureFresh, recover } from './auth.js';
import { ApiError, baseHeaders, kindOf, retryAfterSeconds } from './net.js';
import { persistently } from './retry.js';

// No byte sent for this long: the connection is dead even if the socket is not closed yet.
const STALL_MS = 30_000;
// Once every byte is sent, the server decodes the photo and makes its sizes.
const ANSWER_MS = 90_000;

/**
 * Sends `blob`. onProgress(fraction 0…1) as bytes leave. Answers {status (0: no answer), body,
 * retryAfter} and, through `abort`, lets the caller stop it.
 */
export function sendPhoto({ blob, filename, exif, key, token, onProgress }) {
  const xhr = new XMLHttpRequest();
  let watchdog = 0;
  const done = new Promise((resolve) => {
    let last = Date.now();
    let limit = STALL_MS;
    const finish = (status, body = null, retryAfter = null) => {
      clearInterval(watchdog);
      resolve({ status, body, retryAfter });
    };
    xhr.open('POST', '/api/v1/uploads');
    for (const [name, value] of Object.entries(baseHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Idempotency-Key', key);
    xhr.upload.onprogress = (event) => {
      last = Date.now();
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.upload.onload = () => {
      last = Date.now();
      limit = ANSWER_MS;
      onProgress(1);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      finish(xhr.status, body, retryAfterSeconds(xhr.getResponseHeader('Retry-After')));
    };
    xhr.onerror = () => finish(0);
    xhr.onabort = () => finish(0);
    xhr.ontimeout = () => finish(0);
    watchdog = setInterval(() => {
      if (Date.now() - last > limit) xhr.abort();
    }, 5000);

    const form = new FormData();
    form.append('file', blob, filename);
    if (Number.isFinite(exif?.lat) && Number.isFinite(exif?.lng)) {
      form.append('taken_lat', String(exif.lat));
      form.append('taken_lng', String(exif.lng));
    }
    if (exif?.taken_at) form.append('taken_at', exif.taken_at);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

/**
 * Sends a prepared photo ({blob, filename, exif}) until it is uploaded, with the same `key`
 * each time (a repeat after a lost answer gets the same upload); answers the upload
 * ({id, thumbnail_url, …}). Throws an ApiError when it is refused, or cancelled (see
 * persistently).
 */
export function uploadPhoto({ blob, filename, exif, key, onProgress, onRetry, isCancelled }) {
  const once = (token, signal) => {
    const request = sendPhoto({ blob, filename, exif, key, token, onProgress });
    signal.addEventListener('abort', request.abort);
    return request.done;
  };
  return persistently(async ({ signal }) => {
    await ensureFresh();
    const token = accessToken();
    if (!token) throw new ApiError('unauthorized', 401);
    let answer = await once(token, signal);
    if (answer.status === 401 && (await recover(token))) answer = await once(accessToken(), signal);
    const { status, body, retryAfter } = answer;
    if (status === 200 || status === 201) return body;
    if (status === 413) throw new ApiError('client', 413, { detail: '照片太大，无法上传' });
    throw new ApiError(kindOf(status, body?.code), status, body, retryAfter);
  }, { onRetry, isCancelled });
}
