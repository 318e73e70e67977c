// One photo to POST /api/v1/uploads, by XMLHttpRequest (fetch reports no upload progress).
// The answer is never thrown: the caller decides, from the status, whether to try again.

import { baseHeaders, retryAfterSeconds } from './net.js';

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

