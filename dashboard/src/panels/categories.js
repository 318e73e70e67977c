// 类别分布: reports by category (top 10), from GET /stats/categories.

import { COLORS, FONT, TOOLTIP, drawChart, px } from '../charts.js';
import { escapeHtml, int, pct } from '../format.js';
import { markPanel } from '../state.js';

const slot = { chart: null };

export function topCategories(items, n = 10) {
  return [...(items || [])]
    .filter((r) => Number(r.total) > 0)
    .sort((a, b) => b.total - a.total || String(a.name).localeCompare(String(b.name), 'zh-CN'))
    .slice(0, n);
}

const SLOT_MAX = 34; // the height of a category's row, at most (CSS px at scale 1)

function categoriesOption(chart, top) {
  const rows = [...top].reverse(); // largest at the top
  const max = Math.max(1, ...top.map((r) => r.total));
  const n = Math.max(1, rows.length);
  // Rows of the same height whatever their number, from the top: one category is a bar like
  // the others, not one that fills the panel.
  const rowHeight = Math.max(10, Math.min(chart.getHeight() / n, px(SLOT_MAX)));
  const font = Math.max(10, Math.min(px(14), Math.round(rowHeight * 0.6)));
  const bar = Math.max(4, Math.min(px(16), Math.round(rowHeight * 0.55)));
  return {
    tooltip: {
      ...TOOLTIP,
      trigger: 'axis',
      axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(53, 208, 255, 0.08)' } },
      formatter: (params) => {
        const row = rows[params[0].dataIndex];
        if (!row) return '';
        return [
          `<b>${escapeHtml(row.name)}</b>`,
          `上报 ${int(row.total)} 件 · 在办 ${int(row.open)} · 超期 ${int(row.overdue_open)}`,
          `结案率 ${pct(row.closure_rate)} · 满意率 ${pct(row.satisfaction_rate)}`,
        ].join('<br>');
      },
    },
    grid: { left: px(8), right: px(40), top: 0, height: Math.floor(rowHeight * n), containLabel: true },
    xAxis: {
      type: 'value',
      max,
      show: false,
    },
    yAxis: {
      type: 'category',
      data: rows.map((r) => r.name),
      axisLine: { show: false },
      axisTick: { show: false },
      axisLabel: {
        color: COLORS.text,
        fontFamily: FONT,
        fontSize: font,
        interval: 0,
        width: px(120),
        overflow: 'truncate',
      },
    },
    series: [
      {
        id: 'categories',
        type: 'bar',
        barWidth: bar,
        barMaxWidth: px(16),
        showBackground: true,
        backgroundStyle: { color: 'rgba(80, 120, 180, 0.12)', borderRadius: bar / 2 },
        itemStyle: {
          borderRadius: bar / 2,
          color: {
            type: 'linear', x: 0, y: 0, x2: 1, y2: 0,
            colorStops: [
              { offset: 0, color: 'rgba(59, 140, 255, 0.55)' },
              { offset: 1, color: '#35d0ff' },
            ],
          },
        },
        label: {
          show: true,
          position: 'right',
          color: '#ffffff',
          fontFamily: FONT,
          fontSize: font,
          fontWeight: 700,
          formatter: (p) => int(p.value),
        },
        data: rows.map((r) => r.total),
      },
    ],
  };
}

let lastItems = null;

export function renderCategories(items) {
  lastItems = items;
  const top = topCategories(items);
  markPanel('categories', top.length === 0);
  drawChart(
    slot,
    document.querySelector('[data-panel="categories"] .chart'),
    (chart) => chart.setOption(categoriesOption(chart, top), { replaceMerge: ['series'] }),
    {
      name: 'categories',
      onResize: () => {
        if (lastItems) renderCategories(lastItems);
      },
    },
  );
}
