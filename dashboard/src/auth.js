// Signing in: a dashboard key from the address (exchanged once for a short-lived token), or a
// user's name and password. Only tokens are kept, in sessionStorage; never the key.

const STORE = 'ssp.dashboard.session';
const RENEW_AT = 0.8; // of the token's lifetime
const EARLY_MS = 10_000; // renew before use when this close to expiry

export const MESSAGES = {
  badKey: '访问密钥无效或已被吊销，请使用账号登录',
  expired: '登录已过期，请重新登录',
  forbidden: '该账号无权查看数据大屏',
  badPassword: '用户名或密码错误',
  throttled: '登录尝试次数过多，请稍后再试',
  network: '无法连接服务器，请检查网络后重试',
  server: '服务器暂时无法处理，请稍后再试',
  signedOut: '已退出登录',
  missing: '请输入用户名和密码',
};

export class AuthError extends Error {
  /** kind: 'rejected' (the credentials were refused) or 'transient' (try again later). */
  constructor(kind, message, retryAfter = null) {
    super(message);
    this.kind = kind;
    this.retryAfter = retryAfter;
  }
}

let session = null; // {kind: 'key'|'user', access_token, refresh_token, expires_in, issued_at}
let renewTimer = 0;
let renewing = null;
let signedOutHandler = () => {};

export function onSignedOut(fn) {
  signedOutHandler = fn;
}

export function accessToken() {
  return session?.access_token ?? null;
}

export function sessionKind() {
  return session?.kind ?? null;
}

function expiresAt() {
  return session ? session.issued_at + session.expires_in * 1000 : 0;
}

function save() {
  try {
    if (session) sessionStorage.setItem(STORE, JSON.stringify(session));
    else sessionStorage.removeItem(STORE);
  } catch {
    // Storage may be unavailable (private mode): the page still works until reloaded.
  }
}

function adopt(kind, answer) {
  const token = answer?.access_token;
  if (typeof token !== 'string' || !token) throw new AuthError('transient', MESSAGES.server);
  const lifetime = Number(answer.expires_in) > 0 ? Number(answer.expires_in) : 1800;
  session = {
    kind,
    access_token: token,
    refresh_token: kind === 'user' ? (answer.refresh_token ?? session?.refresh_token ?? null) : null,
    expires_in: lifetime,
    issued_at: Date.now(),
  };
  save();
  scheduleRenew();
}

function scheduleRenew(delay = null) {
  clearTimeout(renewTimer);
  if (!session) return;
  const due = delay ?? session.issued_at + session.expires_in * 1000 * RENEW_AT - Date.now();
  renewTimer = setTimeout(() => {
    renew().catch(() => {});
  }, Math.max(0, due));
}

/** The session kept in this tab, if any and still usable. Answers 'ok', 'expired' or 'none'. */
export function restore() {
  let stored = null;
  try {
    stored = JSON.parse(sessionStorage.getItem(STORE) || 'null');
  } catch {
    stored = null;
  }
  if (
    !stored ||
    (stored.kind !== 'key' && stored.kind !== 'user') ||
    typeof stored.access_token !== 'string' ||
    !(stored.expires_in > 0) ||
    !(stored.issued_at > 0)
  ) {
    if (stored) clear();
    return 'none';
  }
  session = stored;
  const expired = Date.now() >= expiresAt();
  if (expired && !(session.kind === 'user' && session.refresh_token)) {
    clear();
    return 'expired';
  }
  scheduleRenew(expired ? 0 : null);
  return 'ok';
}

function clear() {
  clearTimeout(renewTimer);
  session = null;
  save();
}

async function postJson(path, body, token = null) {
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'Accept-Language': 'zh-CN',
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers,
      body: body === null ? '' : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new AuthError('transient', MESSAGES.network);
  }
  return res;
}

function retryAfterSeconds(res) {
  const value = Number(res.headers.get('Retry-After'));
  return Number.isFinite(value) && value > 0 ? value : null;
}

/** Exchange a dashboard key for a token. The key is sent in this one body and nowhere else. */
export async function exchangeKey(key) {
  const res = await postJson('/api/v1/auth/key-token', { key });
  if (res.ok) {
    adopt('key', await res.json());
    return;
  }
  if (res.status === 429 || res.status >= 500) {
    throw new AuthError('transient', MESSAGES.server, retryAfterSeconds(res));
  }
  // 401 (unknown or revoked key), 422 (not a key at all), 403…
  throw new AuthError('rejected', MESSAGES.badKey);
}

export async function signIn(username, password) {
  const res = await postJson('/api/v1/auth/token', { username, password });
  if (res.ok) {
    clear();
    adopt('user', await res.json());
    return;
  }
  if (res.status === 429) {
    const wait = retryAfterSeconds(res);
    const minutes = wait ? Math.ceil(wait / 60) : null;
    throw new AuthError(
      'rejected',
      minutes ? `登录尝试次数过多，请 ${minutes} 分钟后再试` : MESSAGES.throttled,
    );
  }
  if (res.status >= 500) throw new AuthError('transient', MESSAGES.server);
  throw new AuthError('rejected', MESSAGES.badPassword);
}

/** Renew the token before it expires; one renewal at a time (a refresh token works once). */
export function renew() {
  if (renewing) return renewing;
  if (!session) return Promise.resolve();
  const current = session;
  renewing = (async () => {
    let res;
    try {
      res =
        current.kind === 'key'
          ? await postJson('/api/v1/auth/key-token/renew', null, current.access_token)
          : await postJson('/api/v1/auth/refresh', { refresh_token: current.refresh_token });
    } catch {
      // Unreachable: try again soon; the token may still be good.
      if (session === current) scheduleRenew(15_000);
      return;
    }
    if (session !== current) return; // signed out or replaced meanwhile
    if (res.ok) {
      adopt(current.kind, await res.json());
      return;
    }
    if (res.status === 401 || res.status === 403) {
      handleUnauthorized();
      return;
    }
    scheduleRenew(15_000);
  })().finally(() => {
    renewing = null;
  });
  return renewing;
}

/** Before a request: renew first if the token is about to expire. */
export async function ensureFresh() {
  if (renewing) await renewing;
  if (session && Date.now() >= expiresAt() - EARLY_MS) await renew();
}

/** A 401 from the API: the session is over. Say why as well as we can tell. */
export function handleUnauthorized() {
  if (!session) return;
  const stillValid = Date.now() < expiresAt() - 5000;
  const message = session.kind === 'key' && stillValid ? MESSAGES.badKey : MESSAGES.expired;
  signOut(message);
}

/** Forget the session (ending the login on the server when asked) and show the sign-in form. */
export function signOut(message, { endLogin = false } = {}) {
  const ended = session;
  clear();
  if (endLogin && ended?.kind === 'user') {
    postJson('/api/v1/auth/logout', null, ended.access_token).catch(() => {});
  }
  signedOutHandler(message);
}

/**
 * Take a dashboard key out of the address, before anything else happens: `#key=ssp_…`
 * (preferred, never sent to a server) or `?key=ssp_…`. The address bar keeps every other
 * parameter. Answers the key, or null.
 */
export function takeKeyFromAddress() {
  const { pathname, search, hash } = window.location;
  let key = null;
  const strip = (text) => {
    const kept = [];
    for (const part of text.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (name === 'key') {
        if (key === null && eq >= 0) {
          try {
            key = decodeURIComponent(part.slice(eq + 1));
          } catch {
            key = part.slice(eq + 1);
          }
        }
      } else {
        kept.push(part);
      }
    }
    return kept.join('&');
  };
  const restHash = strip(hash.replace(/^#/, ''));
  const restSearch = strip(search.replace(/^\?/, ''));
  if (key === null && !/(^|[?&#])key(=|&|$)/.test(search + hash)) return null;
  const address = pathname + (restSearch ? `?${restSearch}` : '') + (restHash ? `#${restHash}` : '');
  window.history.replaceState(window.history.state, '', address);
  return key ? key.trim() : '';
}
