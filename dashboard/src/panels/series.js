// 近30日趋势: cases submitted and closed per China day over the last 30 days, from
// GET /stats/timeseries (metric=submitted and metric=closed).

import { COLORS, FONT, TOOLTIP, drawChart, px } from '../charts.js';
import { int } from '../format.js';
import { markPanel } from '../state.js';
import { shortDay } from '../time.js';

const slot = { chart: null };

/** Both series on the same days: {days, submitted, closed}. */
export function alignSeries(days, submitted, closed) {
  const index = (items) => new Map((items || []).map((p) => [String(p.start).slice(0, 10), p.count]));
  const a = index(submitted);
  const b = index(closed);
  const all = days?.length ? days : [...new Set([...a.keys(), ...b.keys()])].sort();
  return {
    days: all,
    submitted: all.map((d) => a.get(d) ?? 0),
    closed: all.map((d) => b.get(d) ?? 0),
  };
}

/**
 * A day-by-day line: straight segments between the days (a smoothed curve would draw counts
 * that do not exist between them), a dot on each day that had any, a light area below.
 */
function line(name, data, color, fill) {
  return {
    id: name,
    name,
    type: 'line',
    smooth: false,
    symbol: 'circle',
    showSymbol: true,
    lineStyle: { width: px(2), color, shadowColor: color, shadowBlur: 4 },
    itemStyle: { color, borderColor: 'rgba(7, 18, 39, 0.9)', borderWidth: 1 },
    emphasis: { scale: 1.6 },
    areaStyle: {
      color: {
        type: 'linear', x: 0, y: 0, x2: 0, y2: 1,
        colorStops: [
          { offset: 0, color: fill },
          { offset: 1, color: 'rgba(11, 26, 51, 0)' },
        ],
      },
    },
    data: data.map((n) => ({ value: n, symbolSize: n > 0 ? px(6) : 0 })),
  };
}

function seriesOption(series) {
  return {
    tooltip: {
      ...TOOLTIP,
      trigger: 'axis',
      axisPointer: { type: 'line', lineStyle: { color: 'rgba(53, 208, 255, 0.5)' } },
    },
    legend: {
      top: 0,
      right: px(4),
      itemWidth: px(18),
      itemHeight: px(8),
      textStyle: { color: COLORS.text, fontFamily: FONT, fontSize: px(14) },
      data: ['上报', '结案'],
    },
    grid: { left: px(8), right: px(14), top: px(34), bottom: px(6), containLabel: true },
    xAxis: {
      type: 'category',
      boundaryGap: false,
      data: series.days.map(shortDay),
      axisLine: { lineStyle: { color: COLORS.axis } },
      axisTick: { show: false },
      axisLabel: { color: COLORS.muted, fontSize: px(12), fontFamily: FONT, interval: 'auto', hideOverlap: true },
    },
    yAxis: {
      type: 'value',
      minInterval: 1,
      splitLine: { lineStyle: { color: COLORS.split } },
      axisLabel: { color: COLORS.muted, fontSize: px(12), fontFamily: FONT },
    },
    series: [
      line('上报', series.submitted, COLORS.cyan, 'rgba(53, 208, 255, 0.22)'),
      line('结案', series.closed, COLORS.amber, 'rgba(255, 181, 71, 0.16)'),
    ],
  };
}

/** The totals first (plain text), then the chart. */
export function renderSeries(series) {
  const sumA = series.submitted.reduce((s, n) => s + n, 0);
  const sumB = series.closed.reduce((s, n) => s + n, 0);
  const totals = document.querySelector('[data-series-totals]');
  if (totals) totals.textContent = `上报 ${int(sumA)} · 结案 ${int(sumB)}`;
  markPanel('series', sumA === 0 && sumB === 0);
  drawChart(slot, document.querySelector('[data-panel="series"] .chart'), (chart) => chart.setOption(seriesOption(series)), {
    name: 'series',
  });
}
