// 红黄绿灯: the open cases by the light of their running clock, from GET /stats/lights.

import { int, pct } from '../format.js';
import { markPanel } from '../state.js';

const LIGHTS = ['green', 'yellow', 'red'];

export function renderLights(lights) {
  const counts = Object.fromEntries(LIGHTS.map((l) => [l, Number(lights?.[l]) || 0]));
  const sum = counts.green + counts.yellow + counts.red;
  const open = Number(lights?.open ?? sum) || 0;
  for (const l of LIGHTS) {
    const el = document.querySelector(`[data-light="${l}"]`);
    if (el) el.textContent = int(counts[l]);
    const lamp = document.querySelector(`.lamp[data-lamp="${l}"]`);
    if (lamp) lamp.classList.toggle('lit', counts[l] > 0);
    const share = document.querySelector(`[data-light-share="${l}"]`);
    if (share) share.textContent = sum ? pct(counts[l] / sum, 0) : '—';
    const bar = document.querySelector(`.light-bar [data-bar="${l}"]`);
    if (bar) bar.style.flexGrow = String(counts[l]);
  }
  const openEl = document.querySelector('[data-light-open]');
  if (openEl) openEl.textContent = int(open);
  const bar = document.querySelector('.light-bar');
  if (bar) bar.classList.toggle('empty', sum === 0);
  markPanel('lights', open === 0 && sum === 0);
}
