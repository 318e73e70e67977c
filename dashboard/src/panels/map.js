// 案件分布: community outlines (GET /communities/outlines, registered as an ECharts map; no
// tiles) with the recent cases (GET /reports?limit=100) coloured by the light of the clock
// still running: green, yellow, red; grey once no clock runs (finished cases).
//
// The map keeps its true proportions. A town whose communities are too small to name at the
// map's scale (the banner's seat among its villages) is named as a whole, and the one with the
// most cases is drawn again, enlarged, beside the map, with its cases (on the map, the town is
// lit up and says how many). Names are placed where no dot covers them; dots that would sit on
// one another are moved apart a little. The map can be zoomed and dragged; it keeps the
// viewer's view for a few minutes, then goes back to the whole.

import { COLORS, FONT, TOOLTIP, drawChart, echarts, px, textWidth } from '../charts.js';
import { regionName } from '../filters.js';
import { escapeHtml, int } from '../format.js';
import { LIGHT_LABELS, statusLabel } from '../labels.js';
import { dashboardState, markPanel } from '../state.js';

export const MAX_POINTS = 100;
const LIGHT_COLORS = { green: '#2ecc71', yellow: '#f1c40f', red: '#e74c3c', none: '#8a96aa' };
const RANK = { green: 1, yellow: 2, red: 3 };
const KEEP_VIEW_MS = 3 * 60_000; // a view the viewer zoomed or dragged to, kept this long
const NAME_SIZE = 13;
const CLUSTER_SIZE = 15;
const DOT_SIZE = 11;
const OVERDUE_SIZE = 13;
// Where a name may go in its outline: a grid of spots over the room it has there, the nearest
// to the centre first (above before below); the first that no dot covers is taken.
const SPOTS = (() => {
  const out = [];
  for (let i = -3; i <= 3; i += 1) for (let j = -3; j <= 3; j += 1) out.push([i / 3, j / 3]);
  const cost = ([x, y]) => Math.hypot(x, y * 1.2) + (y > 0 ? 0.05 : 0);
  return out.sort((a, b) => cost(a) - cost(b));
})();

const slot = { chart: null };
let mapName = null;
let mapSeq = 0;
let outlineBox = null;
let frameBox = null;
let hasOutlines = false;
let features = [];
let registeredFrom = null;
const insetMaps = new Map(); // `${mapName}|${region}` → the name of the map of that town alone
const userViews = { main: null, inset: null }; // {center, zoom} a viewer roamed to
let userViewTimer = 0;
let roamTimer = 0;

/** The light of the running clock (the worst, should several run); null when none runs. */
export function runningLight(deadlines) {
  let light = null;
  for (const d of deadlines || []) {
    if (d && d.light && (!light || (RANK[d.light] || 0) > (RANK[light] || 0))) light = d.light;
  }
  return light;
}

/** A map point from a report as GET /reports answers it. */
export function pointFromReport(r) {
  const lat = Number(r?.location?.lat);
  const lng = Number(r?.location?.lng);
  if (!r || !Number.isFinite(lat) || !Number.isFinite(lng)) return null;
  return {
    id: r.id,
    number: r.number,
    status: r.status,
    light: runningLight(r.deadlines),
    lat,
    lng,
  };
}

function eachCoordinate(geometry, fn) {
  const walk = (c) => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === 'number' && typeof c[1] === 'number') fn(c[0], c[1]);
    else c.forEach(walk);
  };
  if (geometry?.type === 'GeometryCollection') geometry.geometries?.forEach((g) => eachCoordinate(g, fn));
  else walk(geometry?.coordinates);
}

/** The outer rings of a Polygon or MultiPolygon: [[[lng, lat]…]…]. */
function outerRings(geometry) {
  if (geometry?.type === 'Polygon') return geometry.coordinates?.slice(0, 1) || [];
  if (geometry?.type === 'MultiPolygon') return (geometry.coordinates || []).map((p) => p[0]).filter(Boolean);
  return [];
}

function boxOf(features, points) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const add = (x, y) => {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  };
  for (const f of features || []) eachCoordinate(f.geometry, add);
  for (const p of points || []) add(p.lng, p.lat);
  if (!Number.isFinite(minX)) return null;
  return { minX, minY, maxX, maxY };
}

function padded(box, margin = 0.55) {
  const w = Math.max(box.maxX - box.minX, 0.002);
  const hgt = Math.max(box.maxY - box.minY, 0.002);
  const cx = (box.minX + box.maxX) / 2;
  const cy = (box.minY + box.maxY) / 2;
  return {
    minX: cx - w * margin,
    maxX: cx + w * margin,
    minY: cy - hgt * margin,
    maxY: cy + hgt * margin,
  };
}

const inBox = (box, p) => p.lng >= box.minX && p.lng <= box.maxX && p.lat >= box.minY && p.lat <= box.maxY;

/** Register the outlines (or, without any, a blank frame around the points) as a map. */
function registerOutlines(geojson, points) {
  // The same outlines as last time (the 60 s refresh): registered already.
  if (geojson && geojson === registeredFrom && hasOutlines) return true;
  registeredFrom = geojson;
  features = (geojson?.features || [])
    .filter((f) => f && f.geometry && /Polygon$/.test(f.geometry.type))
    .map((f, i) => ({
      type: 'Feature',
      id: f.id ?? f.properties?.id ?? i,
      geometry: f.geometry,
      properties: { ...(f.properties || {}), name: f.properties?.name || String(f.id ?? i) },
    }));
  hasOutlines = features.length > 0;
  outlineBox = boxOf(features, []);
  for (const f of features) {
    f.box = boxOf([f], []);
    f.rings = outerRings(f.geometry);
  }
  let shown = features;
  frameBox = null;
  if (!hasOutlines) {
    const box = boxOf([], points);
    if (!box) return false;
    const p = padded(box);
    frameBox = p;
    shown = [
      {
        type: 'Feature',
        id: 'frame',
        properties: { name: '' },
        geometry: {
          type: 'Polygon',
          coordinates: [[[p.minX, p.minY], [p.maxX, p.minY], [p.maxX, p.maxY], [p.minX, p.maxY], [p.minX, p.minY]]],
        },
      },
    ];
  }
  // A new name for new outlines; the frame around the points always takes the same one.
  if (hasOutlines) {
    mapSeq += 1;
    userViews.main = null;
    userViews.inset = null;
  }
  mapName = hasOutlines ? `ssp-outlines-${mapSeq}` : 'ssp-frame';
  echarts.registerMap(mapName, { type: 'FeatureCollection', features: shown });
  return true;
}

/** The map of one town's outlines alone (for the enlarged view), registered once. */
function insetMap(region, group) {
  const key = `${mapName}|${region}`;
  if (!insetMaps.has(key)) {
    const name = `${mapName}-town-${insetMaps.size + 1}`;
    echarts.registerMap(name, {
      type: 'FeatureCollection',
      features: group.map((f) => ({ type: 'Feature', id: f.id, geometry: f.geometry, properties: f.properties })),
    });
    insetMaps.set(key, name);
  }
  return insetMaps.get(key);
}

/** The part of the world shown: the outlines, widened a little for the points just outside. */
function viewBox(points) {
  if (!hasOutlines) return frameBox || (points.length ? padded(boxOf([], points)) : null);
  let box = outlineBox;
  if (!box) return null;
  const w = box.maxX - box.minX;
  const hgt = box.maxY - box.minY;
  const near = (p) =>
    p.lng > box.minX - w && p.lng < box.maxX + w && p.lat > box.minY - hgt && p.lat < box.maxY + hgt;
  const nearBox = boxOf([], points.filter(near));
  if (nearBox) {
    box = {
      minX: Math.min(box.minX, nearBox.minX),
      maxX: Math.max(box.maxX, nearBox.maxX),
      minY: Math.min(box.minY, nearBox.minY),
      maxY: Math.max(box.maxY, nearBox.maxY),
    };
  }
  return padded(box, 0.53);
}

// ---------------------------------------------------------------- layout, in the chart's pixels

/** East-west is shortened by the cosine of the latitude, so that the map is not stretched. */
function aspectScaleOf(box) {
  const lat = ((box.minY + box.maxY) / 2) * (Math.PI / 180);
  return Math.min(1, Math.max(0.2, Math.cos(lat)));
}

/** The largest rectangle of the box's proportions inside `area` ({x, y, w, h}), centred. */
function fitRect(box, area) {
  const aspect = ((box.maxX - box.minX) / (box.maxY - box.minY)) * aspectScaleOf(box);
  let w = area.w;
  let h = w / aspect;
  if (h > area.h) {
    h = area.h;
    w = h * aspect;
  }
  return { x: area.x + (area.w - w) / 2, y: area.y + (area.h - h) / 2, w, h };
}

/** From lng/lat to the chart's pixels and back, for a box drawn in `rect` at `zoom`. */
function projector(box, rect, zoom = 1) {
  const sx = (rect.w / (box.maxX - box.minX)) * zoom;
  const sy = (rect.h / (box.maxY - box.minY)) * zoom;
  return {
    toPx: (lng, lat) => [rect.x + (lng - box.minX) * sx, rect.y + (box.maxY - lat) * sy],
    toData: (x, y) => [box.minX + (x - rect.x) / sx, box.maxY - (y - rect.y) / sy],
  };
}

/**
 * Dots closer than `gap` pixels are moved apart (by a few pixels, never far from where they
 * are): a dot under another is a case nobody sees. Answers their positions in pixels.
 */
function spread(points, proj, gap) {
  const home = points.map((p) => proj.toPx(p.lng, p.lat));
  const pos = home.map(([x, y]) => [x, y]);
  const most = gap * 1.6;
  for (let round = 0; round < 40; round += 1) {
    let moved = false;
    for (let i = 0; i < pos.length; i += 1) {
      for (let j = i + 1; j < pos.length; j += 1) {
        let dx = pos[j][0] - pos[i][0];
        let dy = pos[j][1] - pos[i][1];
        const d = Math.hypot(dx, dy);
        if (d >= gap) continue;
        if (d < 0.01) {
          const angle = (i + j) * 2.399963; // the golden angle: coincident dots fan out
          dx = Math.cos(angle);
          dy = Math.sin(angle);
        } else {
          dx /= d;
          dy /= d;
        }
        const push = (gap - d) / 2 + 0.01;
        pos[i][0] -= dx * push;
        pos[i][1] -= dy * push;
        pos[j][0] += dx * push;
        pos[j][1] += dy * push;
        moved = true;
      }
    }
    for (let i = 0; i < pos.length; i += 1) {
      const dx = pos[i][0] - home[i][0];
      const dy = pos[i][1] - home[i][1];
      const d = Math.hypot(dx, dy);
      if (d > most) {
        pos[i][0] = home[i][0] + (dx / d) * most;
        pos[i][1] = home[i][1] + (dy / d) * most;
      }
    }
    if (!moved) break;
  }
  return pos;
}

function insideRings(x, y, rings) {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

/** How far the nearest dot's edge is from a label's box (negative: a dot covers it). */
function clearance(rect, dots, radius) {
  let least = Infinity;
  for (const [x, y] of dots) {
    const dx = Math.max(rect.x0 - x, 0, x - rect.x1);
    const dy = Math.max(rect.y0 - y, 0, y - rect.y1);
    least = Math.min(least, Math.hypot(dx, dy) - radius);
  }
  return least;
}

/**
 * The outlines' names: where each goes (clear of the dots), or hidden when it does not fit
 * its outline at this scale (then it shows on hover).
 */
function planNames(feats, proj, dots, radius) {
  const size = px(NAME_SIZE);
  const font = `400 ${size}px ${FONT}`;
  const shown = [];
  const hidden = []; // named on hover only
  const small = []; // … since too small for their name
  for (const f of feats) {
    const name = f.properties.name;
    const [x0, y0] = proj.toPx(f.box.minX, f.box.maxY);
    const [x1, y1] = proj.toPx(f.box.maxX, f.box.minY);
    const bw = x1 - x0;
    const bh = y1 - y0;
    const tw = textWidth(name, font) + 6;
    const th = size + 4;
    if (tw > bw * 0.92 || th * 1.5 > bh) {
      hidden.push(f);
      small.push(f);
      continue;
    }
    const rings = f.rings.map((ring) => ring.map(([lng, lat]) => proj.toPx(lng, lat)));
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const roomX = Math.max(0, (bw - tw) / 2 - 2); // how far the name may move from the centre
    const roomY = Math.max(0, (bh - th) / 2 - 2);
    let best = null;
    for (const [fx, fy] of SPOTS) {
      const ax = cx + fx * roomX;
      const ay = cy + fy * roomY;
      const rect = { x0: ax - tw / 2, x1: ax + tw / 2, y0: ay - th / 2, y1: ay + th / 2 };
      if (rings.length && !insideRings(ax, ay, rings)) continue;
      const clear = clearance(rect, dots, radius);
      if (clear >= px(3)) {
        best = { ax, ay, clear };
        break;
      }
      if (!best || clear > best.clear) best = { ax, ay, clear };
    }
    if (best && best.clear < -radius * 0.4) {
      hidden.push(f); // dots cover it wherever it goes: shown on hover
      continue;
    }
    const at = best || { ax: cx, ay: cy };
    shown.push({ name, value: proj.toData(at.ax, at.ay) });
  }
  return { shown, hidden, small };
}

/** Towns whose communities are too small to name: each named once, above them. */
function planTowns(small, proj) {
  const byRegion = new Map();
  for (const f of small) {
    const key = f.properties.region_id || '';
    if (!byRegion.has(key)) byRegion.set(key, []);
    byRegion.get(key).push(f);
  }
  const towns = [];
  for (const [region, group] of byRegion) {
    const name = region ? regionName(region) : null;
    if (!name || group.length < 2) continue;
    const box = boxOf(group, []);
    const [x0, y0] = proj.toPx(box.minX, box.maxY);
    const [x1] = proj.toPx(box.maxX, box.minY);
    towns.push({ region, name, group, box, label: proj.toData((x0 + x1) / 2, y0 - px(CLUSTER_SIZE) * 0.8) });
  }
  return towns;
}

// ---------------------------------------------------------------- the chart's option

function renderLegend(points) {
  const counts = { green: 0, yellow: 0, red: 0, none: 0 };
  for (const p of points) counts[p.light || 'none'] += 1;
  for (const [k, n] of Object.entries(counts)) {
    const el = document.querySelector(`[data-map-count="${k}"]`);
    if (el) el.textContent = int(n);
  }
}

function tooltip(p) {
  const d = p.data;
  // Names come from the API as text: the tooltip is HTML.
  if (!d || !d.id) return escapeHtml(p.name || '');
  const light = d.light ? `<span style="color:${LIGHT_COLORS[d.light]}">● ${LIGHT_LABELS[d.light]}</span>` : '<span style="color:#8a96aa">● 已无计时</span>';
  return `<b>${escapeHtml(d.name)}</b><br>${escapeHtml(statusLabel(d.status))} · ${light}`;
}

function geoOption(id, map, box, rect, regions, view) {
  return {
    id,
    map,
    roam: true,
    scaleLimit: { min: 0.6, max: 16 },
    left: rect.x,
    top: rect.y,
    width: rect.w,
    height: rect.h,
    boundingCoords: [
      [box.minX, box.maxY],
      [box.maxX, box.minY],
    ],
    aspectScale: aspectScaleOf(box),
    ...(view ? { center: view.center, zoom: view.zoom } : {}),
    label: { show: false },
    itemStyle: hasOutlines
      ? {
          areaColor: {
            type: 'radial', x: 0.5, y: 0.5, r: 0.8,
            colorStops: [
              { offset: 0, color: 'rgba(33, 96, 170, 0.42)' },
              { offset: 1, color: 'rgba(18, 52, 104, 0.42)' },
            ],
          },
          borderColor: 'rgba(90, 180, 255, 0.85)',
          borderWidth: 1.2,
          shadowColor: 'rgba(53, 208, 255, 0.35)',
          shadowBlur: 8,
        }
      : { areaColor: 'rgba(0,0,0,0)', borderColor: 'rgba(0,0,0,0)' },
    emphasis: {
      label: {
        show: false,
        color: '#ffffff',
        fontFamily: FONT,
        fontSize: px(NAME_SIZE),
        textBorderColor: 'rgba(6, 18, 40, 0.9)',
        textBorderWidth: 3,
      },
      itemStyle: { areaColor: 'rgba(53, 208, 255, 0.28)' },
    },
    select: { disabled: true },
    silent: !hasOutlines,
    regions,
  };
}

function textSeries(id, geoIndex, data, { size, color, weight = 400, border = 2 }) {
  return {
    id,
    type: 'scatter',
    coordinateSystem: 'geo',
    geoIndex,
    symbol: 'circle',
    symbolSize: 1,
    itemStyle: { color: 'rgba(0, 0, 0, 0)' },
    silent: true,
    label: {
      show: true,
      position: 'inside',
      formatter: '{b}',
      color,
      fontFamily: FONT,
      fontSize: size,
      fontWeight: weight,
      textBorderColor: 'rgba(6, 18, 40, 0.85)',
      textBorderWidth: border,
    },
    labelLayout: { hideOverlap: true },
    tooltip: { show: false },
    data,
  };
}

function dotData(points, positions, proj, predicate) {
  const out = [];
  points.forEach((p, i) => {
    if (!predicate(p)) return;
    out.push({
      name: p.number,
      value: proj.toData(positions[i][0], positions[i][1]),
      id: p.id,
      status: p.status,
      light: p.light,
      itemStyle: { color: LIGHT_COLORS[p.light || 'none'] },
    });
  });
  return out;
}

function dotSeries(prefix, geoIndex, points, positions, proj) {
  return [
    {
      id: `${prefix}cases`,
      name: '案件',
      type: 'scatter',
      coordinateSystem: 'geo',
      geoIndex,
      symbolSize: px(DOT_SIZE),
      itemStyle: { borderColor: 'rgba(255,255,255,0.85)', borderWidth: 1, opacity: 0.95 },
      emphasis: { scale: 1.6 },
      zlevel: 1,
      data: dotData(points, positions, proj, (p) => p.light !== 'red'),
    },
    {
      id: `${prefix}overdue`,
      name: '超期',
      type: 'effectScatter',
      coordinateSystem: 'geo',
      geoIndex,
      symbolSize: px(OVERDUE_SIZE),
      rippleEffect: { brushType: 'stroke', scale: 3.2, period: 3 },
      itemStyle: { borderColor: '#ffffff', borderWidth: 1, shadowBlur: 10, shadowColor: COLORS.red },
      zlevel: 2,
      data: dotData(points, positions, proj, (p) => p.light === 'red'),
    },
  ];
}

/** The town with the most cases among those too small to name, if it has any. */
function pickInset(towns, points) {
  let best = null;
  for (const town of towns) {
    const around = padded(town.box, 0.6);
    const count = points.filter((p) => inBox(around, p)).length;
    if (count > 0 && (!best || count > best.count)) best = { ...town, count };
  }
  return best;
}

/** Where the map and the enlarged town go: side by side on a wide panel, else one above. */
function split(width, height, pad) {
  const wide = width / height >= 1.3;
  if (wide) {
    const w = Math.round(width * 0.38);
    return {
      main: { x: pad, y: pad, w: width - w - 3 * pad, h: height - 2 * pad },
      inset: { x: width - w - pad, y: pad, w, h: height - 2 * pad },
    };
  }
  const h = Math.round(height * 0.42);
  return {
    main: { x: pad, y: pad, w: width - 2 * pad, h: height - h - 3 * pad },
    inset: { x: pad, y: height - h - pad, w: width - 2 * pad, h },
  };
}

function mapOption(chart, points) {
  const width = chart.getWidth();
  const height = chart.getHeight();
  const box = viewBox(points);
  if (!box || !width || !height) return null;
  const pad = px(8);
  const radius = px(DOT_SIZE) / 2;
  const gap = px(DOT_SIZE) * 0.9;

  // The whole map first, to see which towns are too small to name at its scale.
  let area = { x: pad, y: pad, w: width - 2 * pad, h: height - 2 * pad };
  const mainView = userViews.main;
  const planMain = (rect, shown) => {
    const proj = projector(box, rect, mainView?.zoom || 1);
    const positions = spread(shown, proj, gap);
    const names = hasOutlines
      ? planNames(features, proj, positions, radius)
      : { shown: [], hidden: [], small: [] };
    return { rect, proj, points: shown, positions, names, towns: planTowns(names.small, proj) };
  };
  let main = planMain(fitRect(box, area), points);
  const town = hasOutlines && width >= px(520) ? pickInset(main.towns, points) : null;
  let inset = null;
  if (town) {
    const parts = split(width, height, pad);
    const townBox = padded(town.box, 0.6);
    area = parts.main;
    // The town's cases are drawn in the enlarged view only.
    main = planMain(fitRect(box, area), points.filter((p) => !inBox(townBox, p)));
    const title = px(CLUSTER_SIZE) + px(10);
    const room = { x: parts.inset.x + pad, y: parts.inset.y + title, w: parts.inset.w - 2 * pad, h: parts.inset.h - title - pad };
    const rect = fitRect(townBox, room);
    const frame = { x: rect.x - pad, y: rect.y - title, w: rect.w + 2 * pad, h: rect.h + title + pad };
    const inside = points.filter((p) => inBox(townBox, p));
    const proj = projector(townBox, rect, userViews.inset?.zoom || 1);
    const positions = spread(inside, proj, gap);
    const names = planNames(town.group, proj, positions, radius);
    inset = { town, box: townBox, rect, frame, points: inside, proj, positions, names };
  }

  const hoverOnly = (hidden) =>
    hidden.map((f) => ({ name: f.properties.name, emphasis: { label: { show: true } } }));
  const regions = hoverOnly(main.names.hidden);
  if (inset) {
    // The enlarged town, lit up on the map.
    const lit = new Set(inset.town.group.map((f) => f.properties.name));
    for (const region of regions) {
      if (lit.has(region.name)) {
        region.itemStyle = { areaColor: 'rgba(53, 208, 255, 0.32)', borderColor: '#8fe3ff', borderWidth: 1.4 };
      }
    }
  }
  const townLabel = (t) =>
    inset && t.region === inset.town.region ? `${t.name} · ${int(inset.points.length)}件` : t.name;
  const geo = [geoOption('main', mapName, box, main.rect, regions, mainView)];
  const series = [
    textSeries('towns', 0, main.towns.map((t) => ({ name: townLabel(t), value: t.label })), {
      size: px(CLUSTER_SIZE), color: '#bfeaff', weight: 700, border: 3,
    }),
    textSeries('names', 0, main.names.shown, { size: px(NAME_SIZE), color: 'rgba(215, 230, 255, 0.85)' }),
    ...dotSeries('', 0, main.points, main.positions, main.proj),
  ];
  const graphic = [];
  if (inset) {
    const map = insetMap(inset.town.region, inset.town.group);
    geo.push(geoOption('inset', map, inset.box, inset.rect, hoverOnly(inset.names.hidden), userViews.inset));
    series.push(
      textSeries('inset-names', 1, inset.names.shown, { size: px(NAME_SIZE), color: 'rgba(215, 230, 255, 0.9)' }),
      ...dotSeries('inset-', 1, inset.points, inset.positions, inset.proj),
    );
    const f = inset.frame;
    graphic.push({
      id: 'inset-frame',
      type: 'group',
      silent: true,
      z: -10,
      children: [
        {
          type: 'rect',
          z: -10,
          shape: { x: f.x, y: f.y, width: f.w, height: f.h, r: px(4) },
          style: {
            fill: 'rgba(7, 22, 48, 0.72)',
            stroke: 'rgba(53, 208, 255, 0.5)',
            lineWidth: 1,
            shadowColor: 'rgba(53, 208, 255, 0.25)',
            shadowBlur: 12,
          },
        },
        {
          type: 'text',
          z: -9,
          style: {
            x: f.x + pad,
            y: f.y + px(6),
            text: `${inset.town.name} · 放大`,
            fill: '#bfeaff',
            font: `700 ${px(CLUSTER_SIZE - 1)}px ${FONT}`,
          },
        },
      ],
    });
  }
  return {
    tooltip: { ...TOOLTIP, trigger: 'item', formatter: tooltip },
    geo,
    series,
    graphic,
  };
}

// ---------------------------------------------------------------- drawing

function keepUserView(chart, event) {
  const option = chart.getOption();
  const which = event?.geoId === 'inset' ? 'inset' : 'main';
  const index = which === 'inset' ? 1 : 0;
  const geo = option?.geo?.[index];
  if (!geo) return;
  userViews[which] = { center: geo.center, zoom: geo.zoom || 1 };
  clearTimeout(userViewTimer);
  userViewTimer = setTimeout(() => {
    userViews.main = null;
    userViews.inset = null;
    redrawMap();
  }, KEEP_VIEW_MS);
  // Once the viewer stops, the names and dots are placed again for the new scale.
  clearTimeout(roamTimer);
  roamTimer = setTimeout(redrawMap, 400);
}

function draw(points) {
  const el = document.querySelector('[data-panel="map"] .chart');
  drawChart(
    slot,
    el,
    (chart) => {
      const option = mapOption(chart, points);
      if (!option) {
        chart.clear();
        return;
      }
      chart.setOption(option, { notMerge: true });
    },
    { name: 'map', onResize: () => redrawMap() },
  );
  if (slot.chart && !slot.chart.__sspRoam) {
    slot.chart.__sspRoam = true; // a new chart (the first, or one made again after a failure)
    const chart = slot.chart;
    chart.on('georoam', (event) => keepUserView(chart, event));
  }
}

/** Draw the outlines and the points; keeps the points in dashboardState.mapPoints. */
export function renderMap(geojson, reports) {
  const points = [];
  for (const r of reports || []) {
    const p = pointFromReport(r);
    if (p) points.push(p);
  }
  dashboardState.mapPoints = points.slice(0, MAX_POINTS);
  const drawn = registerOutlines(geojson, dashboardState.mapPoints);
  renderLegend(dashboardState.mapPoints);
  markPanel('map', !drawn);
  if (drawn) draw(dashboardState.mapPoints);
  else slot.chart?.clear();
}

/** A case changed (live): add its point or move/recolour it, and redraw the points. */
export function upsertPoint(point) {
  if (!point || !mapName) return;
  const list = dashboardState.mapPoints.filter((p) => p.id !== point.id);
  list.unshift(point);
  dashboardState.mapPoints = list.slice(0, MAX_POINTS);
  renderLegend(dashboardState.mapPoints);
  if (!hasOutlines) {
    registerOutlines(null, dashboardState.mapPoints);
  }
  markPanel('map', false);
  draw(dashboardState.mapPoints);
}

/** Draw again what is shown (after a change of scale or size). */
export function redrawMap() {
  if (mapName && slot.chart) draw(dashboardState.mapPoints);
}
