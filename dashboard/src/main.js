// 随手拍 · 数据大屏: signs in, fills the filters, loads every panel, follows the live stream.

import './style.css';

import { ApiError, api } from './api.js';
import * as auth from './auth.js';
import { MESSAGES } from './auth.js';
import {
  initFilters,
  listenFilters,
  matchesFilters,
  periodLabel,
  placeParams,
  scopeOf,
  seriesRange,
  statsParams,
} from './filters.js';
import { loadServerLabels } from './labels.js';
import { reconnectNow, setLastEventId, setStatus, startLive, stopLive } from './live.js';
import { renderCategories } from './panels/categories.js';
import { renderCouriers } from './panels/couriers.js';
import { renderFunnel } from './panels/funnel.js';
import { renderLights } from './panels/lights.js';
import { pointFromReport, redrawMap, renderMap, upsertPoint } from './panels/map.js';
import { renderRates } from './panels/rates.js';
import { alignSeries, renderSeries } from './panels/series.js';
import { pushEvent, setTicker } from './panels/ticker.js';
import { initUnits, renderUnits } from './panels/units.js';
import {
  dashboardState,
  markFresh,
  markPanelError,
  markStale,
  pageState,
  setPageState,
} from './state.js';
import { clockDate, daysBetween, hhmmss, isoChina } from './time.js';

const REFRESH_MS = 60_000;
const LIVE_DEBOUNCE_MS = 1000;
// A busy stream refreshes a screen's figures at most this often (each refresh is five
// statistics: many wall screens on a busy banner must not keep the server at work).
const LIVE_MIN_INTERVAL_MS = 8000;
const ALL = ['summary', 'lights', 'categories', 'series', 'units', 'couriers', 'map'];
const LIVE = ['summary', 'lights', 'categories', 'units', 'series'];

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let generation = 0; // bumped by a filter change or a sign-out: older answers are dropped
const latest = {}; // the newest request of each loader
let seq = 0;
let refreshTimer = 0;
let liveTimer = 0;
let lastLiveRefresh = 0;
let unitsWired = false;
let outlinesCache = { region: undefined, geojson: null };
const pendingReports = new Set();
let reportsTimer = 0;

// ---------------------------------------------------------------- the panels' loaders

const loaders = {
  async summary(p, fresh) {
    const summary = await api('/stats/summary', { params: p.stats });
    if (!fresh()) return;
    dashboardState.summary = summary;
    // The period's name changes with its figures, not before them.
    const label = $('period-label');
    if (label) label.textContent = p.label;
    renderRates(summary);
    renderFunnel(summary);
  },
  async lights(p, fresh) {
    const lights = await api('/stats/lights', { params: p.stats });
    if (!fresh()) return;
    dashboardState.lights = lights;
    renderLights(lights);
  },
  async categories(p, fresh) {
    const sheet = await api('/stats/categories', { params: p.stats });
    if (!fresh()) return;
    dashboardState.categories = sheet.items || [];
    renderCategories(dashboardState.categories);
  },
  async series(p, fresh) {
    const [from, to] = seriesRange();
    const params = { ...p.place, interval: 'day', from: isoChina(from), to: isoChina(to) };
    const [submitted, closed] = await Promise.all([
      api('/stats/timeseries', { params: { ...params, metric: 'submitted' } }),
      api('/stats/timeseries', { params: { ...params, metric: 'closed' } }),
    ]);
    if (!fresh()) return;
    dashboardState.series = alignSeries(daysBetween(from, to), submitted.items, closed.items);
    renderSeries(dashboardState.series);
  },
  async units(p, fresh) {
    const sheet = await api('/stats/units', { params: p.stats });
    if (!fresh()) return;
    dashboardState.units = sheet.items || [];
    renderUnits(dashboardState.units);
  },
  async couriers(p, fresh) {
    const sheet = await api('/stats/couriers', { params: p.stats });
    if (!fresh()) return;
    dashboardState.couriers = sheet.items || [];
    renderCouriers(dashboardState.couriers);
  },
  async map(p, fresh) {
    const region = p.place.region_id || null;
    const outlines =
      outlinesCache.region === region && outlinesCache.geojson
        ? Promise.resolve(outlinesCache.geojson)
        : api('/communities/outlines', { params: { region_id: region } });
    const [geojson, reports] = await Promise.all([
      outlines,
      api('/reports', { params: { limit: 100, ...p.place } }),
    ]);
    outlinesCache = { region, geojson };
    if (!fresh()) return;
    renderMap(geojson, reports.items || []);
  },
  async ticker(p, fresh) {
    const recent = await api('/events/recent', { params: { limit: 20 } });
    if (!fresh()) return;
    const items = recent.items || [];
    setTicker(items);
    for (const e of items) setLastEventId(e.id);
  },
};

const PANEL_OF = { summary: 'rates', lights: 'lights', categories: 'categories', series: 'series', units: 'units', couriers: 'couriers', map: 'map', ticker: 'ticker' };

function problemText(err) {
  const p = err?.problem;
  if (err?.status === 404) return '所选范围不在您的权限内或不存在';
  return p?.detail || p?.title || `请求失败（${err?.status || '网络'}）`;
}

/** Load these panels with the current filters; mark the page fresh or stale after. */
async function refresh(names) {
  if (pageState() === 'signed-out') return;
  const gen = generation;
  const p = { stats: statsParams(), place: placeParams(), label: periodLabel() };
  const results = await Promise.allSettled(
    names.map(async (name) => {
      const mine = ++seq;
      latest[name] = mine;
      const fresh = () => gen === generation && latest[name] === mine && pageState() !== 'signed-out';
      try {
        await loaders[name](p, fresh);
      } catch (err) {
        if (err instanceof ApiError && err.kind === 'client' && fresh()) {
          markPanelError(PANEL_OF[name], problemText(err));
          if (name === 'summary') markPanelError('funnel', problemText(err));
          return;
        }
        if (!(err instanceof ApiError)) console.error(`panel ${name}:`, err);
        throw err;
      }
    }),
  );
  if (gen !== generation || pageState() === 'signed-out') return;
  const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (errors.some((e) => e instanceof ApiError && e.kind === 'unauthorized')) return;
  if (errors.some((e) => e instanceof ApiError && e.transient)) markStale();
  else markFresh();
}

function scheduleRefresh() {
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => refresh(ALL), REFRESH_MS);
}

function onFiltersChanged() {
  generation += 1;
  pendingReports.clear();
  refresh(ALL);
  scheduleRefresh();
}

// ---------------------------------------------------------------- live

function liveRefreshSoon() {
  if (liveTimer) return; // the refresh already due covers this event too
  const wait = Math.max(LIVE_DEBOUNCE_MS, lastLiveRefresh + LIVE_MIN_INTERVAL_MS - Date.now());
  liveTimer = setTimeout(() => {
    liveTimer = 0;
    lastLiveRefresh = Date.now();
    refresh(LIVE);
  }, wait);
}

async function fetchPendingReports() {
  reportsTimer = 0;
  const ids = [...pendingReports];
  pendingReports.clear();
  if (ids.length > 20) {
    refresh(['map']);
    return;
  }
  const gen = generation;
  for (const id of ids) {
    try {
      const report = await api(`/reports/${encodeURIComponent(id)}`);
      if (gen !== generation || pageState() === 'signed-out') return;
      const point = pointFromReport(report);
      if (point && matchesFilters({ region_id: report.region?.id, category_code: report.category?.code })) {
        upsertPoint(point);
      }
    } catch {
      // Not visible any more, or unreachable: the next refresh puts the map right.
    }
  }
}

function onLiveEvent(env) {
  if (!pushEvent(env)) return;
  const report = env.report;
  if (String(env.type).startsWith('report.') && report?.id && matchesFilters(report)) {
    pendingReports.add(report.id);
    clearTimeout(reportsTimer);
    reportsTimer = setTimeout(fetchPendingReports, 300);
  }
  liveRefreshSoon();
}

let streamWasDown = false;

function followLive() {
  streamWasDown = false;
  startLive({
    onEvent: onLiveEvent,
    onOpen: () => {
      if (streamWasDown || pageState() === 'stale') refresh(ALL);
      streamWasDown = false;
    },
    onUnreachable: () => {
      streamWasDown = true;
      markStale();
    },
  });
}

// ---------------------------------------------------------------- who, sign-in, start

/** Call `fn` until it answers; while the API is unreachable, mark stale and back off. */
async function untilAnswered(fn) {
  let delay = 1000;
  const gen = generation;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ApiError) || !err.transient || gen !== generation) throw err;
      markStale();
      await sleep(delay);
      if (gen !== generation || pageState() === 'signed-out') throw err;
      delay = Math.min(30_000, delay * 2);
    }
  }
}

function renderWho(me, scope) {
  $('scope-name').textContent = scope.name;
  const who = $('who');
  if (who) {
    who.textContent =
      auth.sessionKind() === 'key' ? '大屏密钥' : me.display_name || me.username || '';
  }
}

function initialFromQuery() {
  const q = new URLSearchParams(window.location.search);
  const out = {};
  for (const name of ['region_id', 'period', 'category', 'from', 'to']) {
    if (q.has(name)) out[name] = q.get(name);
  }
  return out;
}

async function start() {
  hideSignIn();
  setPageState('loading');
  generation += 1;
  let me;
  try {
    me = await untilAnswered(() => api('/me'));
  } catch (err) {
    if (err instanceof ApiError && err.kind === 'client') auth.signOut(MESSAGES.forbidden, { endLogin: true });
    return;
  }
  const scope = scopeOf(me);
  if (!scope.allowed) {
    auth.signOut(MESSAGES.forbidden, { endLogin: true });
    return;
  }
  renderWho(me, scope);
  let regions;
  let categories;
  try {
    [regions, categories] = await untilAnswered(() =>
      Promise.all([api('/regions'), api('/categories')]),
    );
  } catch {
    return;
  }
  initFilters({
    regions: Array.isArray(regions) ? regions : regions?.items || [],
    categories: Array.isArray(categories) ? categories : categories?.items || [],
    scope,
    initial: initialFromQuery(),
    onChange: onFiltersChanged,
  });
  listenFilters();
  if (!unitsWired) {
    initUnits(() => statsParams());
    unitsWired = true;
  }
  outlinesCache = { region: undefined, geojson: null };
  await refresh([...ALL, 'ticker']);
  if (pageState() === 'signed-out') return;
  followLive();
  scheduleRefresh();
}

function showSignIn(message) {
  generation += 1;
  stopLive();
  clearInterval(refreshTimer);
  clearTimeout(liveTimer);
  liveTimer = 0;
  setPageState('signed-out');
  const stale = $('stale');
  stale.hidden = true;
  const overlay = $('sign-in-overlay');
  overlay.hidden = false;
  const form = $('sign-in');
  form.hidden = false;
  $('sign-in-message').textContent = message || '';
  $('sign-in-message').hidden = !message;
  form.querySelector('button[type="submit"]').disabled = false;
  $('password').value = '';
  setTimeout(() => $('username').focus(), 0);
}

function hideSignIn() {
  $('sign-in-overlay').hidden = true;
  $('sign-in').hidden = true;
}

function wireSignIn() {
  const form = $('sign-in');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = $('username').value.trim();
    const password = $('password').value;
    const message = $('sign-in-message');
    if (!username || !password) {
      message.textContent = MESSAGES.missing;
      message.hidden = false;
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    message.textContent = '正在登录…';
    message.hidden = false;
    try {
      await auth.signIn(username, password);
    } catch (err) {
      message.textContent = err?.message || MESSAGES.network;
      button.disabled = false;
      return;
    }
    $('password').value = '';
    button.disabled = false;
    start();
  });
  $('sign-out').addEventListener('click', () => auth.signOut(MESSAGES.signedOut, { endLogin: true }));
}

async function exchangeUntilAnswered(key) {
  let delay = 1000;
  for (;;) {
    try {
      await auth.exchangeKey(key);
      return true;
    } catch (err) {
      if (err.kind === 'rejected') {
        showSignIn(err.message);
        return false;
      }
      markStale();
      await sleep(Math.max(delay, (err.retryAfter || 0) * 1000));
      delay = Math.min(30_000, delay * 2);
    }
  }
}

// ---------------------------------------------------------------- clock and scale

function tick() {
  const now = Date.now();
  $('clock-time').textContent = hhmmss(now);
  $('clock-date').textContent = clockDate(now);
}

function startClock() {
  tick();
  setTimeout(() => {
    tick();
    setInterval(tick, 1000);
  }, 1000 - (Date.now() % 1000));
}

let scale = 1;
function applyScale() {
  const next = Math.max(0.6, Math.min(window.innerWidth / 1920, window.innerHeight / 1080, 2.5));
  const rounded = Math.round(next * 100) / 100;
  document.documentElement.style.setProperty('--scale', String(rounded));
  if (Math.abs(rounded - scale) >= 0.05) {
    scale = rounded;
    rerender();
  }
}

/** Draw every panel again from what is kept (after a change of scale), each on its own. */
function rerender() {
  const s = dashboardState;
  const again = [
    ['rates', s.summary, renderRates],
    ['funnel', s.summary, renderFunnel],
    ['lights', s.lights, renderLights],
    ['categories', s.categories, renderCategories],
    ['series', s.series, renderSeries],
    ['units', s.units, renderUnits],
    ['couriers', s.couriers, renderCouriers],
    ['map', true, redrawMap],
  ];
  for (const [name, data, render] of again) {
    if (!data) continue;
    try {
      render(data);
    } catch (err) {
      console.error(`rerender ${name}:`, err);
    }
  }
}

// ---------------------------------------------------------------- boot

async function boot() {
  // The key leaves the address bar before anything else is done.
  const key = auth.takeKeyFromAddress();
  applyScale();
  window.addEventListener('resize', () => {
    clearTimeout(boot.resizeTimer);
    boot.resizeTimer = setTimeout(applyScale, 200);
  });
  startClock();
  setStatus('disconnected');
  setPageState('loading');
  wireSignIn();
  auth.onSignedOut(showSignIn);
  window.addEventListener('online', () => {
    reconnectNow();
    refresh(ALL);
  });
  loadServerLabels();
  if (key !== null) {
    if (!key) {
      showSignIn(MESSAGES.badKey);
      return;
    }
    if (!(await exchangeUntilAnswered(key))) return;
  } else {
    const restored = auth.restore();
    if (restored !== 'ok') {
      showSignIn(restored === 'expired' ? MESSAGES.expired : '');
      return;
    }
  }
  await start();
}

boot();
