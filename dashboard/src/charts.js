// ECharts, only the parts the wall uses, drawn on canvas.

import * as echarts from 'echarts/core';
import {
  BarChart,
  EffectScatterChart,
  FunnelChart,
  GaugeChart,
  LineChart,
  ScatterChart,
} from 'echarts/charts';
import {
  GeoComponent,
  GraphicComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  EffectScatterChart,
  FunnelChart,
  GaugeChart,
  LineChart,
  ScatterChart,
  GeoComponent,
  GraphicComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export { echarts };

export const FONT =
  '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';

export const COLORS = {
  text: '#d7e6ff',
  muted: '#7f9cc7',
  axis: 'rgba(127, 156, 199, 0.35)',
  split: 'rgba(127, 156, 199, 0.12)',
  cyan: '#35d0ff',
  blue: '#3b8cff',
  teal: '#2ee6c5',
  amber: '#ffb547',
  green: '#2ecc71',
  yellow: '#f1c40f',
  red: '#e74c3c',
  grey: '#7b8aa3',
};

export const TOOLTIP = {
  backgroundColor: 'rgba(8, 22, 46, 0.94)',
  borderColor: 'rgba(53, 208, 255, 0.45)',
  borderWidth: 1,
  textStyle: { color: COLORS.text, fontFamily: FONT, fontSize: 14 },
  confine: true,
};

const observers = new WeakMap();

/**
 * A chart in `el` that follows the size of its box; `onResize(chart)` runs after a change of
 * size (to redraw what was laid out in pixels).
 */
export function makeChart(el, { onResize } = {}) {
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  chart.setOption({ textStyle: { fontFamily: FONT }, animationDuration: 600 });
  let frame = 0;
  let size = `${el.clientWidth}x${el.clientHeight}`;
  const observer = new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      const now = `${el.clientWidth}x${el.clientHeight}`;
      if (chart.isDisposed() || now === size) return;
      size = now;
      try {
        chart.resize();
        onResize?.(chart);
      } catch (err) {
        console.error('chart resize:', err);
      }
    });
  });
  observer.observe(el);
  observers.set(chart, observer);
  return chart;
}

export function disposeChart(chart) {
  if (!chart) return;
  observers.get(chart)?.disconnect();
  observers.delete(chart);
  try {
    if (!chart.isDisposed()) chart.dispose();
  } catch {
    // gone already
  }
}

/**
 * Draw on the chart kept in `slot.chart` (made in `el` when there is none): `draw(chart)`.
 * A chart whose drawing fails is thrown away, since ECharts may be left in the middle of an
 * update and refuse every later one, and the drawing is tried once more on a fresh chart.
 * Never throws: one chart failing never stops the others, nor the figures around it.
 */
export function drawChart(slot, el, draw, { name = 'chart', onResize } = {}) {
  if (!el) return false;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      if (!slot.chart || slot.chart.isDisposed()) slot.chart = makeChart(el, { onResize });
      draw(slot.chart);
      return true;
    } catch (err) {
      console.error(`chart ${name}:`, err);
      disposeChart(slot.chart);
      slot.chart = null;
    }
  }
  return false;
}

let measureContext = null;

/** The width in CSS pixels of `text` drawn in `font` (a canvas font: "700 15px …"). */
export function textWidth(text, font) {
  if (!measureContext) measureContext = document.createElement('canvas').getContext('2d');
  if (!measureContext) return String(text).length * 10;
  measureContext.font = font;
  return measureContext.measureText(String(text)).width;
}

/**
 * Fit an element's one line of text to its width: the font shrinks from `maxRem` down to
 * `minRem` at most, then the text is cut with an ellipsis (the whole of it in the title).
 */
export function fitText(el, text, { maxRem, minRem }) {
  if (!el) return;
  el.textContent = text;
  el.title = text;
  el.style.fontSize = `${maxRem}rem`;
  const width = el.clientWidth;
  if (!width) return;
  let rem = maxRem;
  while (el.scrollWidth > width + 0.5 && rem > minRem) {
    rem = Math.max(minRem, rem - 0.05);
    el.style.fontSize = `${rem.toFixed(2)}rem`;
  }
}

/** A CSS-pixel font size that follows the wall's scale (see --scale in style.css). */
export function px(size) {
  const scale = Number(getComputedStyle(document.documentElement).getPropertyValue('--scale')) || 1;
  return Math.round(size * scale);
}
