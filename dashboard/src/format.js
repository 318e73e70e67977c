// How figures are written on the wall.

export const DASH = '—';

/** A rate 0..1 as "87.5%", null as "—". */
export function pct(rate, digits = 1) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return DASH;
  return `${(rate * 100).toFixed(digits)}%`;
}

/** A score 0..1 as points out of 100: "76.9". */
export function score100(rate, digits = 1) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return DASH;
  return (rate * 100).toFixed(digits);
}

/** An integer with thousands separators. */
export function int(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return DASH;
  return Number(n).toLocaleString('zh-CN');
}

export function escapeHtml(text) {
  return String(text ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

/** Create an element: h('td', {class: 'x', dataset: {a: 1}}, 'text', child…). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
