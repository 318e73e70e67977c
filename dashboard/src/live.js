// Live events: GET /api/v1/events/stream read with fetch (EventSource cannot send the
// Authorization header), parsed as Server-Sent Events, reconnected with Last-Event-ID.

import { accessToken, ensureFresh, handleUnauthorized } from './auth.js';
import { API } from './api.js';

const MIN_BACKOFF = 1000;
const MAX_BACKOFF = 30_000;
// A stream open this long was a good connection: the back-off starts again from the least.
const STEADY_MS = 30_000;
const SILENCE_MS = 60_000; // the server sends a keep-alive every 15 s

const LABELS = { connected: '实时', reconnecting: '重连中', disconnected: '已断开' };

let running = false;
let controller = null;
let lastEventId = null;
let retryHint = MIN_BACKOFF;
let handlers = {};
let wakeUp = null;
let generation = 0;

let streamState = 'disconnected'; // the stream's own state
let apiReachable = true; // whether the page's last calls to the API were answered

/**
 * What #live-status shows: the stream's state, but never 实时 while the page cannot reach the
 * API (a stream may look open when the network is gone): 重连中 while the page keeps trying,
 * 已断开 when nothing is trying any more.
 */
function shownState() {
  if (apiReachable) return streamState;
  return streamState === 'disconnected' && !running ? 'disconnected' : 'reconnecting';
}

function show() {
  const el = document.getElementById('live-status');
  if (!el) return;
  const state = shownState();
  if (el.dataset.live === state && el.title) return;
  el.dataset.live = state;
  const text = el.querySelector('.live-text');
  if (text) text.textContent = LABELS[state];
  else el.textContent = LABELS[state];
  el.title =
    state === 'connected'
      ? '实时推送已连接'
      : !apiReachable
        ? '无法连接服务器，正在重试'
        : state === 'reconnecting'
          ? '实时推送正在重连'
          : '实时推送已断开';
}

export function setStatus(state) {
  streamState = state;
  show();
}

/** The page reached the API (true) or could not (false): see shownState. */
export function setApiReachable(reachable) {
  apiReachable = Boolean(reachable);
  show();
}

/** The position to resume from (the last event id seen), e.g. from /events/recent. */
export function setLastEventId(id) {
  if (id === null || id === undefined) return;
  if (lastEventId === null || Number(id) > Number(lastEventId) || Number.isNaN(Number(id))) {
    lastEventId = String(id);
  }
}

export function getLastEventId() {
  return lastEventId;
}

/**
 * An incremental SSE parser: feed it text, it calls `dispatch({id, event, data})` for each
 * event (a blank line ends one), `onRetry(ms)` for a retry hint, `onComment()` for keep-alives.
 */
export function createSseParser({ dispatch, onRetry = () => {}, onComment = () => {} }) {
  let buffer = '';
  let data = [];
  let event = '';
  let id = null;
  let first = true;
  const line = (text) => {
    if (text === '') {
      if (data.length) dispatch({ id, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      id = null;
      return;
    }
    if (text.startsWith(':')) {
      onComment(text.slice(1).trim());
      return;
    }
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') {
      if (!value.includes('\0')) id = value;
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) onRetry(Number(value));
    }
  };
  return {
    push(chunk) {
      buffer += chunk;
      if (first && buffer.length) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      let start = 0;
      for (let i = 0; i < buffer.length; i += 1) {
        const c = buffer[i];
        if (c === '\n' || c === '\r') {
          if (c === '\r' && i === buffer.length - 1) break; // a \n may follow in the next chunk
          line(buffer.slice(start, i));
          if (c === '\r' && buffer[i + 1] === '\n') i += 1;
          start = i + 1;
        }
      }
      buffer = buffer.slice(start);
    },
  };
}

function sleep(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wakeUp = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

async function follow(res, signal) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let silence = 0;
  const watchdog = () => {
    clearTimeout(silence);
    silence = setTimeout(() => controller?.abort(), SILENCE_MS);
  };
  const parser = createSseParser({
    dispatch: (msg) => {
      if (msg.id !== null && msg.id !== '') lastEventId = msg.id;
      let payload = null;
      try {
        payload = JSON.parse(msg.data);
      } catch {
        return;
      }
      if (payload && typeof payload === 'object') {
        if (payload.id === undefined && msg.id) payload.id = Number(msg.id);
        if (!payload.type) payload.type = msg.event;
        handlers.onEvent?.(payload);
      }
    },
    onRetry: (ms) => {
      retryHint = Math.min(Math.max(ms, MIN_BACKOFF), MAX_BACKOFF);
    },
  });
  watchdog();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || signal.aborted) break;
      watchdog();
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
  } finally {
    clearTimeout(silence);
    try {
      reader.releaseLock();
    } catch {
      // already released
    }
  }
}

async function loop(gen) {
  const alive = () => running && gen === generation;
  let failures = 0;
  while (alive()) {
    let opened = false;
    try {
      await ensureFresh();
      const token = accessToken();
      if (!token || !alive()) break;
      controller = new AbortController();
      const headers = {
        Authorization: `Bearer ${token}`,
        Accept: 'text/event-stream',
        'Cache-Control': 'no-cache',
      };
      if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
      const res = await fetch(`${API}/events/stream`, {
        headers,
        cache: 'no-store',
        credentials: 'omit',
        signal: controller.signal,
      });
      if (res.status === 401) {
        if (accessToken() === token) handleUnauthorized();
        if (accessToken() === token || !accessToken()) break;
        continue; // renewed meanwhile: try again with the new token
      }
      if (!res.ok || !res.body) {
        const err = new Error(`stream ${res.status}`);
        err.status = res.status;
        throw err;
      }
      opened = true;
      const openedAt = Date.now();
      setStatus('connected');
      handlers.onOpen?.();
      await follow(res, controller.signal);
      // A stream that lasted is a good connection; one ended at once (a proxy closing it, a
      // server shedding load) counts as a failure, so that reconnects back off.
      failures = Date.now() - openedAt >= STEADY_MS ? 0 : failures + 1;
    } catch (err) {
      if (!alive()) break;
      if (!opened) {
        failures += 1;
        // No answer, or the server failing: the figures on the wall may be getting old.
        if (!err?.status || err.status >= 500) handlers.onUnreachable?.();
      }
    }
    if (!alive()) break;
    setStatus('reconnecting');
    // A stream the server ended on purpose: come back after its retry hint. Failures back off.
    const backoff = Math.min(MAX_BACKOFF, MIN_BACKOFF * 2 ** Math.max(0, failures - 1));
    const delay = opened && failures === 0 ? retryHint : Math.max(retryHint, backoff);
    await sleep(delay);
  }
  if (gen === generation && (!running || !accessToken())) setStatus('disconnected');
}

/** Follow the stream: handlers.onEvent(envelope), onOpen(), onUnreachable(). */
export function startLive(h) {
  handlers = h;
  if (running) return;
  running = true;
  generation += 1;
  setStatus('reconnecting');
  loop(generation).catch(() => setStatus('disconnected'));
}

export function stopLive() {
  running = false;
  controller?.abort();
  wakeUp?.();
  setStatus('disconnected');
}

/** Come back now (e.g. the browser is online again) instead of waiting for the back-off. */
export function reconnectNow() {
  wakeUp?.();
}
