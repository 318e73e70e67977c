// 完成心愿: a photo of the wish fulfilled, taken or picked, and a note. The photo is made ready
// and uploaded as a report's are (photo.js, uploads.js: scaled on the phone, sent with its own
// Idempotency-Key, tried again on a weak signal) as soon as it is chosen; the completion is
// sent once it is uploaded, and tried again until it gets through (a repeat refused because
// the wish is already fulfilled is the first one's answer lost: done).

import { api } from './api.js';
import { username } from './auth.js';
import { fill, h, toast, uuid } from './dom.js';
import { icon } from './icons.js';
import { preparePhoto } from './photo.js';
import { actPersistently } from './retry.js';
import { closeSheet, openSheet } from './sheet.js';
import { uploadPhoto } from './uploads.js';

const STATES = {
  preparing: '处理中',
  uploading: '上传中',
  waiting: '等待网络',
  done: '已上传',
  failed: '上传失败',
};

let job = null; // the completion being written: {wish, account, photo, note, submitting, message}

const redraw = (current) => current.redraw?.();
const live = (current) => job === current && username() === current.account;

function say(current, text, error = false) {
  Object.assign(current, { message: text, error });
  redraw(current);
}

/** The chosen photo: made ready, then uploaded until it is (or is refused). */
async function choose(current, file) {
  const photo = { state: 'preparing', key: uuid(), preview: null, progress: 0, upload: null, error: '' };
  current.photo = photo;
  say(current, '');
  const ready = await preparePhoto(file, 1);
  if (current.photo !== photo) return;
  Object.assign(photo, { state: 'uploading', preview: ready.preview });
  redraw(current);
  photo.sending = uploadPhoto({
    blob: ready.blob,
    filename: ready.filename,
    exif: ready.exif,
    key: photo.key,
    onProgress: (fraction) => {
      Object.assign(photo, { state: 'uploading', progress: fraction });
      redraw(current);
    },
    onRetry: (attempts, error) => {
      Object.assign(photo, { state: 'waiting', error: error.message });
      redraw(current);
    },
    isCancelled: () => current.photo !== photo || !live(current),
  }).then(
    (upload) => Object.assign(photo, { state: 'done', upload, error: '' }).upload,
    (error) => {
      Object.assign(photo, { state: 'failed', error: error.message });
      return null;
    },
  ).finally(() => redraw(current));
}

function adder(current) {
  const input = (id, extra) => {
    const field = h('input.file-input', { id, type: 'file', accept: 'image/*', ...extra });
    field.addEventListener('change', () => {
      const [file] = field.files;
      field.value = '';
      if (file) choose(current, file);
    });
    return field;
  };
  return h('li.photo-add', null,
    h('label.add-button.camera', null, input('fulfil-camera-input', { capture: 'environment' }),
      icon('camera'), h('span', { text: '拍照' })),
    h('label.add-button.album', null, input('fulfil-album-input', {}), h('span', { text: '相册' })));
}

function tile(current) {
  const li = h('li.photo', null,
    h('img', { alt: '完成照片', decoding: 'async' }),
    h('span.photo-state'),
    h('div.progress', null, h('div.progress-bar')),
    h('button.photo-remove', { type: 'button', 'aria-label': '删除照片',
      onclick: () => {
        current.photo = null;
        say(current, '');
      } }, icon('close')));
  li.photo = current.photo;
  return li;
}

/** The photo's tile as the photo is now (changed in place: the image is not loaded again). */
function paint(li, photo) {
  const img = li.querySelector('img');
  const source = photo.upload?.thumbnail_url || photo.preview;
  if (source && img.getAttribute('src') !== source) img.src = source;
  li.dataset.state = photo.state;
  li.title = photo.error || '';
  const fraction = photo.state === 'done' ? 1 : photo.progress;
  li.querySelector('.progress-bar').style.width = `${Math.round(fraction * 100)}%`;
  const text = photo.state === 'uploading' ? `${Math.round(photo.progress * 100)}%` : STATES[photo.state];
  fill(li.querySelector('.photo-state'), photo.state === 'done' ? icon('check') : text);
}

/** Sends the completion once the photo is uploaded. */
async function send(current, onDone) {
  const { photo } = current;
  if (current.submitting) return;
  if (!photo) return say(current, '请拍一张心愿完成的照片', true);
  if (photo.state === 'failed') return say(current, photo.error || '照片未能上传，请删除后重新拍摄', true);
  current.submitting = true;
  say(current, photo.upload ? '正在提交…' : '照片上传完成后自动提交…');
  const { id } = current.wish;
  try {
    const upload = photo.upload || (await photo.sending);
    if (!upload) throw new Error(photo.error || '照片未能上传，请删除后重新拍摄');
    const body = { photo_id: upload.id };
    if (current.note.trim()) body.note = current.note.trim();
    say(current, '正在提交…');
    await actPersistently(
      ({ signal }) => api(`/wishes/${id}/fulfil`, { method: 'POST', body, signal }),
      async () => {
        const now = await api(`/wishes/${id}`);
        return ['fulfilled', 'confirmed'].includes(now.status) ? now : null;
      },
      { onRetry: (n) => say(current, `网络不稳定，正在重试提交（第 ${n} 次）…`), isCancelled: () => !live(current) },
    );
    if (job === current) job = null;
    if (current.sheet.isOpen()) closeSheet();
    toast('已提交完成，待居民确认');
    onDone();
  } catch (error) {
    current.submitting = false;
    // The upload was refused when claimed (expired, say): the photo is to be taken again.
    if (error.status === 422 && current.photo === photo) current.photo = null;
    say(current, error.message, true);
  }
}

/** The sheet that completes `wish`; onDone() once it is sent. A completion under way (its
 * photo uploading, say) is shown again when the sheet is opened again for the same wish. */
export function openFulfil(wish, onDone) {
  if (!job || job.wish.id !== wish.id || job.account !== username()) {
    job = { wish, account: username(), photo: null, note: '', submitting: false, message: '', error: false };
  }
  const current = job;
  const note = h('textarea', { id: 'fulfil-note', rows: 3, maxLength: 1000, placeholder: '例如：已陪同老人复查，平安到家（选填）' });
  note.value = current.note;
  note.addEventListener('input', () => {
    current.note = note.value;
  });
  const photos = h('ul.photos.fulfil-photos', { id: 'fulfil-photos' });
  const message = h('p.sheet-status', { id: 'fulfil-status', role: 'status' });
  const submit = h('button.primary', { type: 'button', id: 'fulfil-submit', text: '提交完成', onclick: () => send(current, onDone) });
  current.sheet = openSheet('完成心愿',
    h('p.sheet-lead', { text: wish.title }),
    h('div.field', null, h('span.field-title', { text: '完成照片' }), photos),
    h('label.field', null, h('span.field-title', { text: '完成说明' }), note),
    message, submit);
  const sheet = current.sheet;
  current.redraw = () => {
    if (!sheet.isOpen()) return;
    const shown = photos.firstElementChild;
    if (!current.photo) {
      if (!shown?.classList.contains('photo-add')) fill(photos, adder(current));
    } else {
      if (shown?.photo !== current.photo) fill(photos, tile(current));
      paint(photos.firstElementChild, current.photo);
    }
    photos.classList.toggle('submitting', current.submitting);
    message.textContent = current.message;
    message.classList.toggle('error', current.error);
    note.disabled = current.submitting;
    submit.disabled = current.submitting;
    fill(submit, current.submitting ? [h('span.spinner'), '提交中…'] : '提交完成');
  };
  current.redraw();
}
