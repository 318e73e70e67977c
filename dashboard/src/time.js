// China time (UTC+8, no daylight saving), computed by arithmetic so that the page does not
// depend on the browser's time zone or its time zone database.

const OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
const WEEKDAYS = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** The fields of a moment (ms since the epoch) as read on a clock in China. */
export function chinaParts(ms = Date.now()) {
  const d = new Date(ms + OFFSET_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(), // 0 = Sunday
  };
}

/** Midnight in China of the given calendar day (month 1-12; days may overflow). */
export function chinaMidnight(year, month, day) {
  return Date.UTC(year, month - 1, day) - OFFSET_MS;
}

/** Midnight in China of the day `ms` falls on, moved by `days`. */
export function chinaDayStart(ms = Date.now(), days = 0) {
  const p = chinaParts(ms);
  return chinaMidnight(p.year, p.month, p.day + days);
}

/**
 * RFC 3339 with the +08:00 offset, as the API wants it; with the milliseconds when there are
 * any (the API counts [from, to): a moment cut to its second would leave out what happened
 * in that second).
 */
export function isoChina(ms) {
  const p = chinaParts(ms);
  const millis = Math.floor(((ms % 1000) + 1000) % 1000);
  return (
    `${p.year}-${pad(p.month)}-${pad(p.day)}T` +
    `${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
    `${millis ? `.${pad(millis, 3)}` : ''}+08:00`
  );
}

/** YYYY-MM-DD of the China day `ms` falls on. */
export function chinaDate(ms = Date.now()) {
  const p = chinaParts(ms);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** Midnight in China of a YYYY-MM-DD date, or null. */
export function parseChinaDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
  if (!m) return null;
  return chinaMidnight(Number(m[1]), Number(m[2]), Number(m[3]));
}

export function hhmm(ms) {
  const p = chinaParts(ms);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** "14:05" for a moment of today (China), "12-03 14:05" for another day's. */
export function whenShort(ms, now = Date.now()) {
  const time = hhmm(ms);
  return chinaDate(ms) === chinaDate(now) ? time : `${chinaDate(ms).slice(5)} ${time}`;
}

export function hhmmss(ms) {
  const p = chinaParts(ms);
  return `${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** "2026-12-03 星期四" for the title bar. */
export function clockDate(ms = Date.now()) {
  const p = chinaParts(ms);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${WEEKDAYS[p.weekday]}`;
}

/** "12-03" for chart axes, from a YYYY-MM-DD date. */
export function shortDay(dateText) {
  return String(dateText).slice(5, 10);
}

/** Parse an API timestamp (RFC 3339) to ms; NaN when unreadable. */
export function parseTime(text) {
  return text ? Date.parse(text) : NaN;
}

/**
 * The period of a filter choice, as [from, to) in ms.
 * today: midnight → now; week: Monday midnight → now; month: the 1st → now;
 * custom: `from` day midnight → the day after `to`, midnight.
 */
export function periodRange(kind, customFrom, customTo, now = Date.now()) {
  const p = chinaParts(now);
  switch (kind) {
    case 'today':
      return [chinaMidnight(p.year, p.month, p.day), now];
    case 'week': {
      const sinceMonday = (p.weekday + 6) % 7;
      return [chinaMidnight(p.year, p.month, p.day - sinceMonday), now];
    }
    case 'custom': {
      let from = parseChinaDate(customFrom);
      let to = parseChinaDate(customTo);
      if (from === null && to === null) return periodRange('month', null, null, now);
      if (from === null) from = to;
      if (to === null) to = from;
      if (from > to) [from, to] = [to, from];
      return [from, to + DAY_MS];
    }
    case 'month':
    default:
      return [chinaMidnight(p.year, p.month, 1), now];
  }
}

/** The last 30 China days, ending today: [29 days ago midnight, tomorrow midnight). */
export function last30Days(now = Date.now()) {
  return [chinaDayStart(now, -29), chinaDayStart(now, 1)];
}

/** Every YYYY-MM-DD day from `fromMs` (a China midnight) up to `toMs` (exclusive). */
export function daysBetween(fromMs, toMs) {
  const out = [];
  for (let t = fromMs; t < toMs; t += DAY_MS) out.push(chinaDate(t));
  return out;
}
