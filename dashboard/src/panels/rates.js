// 综合指标: gauges of the response, resolution and satisfaction rates and the score, and the
// KPI strip (上报, 在办, 超期, 结案, 结案率) from GET /stats/summary.

import { COLORS, FONT, drawChart, fitText, px, textWidth } from '../charts.js';
import { DASH, int, pct, score100 } from '../format.js';
import { markPanel } from '../state.js';

const GAUGES = [
  { key: 'response_rate', name: '响应率', color: ['#1f7bff', '#35d0ff'], kind: 'pct',
    caption: (s) => `${int(s.responded_on_time)} / ${int(s.response_due)} 件按时响应` },
  { key: 'resolution_rate', name: '解决率', color: ['#12b886', '#2ee6c5'], kind: 'pct',
    caption: (s) => `${int(s.resolved)} / ${int(s.due_to_close)} 件已解决` },
  { key: 'satisfaction_rate', name: '满意率', color: ['#f08c00', '#ffd166'], kind: 'pct',
    caption: (s) => `${int(s.ratings)} 条评价` },
  { key: 'score', name: '综合得分', color: ['#7048e8', '#b197fc'], kind: 'score',
    caption: () => '按响应、解决、满意加权' },
];

const slots = new Map(); // gauge key → {chart}
let lastSummary = null;

/** The font size of a gauge's figure: the widest one ("100.0%") fits inside the ring. */
function figureSize(chart, g) {
  const width = chart.getWidth();
  const height = chart.getHeight();
  const radius = (Math.min(width, height) / 2) * 0.94;
  const inner = 2 * (radius - px(11)) * 0.74; // room inside the ring, with a margin
  const unit = g.kind === 'pct' ? '%' : '分';
  const wide = (size) =>
    textWidth('100.0', `800 ${size}px ${FONT}`) + textWidth(unit, `400 ${size / 2}px ${FONT}`) + 2;
  let size = px(30);
  while (size > 10 && wide(size) > inner) size -= 1;
  return size;
}

function gaugeOption(g, value, chart) {
  const known = value !== null && value !== undefined && !Number.isNaN(Number(value));
  const shown = known ? Math.max(0, Math.min(1, Number(value))) * 100 : 0;
  const size = figureSize(chart, g);
  const unitSize = Math.max(9, Math.round(size / 2));
  // The series keeps the same parts whatever the value: a gauge whose value comes or goes
  // (null ⇄ a number) only changes colours. ECharts fails to update a gauge whose progress
  // bar appears on a chart drawn without one.
  const colour = known
    ? {
        type: 'linear', x: 0, y: 0, x2: 1, y2: 0,
        colorStops: [
          { offset: 0, color: g.color[0] },
          { offset: 1, color: g.color[1] },
        ],
      }
    : 'rgba(0, 0, 0, 0)';
  return {
    series: [
      {
        id: g.key,
        type: 'gauge',
        startAngle: 215,
        endAngle: -35,
        min: 0,
        max: 100,
        radius: '94%',
        center: ['50%', '58%'],
        progress: {
          show: true,
          width: px(11),
          roundCap: true,
          itemStyle: {
            color: colour,
            shadowColor: known ? g.color[1] : 'rgba(0, 0, 0, 0)',
            shadowBlur: known ? 12 : 0,
          },
        },
        axisLine: { roundCap: true, lineStyle: { width: px(11), color: [[1, 'rgba(80, 120, 180, 0.18)']] } },
        axisTick: { show: false },
        splitLine: { show: false },
        axisLabel: { show: false },
        pointer: { show: false },
        anchor: { show: false },
        title: {
          offsetCenter: [0, '48%'],
          color: COLORS.text,
          fontSize: Math.min(px(15), Math.max(10, Math.round(size * 0.55))),
          fontFamily: FONT,
        },
        detail: {
          valueAnimation: false,
          offsetCenter: [0, '-4%'],
          fontFamily: FONT,
          color: '#ffffff',
          formatter: () => {
            if (!known) return `{v|${DASH}}`;
            if (g.kind === 'pct') return `{v|${pct(value).replace('%', '')}}{u|%}`;
            return `{v|${score100(value)}}{u|分}`;
          },
          rich: {
            v: { fontSize: size, fontWeight: 800, color: '#ffffff', fontFamily: FONT },
            u: {
              fontSize: unitSize,
              color: COLORS.muted,
              fontFamily: FONT,
              padding: [Math.round(size * 0.27), 0, 0, px(2)],
            },
          },
        },
        data: [{ value: shown, name: g.name }],
      },
    ],
  };
}

function drawGauge(g, summary) {
  const box = document.querySelector(`[data-gauge="${g.key}"]`);
  if (!box) return;
  const value = summary[g.key];
  box.dataset.value = value === null || value === undefined ? '' : String(value);
  fitText(box.querySelector('.gauge-caption'), g.caption(summary), { maxRem: 0.8, minRem: 0.62 });
  if (!slots.has(g.key)) slots.set(g.key, { chart: null });
  drawChart(slots.get(g.key), box.querySelector('.gauge-chart'), (chart) => chart.setOption(gaugeOption(g, value, chart)), {
    name: `gauge ${g.key}`,
    onResize: () => {
      if (lastSummary) drawGauge(g, lastSummary);
    },
  });
}

function setKpi(name, text, title = '') {
  for (const el of document.querySelectorAll(`[data-kpi="${name}"]`)) {
    el.textContent = text;
    if (title) el.title = title;
  }
}

function renderKpis(summary) {
  setKpi('total', int(summary.total));
  setKpi('open', int(summary.open));
  setKpi('overdue_open', int(summary.overdue_open));
  setKpi('closed', int(summary.closed));
  // 随手清: hazards couriers cleared themselves, closed by the check (not among 结案).
  setKpi('self_resolved', int(summary.self_resolved ?? 0), '上报人当场处理、经社区核查结案');
  setKpi(
    'closure_rate',
    pct(summary.closure_rate),
    `结案 ${int(summary.closed)} ÷ 应结案 ${int(summary.due_to_close)}`,
  );
  const overdue = document.querySelector('.kpi[data-tone="overdue"]');
  if (overdue) overdue.classList.toggle('alarm', Number(summary.overdue_open) > 0);
}

/** The KPI strip first (plain figures), then each gauge on its own. */
export function renderRates(summary) {
  lastSummary = summary;
  renderKpis(summary);
  markPanel('rates', !summary.total);
  for (const g of GAUGES) drawGauge(g, summary);
}
