// The session: signed in with a user name and password; the tokens are kept in localStorage so
// that a courier stays signed in across visits. The access token is renewed with the refresh
// token shortly before it expires. A refresh token works once, and presenting a spent one ends
// the whole login, so renewals are one at a time, also across tabs (a Web Lock), and a tab
// first looks whether another one renewed already.

import { ApiError, MESSAGES, failure, retryAfterSeconds, send } from './net.js';
import { load, save } from './store.js';

const STORE = 'session';
const EARLY_MS = 60_000; // renew before use when this close to expiry

let session = load(STORE); // {username, access_token, refresh_token, expires_at}
let renewing = null;
const listeners = new Set();

/** fn(message) when the session ends: signed out, or the login was refused. */
export function onSignedOut(fn) {
  listeners.add(fn);
}

export const signedIn = () => Boolean(session?.access_token);
export const username = () => session?.username ?? null;
export const accessToken = () => session?.access_token ?? null;

function adopt(answer, name) {
  if (typeof answer?.access_token !== 'string') throw new ApiError('server', 200);
  const lifetime = Number(answer.expires_in) > 0 ? Number(answer.expires_in) : 1800;
  session = {
    username: name,
    access_token: answer.access_token,
    refresh_token: answer.refresh_token ?? session?.refresh_token ?? null,
    expires_at: Date.now() + lifetime * 1000,
  };
  save(STORE, session);
}

export async function signIn(name, password) {
  const res = await send('/api/v1/auth/token', {
    method: 'POST',
    body: { username: name, password },
  });
  if (res.ok) {
    adopt(await res.json(), name);
    return;
  }
  const error = await failure(res);
  if (res.status === 429) {
    const wait = retryAfterSeconds(res.headers.get('Retry-After'));
    error.message = wait
      ? `登录尝试次数过多，请 ${Math.ceil(wait / 60)} 分钟后再试`
      : MESSAGES.throttled;
  } else if (res.status === 401 || res.status === 422) {
    error.message = MESSAGES.badPassword;
  }
  throw error;
}

/** Renews the access token; one renewal at a time. Answers true when there is a usable one. */
export function renew() {
  if (!renewing) {
    const locks = globalThis.navigator?.locks;
    const work = () => renewOnce();
    renewing = (locks ? locks.request('ssp.m.renew', work) : work()).finally(() => {
      renewing = null;
    });
  }
  return renewing;
}

async function renewOnce() {
  if (!session) return false;
  const stored = load(STORE);
  if (!stored?.refresh_token || stored.username !== session.username) {
    // Signed out in another tab (or another account signed in there).
    end(MESSAGES.expired);
    return false;
  }
  // Another tab renewed meanwhile: take its tokens, do not spend the refresh token again.
  if (stored.access_token !== session.access_token) {
    session = stored;
    if (stored.expires_at > Date.now() + EARLY_MS) return true;
  }
  let res;
  try {
    res = await send('/api/v1/auth/refresh', {
      method: 'POST',
      body: { refresh_token: session.refresh_token },
    });
  } catch {
    return Date.now() < session.expires_at; // unreachable: the token may still do
  }
  if (res.ok) {
    adopt(await res.json(), session.username);
    return true;
  }
  if (res.status === 401 || res.status === 403 || res.status === 422) {
    end(MESSAGES.expired);
    return false;
  }
  return Date.now() < session.expires_at;
}

/** Before a request: renew first when the token is about to expire. */
export async function ensureFresh() {
  if (renewing) await renewing;
  if (session && Date.now() >= session.expires_at - EARLY_MS) await renew();
}

function end(message) {
  session = null;
  save(STORE, null);
  for (const fn of listeners) fn(message);
}

/** Signs out: the login ends on the server too (in the background). */
export function signOut() {
  const ended = session;
  if (ended?.access_token) {
    send('/api/v1/auth/logout', {
      method: 'POST',
      headers: { Authorization: `Bearer ${ended.access_token}` },
    }).catch(() => {});
  }
  end(MESSAGES.signedOut);
}

/** A 401 from the API: the token was refused. Renew once; answers whether to try again. */
export async function recover(failedToken) {
  if (!session) return false;
  if (session.access_token !== failedToken) return true; // renewed meanwhile
  session.expires_at = 0; // force the renewal even if the clock says the token is good
  return renew();
}
