// 实时动态: the latest events, newest on top (GET /events/recent, then the live stream).

import { keepFitted } from '../fit.js';
import { h } from '../format.js';
import { eventLabel, eventTone } from '../labels.js';
import { dashboardState, markPanel } from '../state.js';
import { chinaDate, parseTime, whenShort } from '../time.js';

export const MAX_TICKER = 30;

function item(env, fresh) {
  const at = parseTime(env.occurred_at);
  return h(
    'li',
    {
      class: `tone-${eventTone(env.type)}${fresh ? ' fresh' : ''}`,
      dataset: { eventId: String(env.id), eventType: env.type },
    },
    h('time', { datetime: env.occurred_at || null }, Number.isFinite(at) ? whenShort(at) : '--:--'),
    h('span', { class: 'ev-type' }, eventLabel(env.type)),
    // A case's number; a micro-wish's title (its events carry no case).
    h('span', { class: 'ev-number' }, env.report?.number || env.wish?.title || '—'),
  );
}

/** Room for a date in the time column when an event of another day is listed. */
function markDated(ol) {
  const today = chinaDate();
  const dated = dashboardState.ticker.some((e) => {
    const at = parseTime(e.occurred_at);
    return Number.isFinite(at) && chinaDate(at) !== today;
  });
  ol.classList.toggle('dated', dated);
}

function sortNewestFirst(list) {
  return list.sort((a, b) => Number(b.id) - Number(a.id));
}

/** Replace the ticker with these events (any order; shown newest first). */
export function setTicker(items) {
  const byId = new Map();
  for (const e of items || []) if (e && e.id !== undefined && e.id !== null) byId.set(String(e.id), e);
  dashboardState.ticker = sortNewestFirst([...byId.values()]).slice(0, MAX_TICKER);
  const ol = document.getElementById('ticker');
  ol.replaceChildren(...dashboardState.ticker.map((e) => item(e, false)));
  markPanel('ticker', dashboardState.ticker.length === 0);
  markDated(ol);
  keepFitted(ol, ':scope > li');
}

/** A live event: on top (or in its place by id), at most MAX_TICKER kept. False if known. */
export function pushEvent(env) {
  if (!env || env.id === undefined || env.id === null) return false;
  const id = String(env.id);
  if (dashboardState.ticker.some((e) => String(e.id) === id)) return false;
  const list = sortNewestFirst([env, ...dashboardState.ticker]).slice(0, MAX_TICKER);
  dashboardState.ticker = list;
  const ol = document.getElementById('ticker');
  const index = list.indexOf(env);
  if (index < 0) return false; // older than everything kept
  const li = item(env, true);
  const after = ol.children[index];
  if (after) ol.insertBefore(li, after);
  else ol.append(li);
  while (ol.children.length > MAX_TICKER) ol.lastElementChild.remove();
  markPanel('ticker', false);
  markDated(ol);
  keepFitted(ol, ':scope > li');
  return true;
}
