// 一个单位一张表: the unit league table from GET /stats/units, sortable, with the XLSX export
// (GET /stats/units/export?format=xlsx) for download.

import { api } from '../api.js';
import { keepFitted } from '../fit.js';
import { DASH, h, int, pct, score100 } from '../format.js';
import { markPanel } from '../state.js';

export const UNIT_COLUMNS = [
  { key: 'name', label: '单位', kind: 'text' },
  { key: 'received', label: '收到', kind: 'int' },
  { key: 'response_rate', label: '按时受理率', kind: 'pct' },
  { key: 'on_time_completion_rate', label: '按期办结率', kind: 'pct' },
  { key: 'declined', label: '退回', kind: 'int' },
  { key: 'overdue_now', label: '超期', kind: 'int' },
  { key: 'satisfaction_rate', label: '满意率', kind: 'pct' },
  { key: 'score', label: '得分', kind: 'score' },
];

const sort = { key: 'score', dir: 'desc' };
let rows = [];

function isMissing(v) {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

/** Sorted copy: by the chosen column, missing values last either way, then by name. */
export function sortUnits(items, key = sort.key, dir = sort.dir) {
  const sign = dir === 'asc' ? 1 : -1;
  const byName = (a, b) => String(a.name).localeCompare(String(b.name), 'zh-CN');
  return [...(items || [])].sort((a, b) => {
    const va = a[key];
    const vb = b[key];
    if (isMissing(va) && isMissing(vb)) return byName(a, b);
    if (isMissing(va)) return 1;
    if (isMissing(vb)) return -1;
    const c = typeof va === 'string' ? va.localeCompare(vb, 'zh-CN') : va - vb;
    return c !== 0 ? sign * c : byName(a, b);
  });
}

function cellText(col, v) {
  if (col.kind === 'text') return v ?? DASH;
  if (col.kind === 'int') return int(v);
  if (col.kind === 'pct') return pct(v);
  return score100(v);
}

function tone(col, v) {
  if (isMissing(v)) return 'none';
  if (col.key === 'overdue_now' || col.key === 'declined') return v > 0 ? 'bad' : '';
  if (col.kind === 'pct' || col.kind === 'score') {
    if (v >= 0.85) return 'good';
    if (v >= 0.6) return 'mid';
    return 'bad';
  }
  return '';
}

function renderHead() {
  for (const th of document.querySelectorAll('#unit-table th[data-sort]')) {
    const active = th.dataset.sort === sort.key;
    th.classList.toggle('sorted', active);
    th.setAttribute('aria-sort', active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none');
    const arrow = th.querySelector('.sort-arrow');
    if (arrow) arrow.textContent = active ? (sort.dir === 'asc' ? '▲' : '▼') : '';
  }
}

function renderBody() {
  const tbody = document.querySelector('#unit-table tbody');
  const sorted = sortUnits(rows);
  tbody.replaceChildren(
    ...sorted.map((row) =>
      h(
        'tr',
        { dataset: { unitId: row.unit_id } },
        UNIT_COLUMNS.map((col) =>
          h(
            'td',
            {
              class: [col.kind === 'text' ? 'name' : 'num', tone(col, row[col.key])].filter(Boolean).join(' '),
              dataset: { field: col.key },
              title: col.kind === 'text' ? row.name : null,
            },
            cellText(col, row[col.key]),
          ),
        ),
      ),
    ),
  );
  renderHead();
}

export function renderUnits(items) {
  rows = Array.isArray(items) ? items : [];
  renderBody();
  const count = document.querySelector('[data-units-count]');
  if (count) count.textContent = `${rows.length} 个单位`;
  markPanel('units', rows.length === 0);
  keepFitted(document.querySelector('[data-panel="units"] .table-wrap'), 'tbody > tr', 'thead');
}

/** The file name a Content-Disposition header gives, if any. */
export function dispositionFileName(header) {
  if (!header) return null;
  let name = null;
  const star = /filename\*\s*=\s*([\w-]*)'[^']*'([^;]+)/i.exec(header);
  if (star) {
    try {
      name = decodeURIComponent(star[2].trim().replace(/^"(.*)"$/, '$1'));
    } catch {
      name = null;
    }
  }
  if (!name) {
    const quoted = /filename\s*=\s*"((?:\\.|[^"\\])*)"/i.exec(header);
    const bare = /filename\s*=\s*([^;"\s]+)/i.exec(header);
    name = quoted ? quoted[1].replace(/\\(.)/g, '$1') : bare ? bare[1] : null;
  }
  if (!name) return null;
  name = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').trim();
  return name || null;
}

async function download(button, paramsFn) {
  if (button.disabled) return;
  const label = button.textContent;
  button.disabled = true;
  button.textContent = '下载中…';
  try {
    const res = await api('/stats/units/export', {
      params: { format: 'xlsx', ...paramsFn() },
      raw: true,
    });
    const blob = await res.blob();
    const name = dispositionFileName(res.headers.get('Content-Disposition')) || '单位一张表.xlsx';
    const href = URL.createObjectURL(blob);
    const a = h('a', { href, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
    button.textContent = label;
  } catch {
    button.textContent = '下载失败';
    setTimeout(() => {
      button.textContent = label;
    }, 3000);
  } finally {
    button.disabled = false;
  }
}

/** Wire the header (click to sort) and the download button. */
export function initUnits(paramsFn) {
  for (const th of document.querySelectorAll('#unit-table th[data-sort]')) {
    const activate = () => {
      const key = th.dataset.sort;
      if (sort.key === key) sort.dir = sort.dir === 'asc' ? 'desc' : 'asc';
      else {
        sort.key = key;
        sort.dir = key === 'name' ? 'asc' : 'desc';
      }
      renderBody();
    };
    th.addEventListener('click', activate);
    th.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        activate();
      }
    });
  }
  renderHead();
  const button = document.getElementById('download-units');
  button.addEventListener('click', () => download(button, paramsFn));
}
