// 办理漏斗: 上报 → 立案 → 派遣 → 办结 → 结案, from the summary.
// 上报 = total; 立案 = accepted; 派遣 = whistled; 办结 = resolved + closed cases (by status);
// 结案 = closed cases (by status).

import { FONT, TOOLTIP, drawChart, px, textWidth } from '../charts.js';
import { int, pct } from '../format.js';
import { markPanel } from '../state.js';

const STAGES = [
  { key: 'submitted', name: '上报', color: '#3b8cff' },
  { key: 'accepted', name: '立案', color: '#35d0ff' },
  { key: 'dispatched', name: '派遣', color: '#2ee6c5' },
  { key: 'resolved', name: '办结', color: '#7bd88f' },
  { key: 'closed', name: '结案', color: '#ffd166' },
];

const slot = { chart: null };
let lastSummary = null;

export function funnelStages(summary) {
  const byStatus = summary.counts_by_status || {};
  return {
    submitted: summary.total ?? 0,
    accepted: summary.accepted ?? 0,
    dispatched: summary.whistled ?? 0,
    resolved: (byStatus.resolved ?? 0) + (byStatus.closed ?? 0),
    closed: byStatus.closed ?? 0,
  };
}

const LABEL_SIZE = 15;

/**
 * The funnel's narrowest bar, as a share of its width: wide enough for the longest label
 * ("结案 1,234") to sit inside it with some room on either side.
 */
function minShare(chart, values) {
  const width = chart.getWidth() * 0.92;
  if (!width) return 0.3;
  const font = `700 ${px(LABEL_SIZE)}px ${FONT}`;
  const longest = Math.max(...STAGES.map((s) => textWidth(`${s.name} ${int(values[s.key])}`, font)));
  return Math.min(0.8, Math.max(0.12, (longest + px(18)) / width));
}

function funnelOption(chart, values) {
  const total = values.submitted;
  const share = minShare(chart, values);
  return {
    tooltip: {
      ...TOOLTIP,
      trigger: 'item',
      formatter: (p) => `${p.name}：${int(p.value)} 件${total ? `（${pct(p.value / total, 0)}）` : ''}`,
    },
    series: [
      {
        id: 'funnel',
        type: 'funnel',
        sort: 'none',
        left: '4%',
        right: '4%',
        top: '6%',
        bottom: '6%',
        min: 0,
        max: Math.max(1, total),
        minSize: `${Math.round(share * 100)}%`,
        maxSize: '100%',
        gap: px(3),
        funnelAlign: 'center',
        label: {
          show: true,
          position: 'inside',
          color: '#ffffff',
          textBorderColor: 'rgba(4, 14, 32, 0.75)',
          textBorderWidth: 3,
          fontFamily: FONT,
          fontSize: px(LABEL_SIZE),
          fontWeight: 700,
          formatter: (p) => `${p.name} ${int(p.value)}`,
        },
        itemStyle: { borderWidth: 0, opacity: 0.92 },
        emphasis: { label: { fontSize: px(LABEL_SIZE) } },
        data: STAGES.map((s) => ({
          name: s.name,
          value: values[s.key],
          itemStyle: { color: s.color },
        })),
      },
    ],
  };
}

/** The stages' figures first (plain text), then the chart. */
export function renderFunnel(summary) {
  lastSummary = summary;
  const values = funnelStages(summary);
  const total = values.submitted;
  for (const s of STAGES) {
    const el = document.querySelector(`[data-stage="${s.key}"]`);
    if (el) el.textContent = int(values[s.key]);
    const share = document.querySelector(`[data-stage-share="${s.key}"]`);
    if (share) share.textContent = total ? pct(values[s.key] / total, 0) : '—';
  }
  markPanel('funnel', !total);
  drawChart(
    slot,
    document.querySelector('[data-panel="funnel"] .chart'),
    (chart) => chart.setOption(funnelOption(chart, values)),
    {
      name: 'funnel',
      onResize: () => {
        if (lastSummary) renderFunnel(lastSummary);
      },
    },
  );
}
