// 随手拍: the report form (photos, place, category, description) and the word that it was filed.

import { $, fill, h, toast } from './dom.js';
import * as draft from './draft.js';
import { coordinates, when } from './format.js';
import { icon } from './icons.js';
import { label } from './labels.js';
import { drawMap } from './map.js';
import { findCategory, openPicker } from './picker.js';
import { categories, outlines } from './refdata.js';

const STALE_PLACE_MS = 10 * 60_000;
const SOURCES = { gps: '手机定位', photo: '照片拍摄位置', map: '地图选点' };
const GEO_ERRORS = {
  1: '没有定位权限：请在浏览器设置中允许定位，或点地图选点',
  2: '暂时无法定位：请到开阔处重试，或点地图选点',
  3: '定位超时：请重试，或点地图选点',
};

let categoryList = [];
let outlineData = null;
let locating = false;
let geoError = '';
const tiles = new Map(); // photo id → its <li>

export function setUpReport() {
  const form = $('#report-form');
  for (const input of [$('#camera-input'), $('#album-input')]) {
    input.addEventListener('change', () => addPhotos(input));
  }
  $('#locate').addEventListener('click', () => locate());
  $('#use-photo-location').addEventListener('click', usePhotoLocation);
  $('#category-button').addEventListener('click', () =>
    openPicker(categoryList, draft.current()?.category_code, (code) => {
      draft.update({ category_code: code, error: null });
    }),
  );
  $('#description').addEventListener('input', (e) => draft.update({ description: e.target.value }));
  $('#address').addEventListener('input', (e) => draft.update({ address: e.target.value }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!draft.requestFiling()) $('#submit-status').scrollIntoView({ block: 'center' });
  });
  $('#new-report').addEventListener('click', () => {
    location.hash = '#/report';
  });
  draft.subscribe((event, detail) => {
    if (event === 'progress') showProgress(detail);
    else if (event === 'change' && isShown()) renderReport();
  });
}

const isShown = () => !$('#view-report').hidden;

/** The form, as the draft has it; the place is looked for when the draft has none. */
export function showReport() {
  categoryList = categories((fresh) => {
    categoryList = fresh;
    if (isShown()) renderCategory(draft.current());
  }) || [];
  outlineData = outlines((fresh) => {
    outlineData = fresh;
    if (isShown()) renderLocation(draft.current());
  });
  renderReport();
  if (!draft.current()?.location && !locating && !geoError) locate();
}

export function renderReport() {
  const d = draft.current();
  renderPhotos(d);
  renderLocation(d);
  renderCategory(d);
  const description = $('#description');
  const address = $('#address');
  // Not while the user types: the caret would jump.
  if (document.activeElement !== description) description.value = d?.description || '';
  if (document.activeElement !== address) address.value = d?.address || '';
  renderSubmit(d);
}

// --- photos ----------------------------------------------------------------------------------

async function addPhotos(input) {
  const files = [...input.files];
  input.value = '';
  if (!files.length) return;
  const left = await draft.addFiles(files);
  if (left > 0) toast(`最多 ${draft.MAX_PHOTOS} 张照片，有 ${left} 张未添加`);
}

const STATES = {
  preparing: '处理中',
  waiting: '等待上传',
  uploading: '上传中',
  done: '已上传',
  failed: '失败，点按重试',
  expired: '已过期',
};

function tileFor(photo) {
  let li = tiles.get(photo.id);
  if (!li) {
    const img = h('img', { alt: '现场照片', decoding: 'async' });
    // A signed address that has expired since: the preview made on the phone stands in.
    img.addEventListener('error', () => {
      const preview = draft.current()?.photos.find((p) => p.id === photo.id)?.preview;
      if (preview && img.src !== preview) {
        img.dataset.broken = 'true';
        img.src = preview;
      }
    });
    li = h('li.photo', { dataset: { id: photo.id } },
      img,
      h('span.photo-state'),
      h('div.progress', null, h('div.progress-bar')),
      h('button.photo-remove', { type: 'button', 'aria-label': '删除照片', onclick: () => remove(photo.id) },
        icon('close')),
    );
    li.addEventListener('click', (event) => {
      if (!event.target.closest('.photo-remove')) explain(photo.id);
    });
    tiles.set(photo.id, li);
  }
  return li;
}

function remove(id) {
  if (draft.current()?.submitting) return;
  draft.removePhoto(id);
}

function explain(id) {
  const photo = draft.current()?.photos.find((p) => p.id === id);
  if (photo?.state === 'failed') {
    toast(photo.error || '上传失败');
    draft.retryPhoto(id);
  } else if (photo?.state === 'expired') {
    toast(photo.error);
  }
}

function updateTile(li, photo, online) {
  const img = li.querySelector('img');
  const source = photo.upload?.thumbnail_url || photo.preview;
  // A thumbnail that failed to load while offline is asked again once the network is back.
  const retry = img.dataset.broken === 'true' && online;
  if (source && (img.dataset.source !== source || retry)) {
    delete img.dataset.broken;
    img.dataset.source = source;
    img.src = source;
  }
  li.dataset.state = photo.state;
  li.dataset.uploaded = photo.upload?.id ? 'true' : 'false';
  let text = STATES[photo.state] || '';
  if (photo.state === 'waiting' && (!online || photo.attempts > 0)) text = online ? '重试中' : '等待网络';
  const state = li.querySelector('.photo-state');
  fill(state, photo.state === 'done' ? icon('check') : text);
  state.title = photo.error || '';
  showProgress(photo);
}

function showProgress(photo) {
  const bar = tiles.get(photo.id)?.querySelector('.progress-bar');
  if (!bar) return;
  const fraction = photo.state === 'done' ? 1 : photo.state === 'uploading' ? photo.progress : 0;
  bar.style.width = `${Math.round(fraction * 100)}%`;
  if (photo.state === 'uploading') {
    tiles.get(photo.id).querySelector('.photo-state').textContent = `${Math.round(fraction * 100)}%`;
  }
}

function renderPhotos(d) {
  const photos = d?.photos || [];
  const online = navigator.onLine !== false;
  const list = $('#photos');
  const wanted = photos.map((photo) => {
    const li = tileFor(photo);
    updateTile(li, photo, online);
    return li;
  });
  for (const id of [...tiles.keys()]) if (!photos.some((p) => p.id === id)) tiles.delete(id);
  const adder = $('#photo-add');
  adder.hidden = photos.length >= draft.MAX_PHOTOS || Boolean(d?.submitting);
  list.replaceChildren(...wanted, adder);
  $('#photo-count').textContent = `${photos.length}/${draft.MAX_PHOTOS}`;
  $('#use-photo-location').disabled = !photoPlace(d);
}

// --- the place -------------------------------------------------------------------------------

function photoPlace(d) {
  const photo = (d?.photos || []).find((p) => Number.isFinite(p.exif?.lat) && Number.isFinite(p.exif?.lng));
  return photo ? { lat: photo.exif.lat, lng: photo.exif.lng } : null;
}

function locate() {
  if (!navigator.geolocation) {
    geoError = '这台手机不支持定位，请点地图选点';
    renderLocation(draft.current());
    return;
  }
  locating = true;
  geoError = '';
  renderLocation(draft.current());
  navigator.geolocation.getCurrentPosition(
    (position) => {
      locating = false;
      const { latitude, longitude, accuracy } = position.coords;
      setPlace({ lat: latitude, lng: longitude, accuracy: Math.round(accuracy), source: 'gps' });
    },
    (error) => {
      locating = false;
      geoError = GEO_ERRORS[error.code] || GEO_ERRORS[2];
      renderLocation(draft.current());
    },
    { enableHighAccuracy: true, timeout: 20_000, maximumAge: 30_000 },
  );
}

function setPlace(place) {
  if (draft.current()?.submitting) return;
  geoError = '';
  draft.update({ location: { ...place, at: Date.now() }, error: null });
}

function usePhotoLocation() {
  const place = photoPlace(draft.current());
  if (place) setPlace({ ...place, accuracy: null, source: 'photo' });
}

let drawn = '';
let drawnOutlines = null;

function renderLocation(d) {
  const place = d?.location || null;
  // Drawn again only when something it shows changed (not at every key the user types).
  const shown = JSON.stringify([place, locating, geoError, Boolean(outlineData)]);
  if (shown === drawn && outlineData === drawnOutlines) return;
  drawn = shown;
  drawnOutlines = outlineData;
  const community = drawMap($('#map'), {
    outlines: outlineData,
    point: place,
    accuracy: place?.accuracy,
    onPick: (point) => setPlace({ ...point, accuracy: null, source: 'map' }),
  });
  const name = community?.properties?.name || '';
  $('#community-name').textContent = name;
  const text = $('#location-text');
  text.classList.toggle('error', Boolean(geoError) && !place);
  if (locating) text.textContent = '正在定位…';
  else if (geoError && !place) text.textContent = geoError;
  else if (!place) text.textContent = '尚未定位';
  else {
    const accuracy = place.accuracy ? ` · 精度约 ${place.accuracy} 米` : '';
    // A place kept in the draft from a while ago may no longer be where the courier stands.
    const old = place.at && Date.now() - place.at > STALE_PLACE_MS ? ` · ${when(place.at)} 定位` : '';
    const where = name ? '' : (outlineData ? ' · 不在已知社区内，将由系统分派' : '');
    text.textContent = `${SOURCES[place.source] || ''} · ${coordinates(place)}${accuracy}${old}${where}`;
  }
  $('#locate').disabled = locating;
}

// --- category, filing ------------------------------------------------------------------------

function renderCategory(d) {
  const found = d?.category_code ? findCategory(categoryList, d.category_code) : null;
  const button = $('#category-button');
  button.dataset.code = d?.category_code || '';
  fill(
    button,
    icon(found?.top.code || 'generic', 'class-icon'),
    h('span.picker-text', null,
      found ? found.leaf.name : d?.category_code || '请选择问题类型',
      found ? h('small', { text: found.top.name }) : null),
    icon('chevron', 'picker-arrow'),
  );
  button.classList.toggle('placeholder', !d?.category_code);
}

function filingText(d) {
  const waiting = d.photos.filter((p) => p.state !== 'done').length;
  if (navigator.onLine === false) return '网络不可用：已保存，联网后自动提交';
  if (waiting) return `照片上传完成后自动提交（还有 ${waiting} 张）`;
  if (d.submit_attempts > 0) return `网络不稳定，正在重试提交（第 ${d.submit_attempts} 次）…`;
  return '正在提交…';
}

function renderSubmit(d) {
  const status = $('#submit-status');
  const submitting = Boolean(d?.submitting);
  $('#report-form').classList.toggle('submitting', submitting);
  for (const field of $('#report-form').querySelectorAll('textarea, input:not([type=file])')) {
    field.disabled = submitting;
  }
  $('#category-button').disabled = submitting;
  $('#submit').disabled = submitting;
  const offline = navigator.onLine === false;
  $('#submit').textContent = submitting ? (offline ? '等待网络…' : '提交中…') : '提交上报';
  status.className = 'submit-status';
  if (submitting) {
    status.classList.add('pending');
    fill(status, h('span.spinner'), h('span', { text: filingText(d) }),
      h('button.link', { type: 'button', onclick: () => draft.cancelFiling(), text: '修改' }));
  } else if (d?.error) {
    status.classList.add('error');
    fill(status, h('span', { role: 'alert', text: d.error }));
  } else {
    status.replaceChildren();
  }
  status.hidden = !status.hasChildNodes();
}

/** The word that the report was filed: its case number, where it went. */
export function showFiled(report) {
  const view = $('#filed-details');
  if (!report) {
    location.hash = '#/report';
    return;
  }
  const duplicates = report.possible_duplicates?.length || 0;
  fill(
    view,
    h('p.filed-number', { id: 'filed-number', text: report.number }),
    h('p.filed-meta', null,
      h('span.status-chip', { dataset: { status: report.status }, text: label('report_status', report.status) }),
      report.community?.name ? ` ${report.community.name}` : ''),
    report.category?.name ? h('p.filed-meta', { text: report.category.name }) : null,
    duplicates ? h('p.notice', { text: `附近已有 ${duplicates} 件类似上报，社区会一并核实处理` }) : null,
  );
  $('#filed-mine').href = `#/mine/${report.id}`;
}
