// What the page shows, as plain data (window.dashboardState), and the page's own state:
// main#dashboard[data-state] = loading | ready | stale | signed-out.

import { setApiReachable } from './live.js';
import { hhmmss } from './time.js';

export const dashboardState = {
  summary: null, // GET /stats/summary
  lights: null, // GET /stats/lights
  units: null, // GET /stats/units → items
  categories: null, // GET /stats/categories → items
  couriers: null, // GET /stats/couriers → items
  series: null, // {days: [YYYY-MM-DD…], submitted: [n…], closed: [n…]}
  mapPoints: [], // [{id, number, status, light, lat, lng}]
  ticker: [], // event envelopes, newest first
  lastUpdated: null, // ISO time of the last complete refresh
};
window.dashboardState = dashboardState;

const main = () => document.getElementById('dashboard');

export function pageState() {
  return main()?.dataset.state;
}

export function setPageState(state) {
  const el = main();
  if (el) el.dataset.state = state;
}

/** A panel rendered data from the API: data-ready stays; data-empty says if it had nothing. */
export function markPanel(name, empty) {
  const section = document.querySelector(`[data-panel="${name}"]`);
  if (!section) return;
  section.dataset.ready = 'true';
  if (empty) section.dataset.empty = 'true';
  else delete section.dataset.empty;
  section.classList.remove('has-error');
  const note = section.querySelector('.panel-error');
  if (note) note.remove();
}

/** A panel's request was refused (4xx other than 401): say so inside the panel. */
export function markPanelError(name, message) {
  const section = document.querySelector(`[data-panel="${name}"]`);
  if (!section) return;
  section.classList.add('has-error');
  let note = section.querySelector('.panel-error');
  if (!note) {
    note = document.createElement('div');
    note.className = 'panel-error';
    section.append(note);
  }
  note.textContent = message;
}

let lastUpdatedMs = null;

export function markFresh() {
  lastUpdatedMs = Date.now();
  dashboardState.lastUpdated = new Date(lastUpdatedMs).toISOString();
  setApiReachable(true);
  if (pageState() !== 'signed-out') setPageState('ready');
  const stale = document.getElementById('stale');
  if (stale) {
    stale.hidden = true;
    stale.textContent = '';
  }
}

export function markStale() {
  if (pageState() === 'signed-out') return;
  setApiReachable(false); // the live indicator stops saying 实时
  setPageState('stale');
  const stale = document.getElementById('stale');
  if (stale) {
    stale.textContent = lastUpdatedMs
      ? `数据更新于 ${hhmmss(lastUpdatedMs)} · 连接中断`
      : '连接中断 · 正在重试';
    stale.hidden = false;
  }
}
