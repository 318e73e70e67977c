// The filters of the title bar: region (the caller's scope and below), period, category.

import { chinaDate, chinaDayStart, isoChina, last30Days, periodRange } from './time.js';

export const DASHBOARD_ROLES = new Set(['supervisor', 'viewer', 'admin']);

const regionsById = new Map();
const childrenOf = new Map();
const categoriesByCode = new Map();
let scopeRegionIds = [];
let isAdmin = false;
let changeHandler = () => {};

const $ = (id) => document.getElementById(id);

/** Who may use the wall, and over which regions. */
export function scopeOf(me) {
  const roles = Array.isArray(me?.roles) ? me.roles : [];
  const allowed = roles.filter((r) => DASHBOARD_ROLES.has(r.role));
  const admin = allowed.some((r) => r.role === 'admin');
  const regions = [];
  for (const r of allowed) {
    if (r.scope_type === 'region' && r.scope_id && !regions.some((x) => x.id === r.scope_id)) {
      regions.push({ id: r.scope_id, name: r.scope_name || '' });
    }
  }
  let name = '全部地区';
  if (!admin) name = regions.map((r) => r.name).filter(Boolean).join('、') || '—';
  return { allowed: allowed.length > 0 && (admin || regions.length > 0), admin, regions, name };
}

function indent(depth) {
  return depth > 0 ? `${'\u3000'.repeat(depth - 1)}└ ` : '';
}

function option(value, text, depth = 0) {
  const el = document.createElement('option');
  el.value = value;
  el.textContent = indent(depth) + text;
  if (depth === 0) el.className = 'opt-top';
  return el;
}

/** Every region id at or under `id`. */
export function subtree(id) {
  const out = new Set();
  const stack = [id];
  while (stack.length) {
    const current = stack.pop();
    if (out.has(current)) continue;
    out.add(current);
    for (const child of childrenOf.get(current) || []) stack.push(child);
  }
  return out;
}

function buildRegions(regions, scope) {
  regionsById.clear();
  childrenOf.clear();
  for (const r of regions) regionsById.set(r.id, r);
  for (const r of regions) {
    if (r.parent_id && regionsById.has(r.parent_id)) {
      if (!childrenOf.has(r.parent_id)) childrenOf.set(r.parent_id, []);
      childrenOf.get(r.parent_id).push(r.id);
    }
  }
  const select = $('filter-region');
  select.replaceChildren();
  let roots;
  if (scope.admin) {
    roots = regions.filter((r) => !r.parent_id || !regionsById.has(r.parent_id)).map((r) => r.id);
    select.append(option('', '全部地区'));
  } else {
    // A scope region inside another scope region is already listed under it.
    const ids = scope.regions.map((r) => r.id);
    roots = ids.filter((id) => !ids.some((other) => other !== id && subtree(other).has(id)));
    if (roots.length > 1) select.append(option('', '全部辖区'));
  }
  scopeRegionIds = scope.regions.map((r) => r.id);
  const walk = (id, depth) => {
    const region = regionsById.get(id);
    const fallback = scope.regions.find((r) => r.id === id);
    select.append(option(id, region?.name || fallback?.name || id, depth));
    for (const child of childrenOf.get(id) || []) walk(child, depth + 1);
  };
  for (const id of roots) walk(id, 0);
}

function buildCategories(categories) {
  categoriesByCode.clear();
  for (const c of categories) categoriesByCode.set(c.code, c);
  const order = (a, b) => (a.sort_order ?? 0) - (b.sort_order ?? 0) || a.name.localeCompare(b.name, 'zh-CN');
  const select = $('filter-category');
  select.replaceChildren(option('', '全部类别'));
  const tops = categories.filter((c) => !c.parent_code || !categoriesByCode.has(c.parent_code));
  const walk = (c, depth) => {
    select.append(option(c.code, c.name, depth));
    categories.filter((x) => x.parent_code === c.code).sort(order).forEach((x) => walk(x, depth + 1));
  };
  tops.sort(order).forEach((c) => walk(c, 0));
}

function showCustom() {
  const custom = $('filter-period').value === 'custom';
  for (const id of ['filter-from', 'filter-to']) $(id).hidden = !custom;
  $('filter-custom').hidden = !custom;
  if (custom) {
    const today = chinaDate();
    $('filter-from').max = today;
    $('filter-to').max = today;
    if (!$('filter-from').value) $('filter-from').value = chinaDate(chinaDayStart()).slice(0, 8) + '01';
    if (!$('filter-to').value) $('filter-to').value = today;
  }
}

/** Fill the filters for this caller; `initial` may carry region_id, period, category, from, to. */
export function initFilters({ regions, categories, scope, initial = {}, onChange }) {
  isAdmin = scope.admin;
  buildRegions(regions, scope);
  buildCategories(categories);
  changeHandler = onChange;

  const region = $('filter-region');
  const wanted = initial.region_id;
  const values = [...region.options].map((o) => o.value);
  if (wanted !== undefined && wanted !== null && values.includes(wanted)) region.value = wanted;
  else if (scopeRegionIds.length && values.includes(scopeRegionIds[0])) region.value = scopeRegionIds[0];
  else region.value = values[0] ?? '';

  const period = $('filter-period');
  period.value = ['today', 'week', 'month', 'custom'].includes(initial.period) ? initial.period : 'month';
  if (initial.from) $('filter-from').value = initial.from;
  if (initial.to) $('filter-to').value = initial.to;

  const category = $('filter-category');
  if (initial.category && categoriesByCode.has(initial.category)) category.value = initial.category;
  else category.value = '';

  showCustom();
}

let listening = false;
export function listenFilters() {
  if (listening) return;
  listening = true;
  const fire = () => changeHandler();
  $('filter-region').addEventListener('change', fire);
  $('filter-category').addEventListener('change', fire);
  $('filter-period').addEventListener('change', () => {
    showCustom();
    fire();
  });
  for (const id of ['filter-from', 'filter-to']) {
    $(id).addEventListener('change', () => {
      if ($(id).value) fire();
    });
  }
}

export function regionId() {
  return $('filter-region').value || null;
}

export function categoryCode() {
  return $('filter-category').value || null;
}

/** The place and category, without a period. */
export function placeParams() {
  return { region_id: regionId(), category: categoryCode() };
}

/**
 * The filters of every statistic: region_id, category, from, to (China time, +08:00). A period
 * that runs until now (today, this week, this month) is sent without `to`: the API counts up
 * to its own now, so that a case filed a moment ago is counted whatever this screen's clock
 * says.
 */
export function statsParams(now = Date.now()) {
  const kind = $('filter-period').value;
  const [from, to] = periodRange(kind, $('filter-from').value, $('filter-to').value, now);
  const untilNow = kind !== 'custom' && to === now;
  return { ...placeParams(), from: isoChina(from), to: untilNow ? null : isoChina(to) };
}

/** The last 30 China days, ending today, with the place and category. */
export function seriesRange(now = Date.now()) {
  return last30Days(now);
}

export function periodLabel() {
  const select = $('filter-period');
  if (select.value !== 'custom') return select.options[select.selectedIndex]?.textContent ?? '';
  return `${$('filter-from').value} 至 ${$('filter-to').value}`;
}

/** Whether a case (an event's `report`) falls within the region and category chosen. */
export function matchesFilters(report) {
  if (!report) return false;
  const region = regionId();
  if (region && report.region_id && !subtree(region).has(report.region_id)) return false;
  const category = categoryCode();
  if (category && report.category_code) {
    const code = report.category_code;
    const cat = categoriesByCode.get(code);
    if (code !== category && cat?.parent_code !== category) return false;
  }
  return true;
}

export function regionName(id) {
  return regionsById.get(id)?.name ?? null;
}

export function categoryName(code) {
  return categoriesByCode.get(code)?.name ?? code;
}

export function adminScope() {
  return isAdmin;
}
