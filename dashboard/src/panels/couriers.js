// 快递小哥参与: courier participation by company, from GET /stats/couriers.

import { keepFitted } from '../fit.js';
import { h, int, pct } from '../format.js';
import { markPanel } from '../state.js';

export function renderCouriers(items) {
  const rows = [...(items || [])].sort(
    (a, b) => b.reports - a.reports || b.checked_in - a.checked_in || String(a.name).localeCompare(String(b.name), 'zh-CN'),
  );
  const max = Math.max(1, ...rows.map((r) => r.reports));
  const tbody = document.querySelector('#courier-table tbody');
  tbody.replaceChildren(
    ...rows.map((r) =>
      h(
        'tr',
        { dataset: { companyId: r.company_id } },
        h('td', { class: 'name', title: r.name, dataset: { field: 'name' } }, r.name),
        h('td', { class: 'num', dataset: { field: 'checked_in' } }, int(r.checked_in)),
        h('td', { class: 'num', dataset: { field: 'active' } }, int(r.active)),
        h(
          'td',
          { class: 'num bar-cell', dataset: { field: 'reports' } },
          // The bar ends before the figure: its longest leaves the figure's room free.
          h('span', { class: 'bar', style: `width:calc((100% - 2.6rem) * ${(r.reports / max).toFixed(3)})` }),
          h('span', { class: 'bar-value' }, int(r.reports)),
        ),
        h(
          'td',
          {
            class: 'num',
            dataset: { field: 'valid_reports' },
            title: r.reports ? `有效率 ${pct(r.valid_reports / r.reports)}` : null,
          },
          int(r.valid_reports),
        ),
        h('td', { class: 'num points', dataset: { field: 'points' } }, int(r.points)),
      ),
    ),
  );
  const totals = document.querySelector('[data-couriers-totals]');
  if (totals) {
    const sum = (k) => rows.reduce((s, r) => s + (Number(r[k]) || 0), 0);
    totals.textContent = `在册 ${int(sum('checked_in'))} 人 · 上报 ${int(sum('reports'))} 件`;
  }
  markPanel('couriers', rows.length === 0);
  keepFitted(document.querySelector('[data-panel="couriers"] .table-wrap'), 'tbody > tr', 'thead');
}
