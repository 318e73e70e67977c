// Times as a courier reads them: China time, short.

const ZONE = 'Asia/Shanghai';

const dayTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE,
  month: 'numeric',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});
const fullTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE,
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/** "12月5日 09:30" (this year) or "2025年12月5日 09:30". */
export function when(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const sameYear = date.getFullYear() === new Date().getFullYear();
  return (sameYear ? dayTime : fullTime).format(date);
}

/** A date without a time ("2026-12-20", as the API writes one): "12月20日", or with its year
 * when it is not this year's. */
export function day(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value || '');
  if (!match) return '';
  const [, year, month, date] = match.map(Number);
  const text = `${month}月${date}日`;
  return year === new Date().getFullYear() ? text : `${year}年${text}`;
}

/** This month as YYYY-MM in China time, and the one before. */
export function months() {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit' })
    .formatToParts(new Date())
    .reduce((all, part) => ({ ...all, [part.type]: Number(part.value) }), {});
  const pad = (n) => String(n).padStart(2, '0');
  const previous = parts.month === 1 ? [parts.year - 1, 12] : [parts.year, parts.month - 1];
  return {
    current: `${parts.year}-${pad(parts.month)}`,
    previous: `${previous[0]}-${pad(previous[1])}`,
  };
}

export const coordinates = (point) => `${point.lat.toFixed(5)}, ${point.lng.toFixed(5)}`;
