// A small map drawn from the communities' outlines (GET /communities/outlines, GeoJSON in
// WGS-84): no online tiles, no map library. The point is marked; a tap on the map moves it.
// Which community the point falls in is found here too (the server routes the report itself:
// this only tells the courier).

import { svg } from './dom.js';

const WIDTH = 360;
const HEIGHT = 180;
// Around a point outside every outline, or before a community is known: about 2 km across.
const DEFAULT_SPAN_DEG = 0.02;
const METRES_PER_DEG = 111_320;

/** The polygons of a feature: [[outer ring, …holes], …], each ring [[lng, lat], …]. */
function polygons(feature) {
  const geometry = feature?.geometry;
  if (geometry?.type === 'Polygon') return [geometry.coordinates];
  if (geometry?.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

function insideRing(ring, lng, lat) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > lat !== yj > lat && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The outline feature the point falls in, or null. */
export function communityAt(outlines, lat, lng) {
  for (const feature of outlines?.features || []) {
    for (const [outer, ...holes] of polygons(feature)) {
      if (insideRing(outer, lng, lat) && !holes.some((hole) => insideRing(hole, lng, lat))) {
        return feature;
      }
    }
  }
  return null;
}

function bounds(features) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const feature of features) {
    for (const polygon of polygons(feature)) {
      for (const [lng, lat] of polygon[0] || []) {
        box[0] = Math.min(box[0], lng);
        box[1] = Math.min(box[1], lat);
        box[2] = Math.max(box[2], lng);
        box[3] = Math.max(box[3], lat);
      }
    }
  }
  return Number.isFinite(box[0]) ? box : null;
}

/** The part of the world shown: the point's community with a margin, else around the point. */
function view(outlines, point, community) {
  let box = community ? bounds([community]) : null;
  if (!box && point) {
    const half = DEFAULT_SPAN_DEG / 2;
    box = [point.lng - half, point.lat - half, point.lng + half, point.lat + half];
  }
  if (!box) box = bounds(outlines?.features || []) || [107.1, 40.8, 107.2, 40.9];
  const [west, south, east, north] = box;
  const lat0 = (south + north) / 2;
  const lng0 = (west + east) / 2;
  const cos = Math.cos((lat0 * Math.PI) / 180);
  // Degrees of longitude are shorter than of latitude away from the equator.
  const width = Math.max((east - west) * cos, 0.002);
  const height = Math.max(north - south, 0.002);
  const scale = Math.min(WIDTH / width, HEIGHT / height) / 1.35;
  return {
    scale,
    project: (lng, lat) => [WIDTH / 2 + (lng - lng0) * cos * scale, HEIGHT / 2 - (lat - lat0) * scale],
    unproject: (x, y) => ({
      lng: lng0 + (x - WIDTH / 2) / (cos * scale),
      lat: lat0 - (y - HEIGHT / 2) / scale,
    }),
  };
}

function pathOf(feature, project) {
  let d = '';
  for (const polygon of polygons(feature)) {
    for (const ring of polygon) {
      ring.forEach(([lng, lat], i) => {
        const [x, y] = project(lng, lat);
        d += `${i ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
      });
      d += 'Z';
    }
  }
  return d;
}

function labelAt(feature, project) {
  const box = bounds([feature]);
  if (!box) return null;
  const [x, y] = project((box[0] + box[2]) / 2, (box[1] + box[3]) / 2);
  if (x < 20 || x > WIDTH - 20 || y < 10 || y > HEIGHT - 6) return null;
  const text = svg('text', { x: x.toFixed(1), y: y.toFixed(1), class: 'map-label' });
  text.textContent = feature.properties?.name || '';
  return text;
}

/**
 * Draws the map into `host` (an element): outlines, the point's community highlighted, the
 * point with its accuracy circle. onPick({lat, lng}) when the user taps a place.
 */
export function drawMap(host, { outlines, point, accuracy, onPick }) {
  const community = point ? communityAt(outlines, point.lat, point.lng) : null;
  const { project, unproject, scale } = view(outlines, point, community);
  const map = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'map',
    role: 'img',
    'aria-label': community ? `地图：${community.properties?.name}` : '地图',
  });
  map.append(svg('rect', { x: 0, y: 0, width: WIDTH, height: HEIGHT, class: 'map-ground' }));
  const labels = [];
  for (const feature of outlines?.features || []) {
    const mine = feature === community;
    map.append(svg('path', { d: pathOf(feature, project), class: mine ? 'map-area mine' : 'map-area' }));
    const label = labelAt(feature, project);
    if (label) labels.push(label);
  }
  labels.forEach((label) => map.append(label));
  if (point) {
    const [x, y] = project(point.lng, point.lat);
    const radius = accuracy ? Math.min(60, (accuracy / METRES_PER_DEG) * scale) : 0;
    if (radius > 4) map.append(svg('circle', { cx: x, cy: y, r: radius.toFixed(1), class: 'map-accuracy' }));
    map.append(
      svg('path', {
        class: 'map-pin',
        d: `M${x} ${y}c-2-6-9-11-9-18a9 9 0 1 1 18 0c0 7-7 12-9 18z`,
      }),
    );
    map.append(svg('circle', { cx: x, cy: y - 18, r: 3.5, class: 'map-pin-dot' }));
  }
  if (onPick) {
    map.addEventListener('click', (event) => {
      const rect = map.getBoundingClientRect();
      const x = ((event.clientX - rect.left) / rect.width) * WIDTH;
      const y = ((event.clientY - rect.top) / rect.height) * HEIGHT;
      const place = unproject(x, y);
      onPick({ lat: Math.round(place.lat * 1e6) / 1e6, lng: Math.round(place.lng * 1e6) / 1e6 });
    });
  }
  host.replaceChildren(map);
  return community;
}
