// The report being written (草稿) and everything on its way to the server.
//
// The draft — photos (their upload ids and thumbnails), category, description, location and the
// submission's Idempotency-Key — is saved in localStorage at every change, per account; photos
// not yet uploaded are kept in IndexedDB. Closing the page, losing the signal or the phone
// sleeping loses nothing: the queue goes on at the next visit, when the network is back
// (`online`) and on a timer. Every request is sent with a key the draft keeps until the server
// has answered it, so that a request repeated after a lost answer is answered again, not done
// twice: per photo for its upload, per draft for the report.

import { api } from './api.js';
import { accessToken, ensureFresh, recover, signedIn } from './auth.js';
import { uuid } from './dom.js';
import { kindOf, problemText } from './net.js';
import { preparePhoto } from './photo.js';
import { backoff } from './retry.js';
import { dropBlob, getBlob, keepOnlyBlobs, load, putBlob, save } from './store.js';
import { sendPhoto } from './uploads.js';

export const MAX_PHOTOS = 9;
const PARALLEL = 2;
// An upload this close to its expiry is not worth filing: the case would have no photo.
const EXPIRY_MARGIN_MS = 10 * 60_000;

let owner = null; // the account whose draft this is
let draft = null;
const blobs = new Map(); // photo id → the bytes to send
const inflight = new Map(); // photo id → {abort}
let posting = false;
let filing = null; // the report's request in flight: an AbortController
let timer = 0;
const listeners = new Set();

/** fn(event, detail): 'change' (anything), 'progress' (a photo), 'filed' (the new case). */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(event, detail = null) {
  for (const fn of listeners) fn(event, detail);
}

const storeName = () => `draft.${owner}`;
const blobKey = (photo) => `${owner}/${photo.id}`;

function persist() {
  if (owner) save(storeName(), draft);
  emit('change');
}

function fresh() {
  return {
    version: 1,
    created_at: Date.now(),
    key: uuid(),
    photos: [],
    category_code: null,
    description: '',
    address: '',
    location: null,
    submitting: false,
    submit_attempts: 0,
    submit_retry_at: 0,
    error: null,
  };
}

export const current = () => draft;

export function ensure() {
  if (!draft) draft = fresh();
  return draft;
}

/** The account's saved draft, its waiting photos read back, the queue started. */
export async function open(username) {
  close();
  owner = username;
  draft = load(storeName());
  if (draft?.version !== 1) draft = null;
  if (draft) {
    // A photo being prepared when the page closed: its file is gone.
    draft.photos = draft.photos.filter((p) => p.state !== 'preparing');
    for (const photo of draft.photos) {
      if (photo.state === 'uploading') photo.state = 'waiting';
      if (photo.state === 'waiting' || photo.state === 'failed') {
        const blob = await getBlob(blobKey(photo));
        if (blob) blobs.set(photo.id, blob);
        else fail(photo, photo.error || '照片未能保存在手机上，请删除后重新拍摄');
      }
    }
    markExpired();
  }
  await keepOnlyBlobs(`${owner}/`, (draft?.photos || []).map(blobKey));
  persist();
  pump();
}

/** Stops sending (signed out); the draft stays saved for the next sign-in. */
export function close() {
  for (const request of inflight.values()) request.abort();
  inflight.clear();
  blobs.clear();
  clearTimeout(timer);
  owner = null;
  draft = null;
}

export function update(fields) {
  Object.assign(ensure(), fields);
  persist();
}

// --- photos ----------------------------------------------------------------------------------

/** Adds the chosen files (as many as still fit) and starts sending them. */
export async function addFiles(files) {
  const d = ensure();
  const room = MAX_PHOTOS - d.photos.length;
  const chosen = [...files].slice(0, Math.max(0, room));
  const added = chosen.map(() => ({
    id: uuid(),
    state: 'preparing',
    progress: 0,
    attempts: 0,
    retry_at: 0,
    preview: null,
    exif: null,
    upload: null,
    error: null,
  }));
  d.photos.push(...added);
  persist();
  // One at a time: decoding a 12-megapixel photo takes much of a phone's memory.
  for (const [i, file] of chosen.entries()) {
    const photo = added[i];
    const ready = await preparePhoto(file, d.photos.indexOf(photo) + 1);
    if (draft !== d || !d.photos.includes(photo)) return files.length - chosen.length;
    Object.assign(photo, {
      state: 'waiting',
      preview: ready.preview,
      exif: ready.exif,
      filename: ready.filename,
      size: ready.blob.size,
    });
    blobs.set(photo.id, ready.blob);
    await putBlob(blobKey(photo), ready.blob);
    persist();
    pump();
  }
  return files.length - chosen.length; // how many did not fit
}

export function removePhoto(id) {
  if (!draft) return;
  inflight.get(id)?.abort();
  inflight.delete(id);
  const photo = draft.photos.find((p) => p.id === id);
  if (photo) dropBlob(blobKey(photo));
  blobs.delete(id);
  draft.photos = draft.photos.filter((p) => p.id !== id);
  persist();
  pump();
}

/** A photo that failed for good is tried again (after the user asked). */
export function retryPhoto(id) {
  const photo = draft?.photos.find((p) => p.id === id);
  if (!photo || photo.state !== 'failed' || !blobs.has(id)) return;
  // The server answered the last attempt: this one is a new request, with a new key.
  Object.assign(photo, { state: 'waiting', error: null, attempts: 0, retry_at: 0, key: uuid() });
  persist();
  pump();
}

function fail(photo, message) {
  Object.assign(photo, { state: 'failed', error: message });
}

/** Uploads whose server copy is about to expire (~24 h after upload) must be taken again. */
function markExpired() {
  const limit = Date.now() + EXPIRY_MARGIN_MS;
  let marked = false;
  for (const photo of draft?.photos || []) {
    const expires = Date.parse(photo.upload?.expires_at || '');
    if (photo.state === 'done' && Number.isFinite(expires) && expires < limit) {
      photo.state = 'expired';
      photo.error = '照片已过期（超过 24 小时），请删除后重新拍摄';
      marked = true;
    }
  }
  return marked;
}

async function upload(photo) {
  const blob = blobs.get(photo.id);
  photo.state = 'uploading';
  photo.progress = 0;
  const slot = { abort: () => {} };
  inflight.set(photo.id, slot);
  persist();
  await ensureFresh();
  const token = accessToken();
  if (!token || inflight.get(photo.id) !== slot) {
    if (inflight.get(photo.id) === slot) inflight.delete(photo.id);
    photo.state = photo.state === 'uploading' ? 'waiting' : photo.state;
    return;
  }
  const request = sendPhoto({
    blob,
    filename: photo.filename || 'photo.jpg',
    exif: photo.exif,
    key: photo.key || photo.id,
    token,
    onProgress: (fraction) => {
      photo.progress = fraction;
      emit('progress', photo);
    },
  });
  slot.abort = request.abort;
  const answer = await request.done;
  if (inflight.get(photo.id) !== slot) return; // removed, or signed out, meanwhile
  inflight.delete(photo.id);
  await settle(photo, answer, token);
  persist();
  pump();
}

async function settle(photo, { status, body, retryAfter }, token) {
  if (status === 200 || status === 201) {
    const { id, thumbnail_url, display_url, expires_at, exif } = body || {};
    Object.assign(photo, { state: 'done', progress: 1, attempts: 0, error: null });
    photo.upload = { id, thumbnail_url, display_url, expires_at, exif };
    blobs.delete(photo.id);
    dropBlob(blobKey(photo));
    return;
  }
  const kind = kindOf(status, body?.code);
  photo.state = 'waiting';
  if (kind === 'unauthorized') {
    if (!(await recover(token))) photo.retry_at = Date.now() + 5000;
  } else if (kind === 'client') {
    fail(photo, status === 413 ? '照片太大，无法上传' : problemText(body) || `上传失败（${status}）`);
  } else {
    photo.attempts += 1;
    photo.retry_at = Date.now() + backoff(photo.attempts, retryAfter);
    photo.error = problemText(body) || null; // shown on the photo while it waits
  }
}

// --- the queue -------------------------------------------------------------------------------

/** Starts what may be sent now, and plans the next look. */
export function pump() {
  clearTimeout(timer);
  if (!draft || !owner || !signedIn()) return;
  // A page left open for a day: its uploads expire meanwhile.
  if (markExpired()) persist();
  const now = Date.now();
  let next = Infinity;
  const online = navigator.onLine !== false;
  for (const photo of draft.photos) {
    if (photo.state !== 'waiting' || inflight.size >= PARALLEL) continue;
    if (!online) break;
    if (photo.retry_at > now) next = Math.min(next, photo.retry_at);
    else upload(photo);
  }
  if (draft.submitting && draft.submit_retry_at > now) next = Math.min(next, draft.submit_retry_at);
  else maybeFile();
  if (next < Infinity) timer = setTimeout(pump, next - now + 50);
}

/** The network is back: every waiting request is tried at once. */
export function networkBack() {
  if (!draft) return;
  for (const photo of draft.photos) photo.retry_at = 0;
  draft.submit_retry_at = 0;
  pump();
}

/** The phone says it has no network: what is in flight will not arrive, and would only fail
 * after the stall timeout. Stopped now, it is sent again (same keys) when the network is back. */
export function networkLost() {
  for (const request of inflight.values()) request.abort();
  filing?.abort();
}

/** What is still to be sent: {photos, filing}. */
export function pending() {
  const photos = (draft?.photos || []).filter((p) =>
    ['preparing', 'waiting', 'uploading'].includes(p.state),
  ).length;
  return { photos, filing: Boolean(draft?.submitting) };
}

// --- filing the report -----------------------------------------------------------------------

/** What is missing before the report can be filed, in words; null when nothing. */
export function missing() {
  const d = draft;
  if (!d || d.photos.length === 0) return '请至少拍一张照片';
  if (d.photos.some((p) => p.state === 'failed' || p.state === 'expired')) {
    return '有照片未能上传，请删除后重新拍摄';
  }
  if (!d.category_code) return '请选择问题类型';
  if (!d.description.trim()) return '请填写问题描述';
  if (!d.location) return '请先定位，或在地图上选点';
  return null;
}

/** The user asked to file: it is sent as soon as every photo is uploaded and the network is up. */
export function requestFiling() {
  markExpired();
  const problem = missing();
  if (problem) {
    update({ error: problem });
    return false;
  }
  update({ submitting: true, submit_attempts: 0, submit_retry_at: 0, error: null });
  pump();
  return true;
}

/** Back to editing; the key stays, so that an unchanged report sent again is not filed twice. */
export function cancelFiling() {
  update({ submitting: false, error: null });
}

function maybeFile() {
  const d = draft;
  if (!d?.submitting || posting) return;
  if (d.photos.some((p) => p.state === 'failed' || p.state === 'expired')) {
    update({ submitting: false, error: missing() });
    return;
  }
  if (!d.photos.every((p) => p.state === 'done') || navigator.onLine === false) return;
  file(d);
}

function reportBody(d) {
  const body = {
    category_code: d.category_code,
    description: d.description.trim(),
    lat: d.location.lat,
    lng: d.location.lng,
    coord_system: 'wgs84',
    photo_ids: d.photos.map((p) => p.upload.id),
  };
  if (d.address.trim()) body.address = d.address.trim();
  return body;
}

async function file(d) {
  posting = true;
  filing = new AbortController();
  try {
    const created = await api('/reports', {
      method: 'POST',
      body: reportBody(d),
      headers: { 'Idempotency-Key': d.key },
      signal: filing.signal,
    });
    if (draft !== d) return;
    save(`filed.${owner}`, { at: Date.now(), report: created });
    for (const photo of d.photos) dropBlob(blobKey(photo));
    draft = null;
    persist();
    emit('filed', created);
  } catch (error) {
    if (draft !== d) return;
    if (error.transient) {
      d.submit_attempts += 1;
      d.submit_retry_at = Date.now() + backoff(d.submit_attempts, error.retryAfter);
    } else if (error.kind !== 'unauthorized') {
      // Refused as it is: the next attempt, after the user changed something, is a new request.
      d.key = uuid();
      d.submitting = false;
      d.error =
        error.code === 'idempotency_key_reused'
          ? '这份上报可能已经提交过，请先到“我的上报”查看；确认没有再重新提交'
          : error.message;
    }
    persist();
  } finally {
    posting = false;
    filing = null;
    if (draft === d) setTimeout(pump, 0);
  }
}
