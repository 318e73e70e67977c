// 微心愿: the residents' wishes of the communities the courier is checked in with, waiting for a
// volunteer (可认领), and those the courier claimed (我认领的): the resident's contact (a tap
// calls), 完成 with a photo and a note, 放弃; then what the resident made of it.

import { api } from './api.js';
import { $, fill, h, toast } from './dom.js';
import { day, when } from './format.js';
import { openFulfil } from './fulfil.js';
import { icon } from './icons.js';
import { label } from './labels.js';
import { photoImage } from './photos.js';
import { actPersistently } from './retry.js';
import { confirmSheet } from './sheet.js';

// 我认领的: what is still to do first.
const MINE_ORDER = ['claimed', 'fulfilled', 'confirmed'];
const PARTS = [['wishes', '#/wishes', '可认领'], ['my-wishes', '#/wishes/mine', '我认领的']];

const isShown = (view) => $('#app').dataset.view === view;
const bodyOf = (view) => $(`#${view}-body`);

function segments(current) {
  return h('div.segmented.part-switch', { role: 'tablist', 'aria-label': '微心愿' },
    PARTS.map(([view, hash, text]) =>
      h('button', { type: 'button', role: 'tab', 'aria-selected': String(view === current),
        dataset: { part: view }, text, onclick: () => location.replace(hash) })));
}

const chip = (status) =>
  h('span.status-chip', { dataset: { status }, text: label('wish_status', status) });

function head(wish) {
  const facts = [wish.community?.name, wish.needed_by ? `需在 ${day(wish.needed_by)}前` : null];
  return [
    h('div.case-top', null, h('strong.wish-title', { text: wish.title }), chip(wish.status)),
    wish.description ? h('p.wish-text', { text: wish.description }) : null,
    h('p.case-meta', { text: facts.filter(Boolean).join(' · ') }),
    wish.picture ? h('div.wish-photo', null, photoImage(wish.picture.thumbnail_url, '心愿照片')) : null,
  ];
}

function openCard(wish) {
  return h('li.wish.card', { dataset: { id: wish.id, status: wish.status } },
    head(wish),
    wish.actions?.includes('claim')
      ? h('button.primary.claim', { type: 'button', text: '认领', onclick: (e) => claim(wish, e.currentTarget) })
      : null);
}

function contactPart(contact) {
  if (!contact) return null;
  const phone = contact.phone
    ? h('a.contact-phone', { href: `tel:${contact.phone.replace(/[^\d+]/g, '')}` }, icon('phone'), contact.phone)
    : null;
  return h('div.contact', null,
    h('p.contact-line', null, icon('user'), h('span', { text: contact.name || '居民' })),
    phone,
    contact.address ? h('p.contact-line', null, icon('pin'), h('span', { text: contact.address })) : null);
}

function outcomePart(wish) {
  if (wish.status === 'fulfilled') {
    return h('div.wish-outcome', null,
      h('p.wish-state', { text: '已提交完成，待居民确认' }),
      wish.fulfilment_note ? h('p.wish-note', { text: wish.fulfilment_note }) : null,
      wish.fulfilment_picture ? h('div.wish-photo', null, photoImage(wish.fulfilment_picture.thumbnail_url, '完成照片')) : null);
  }
  if (wish.status === 'confirmed') {
    return h('div.wish-outcome.done', null,
      h('p.wish-state', { text: `居民已确认圆梦${wish.confirmed_at ? ` · ${when(wish.confirmed_at)}` : ''}` }),
      wish.thanks_note ? h('p.wish-thanks', null, h('span', { text: '居民致谢：' }), wish.thanks_note) : null);
  }
  return null;
}

function mineCard(wish) {
  const actions = wish.actions || [];
  const open = ['claimed', 'fulfilled'].includes(wish.status);
  return h('li.wish.card', { dataset: { id: wish.id, status: wish.status } },
    head(wish),
    open ? contactPart(wish.contact) : null,
    outcomePart(wish),
    actions.includes('fulfil') || actions.includes('release')
      ? h('div.row', null,
        actions.includes('release') ? h('button.secondary.release', { type: 'button', text: '放弃', onclick: () => release(wish) }) : null,
        actions.includes('fulfil') ? h('button.primary.fulfil', { type: 'button', text: '完成',
          onclick: () => openFulfil(wish, () => showWishes('my-wishes', true)) }) : null)
      : null);
}

function render(view, wishes) {
  const empty = view === 'wishes'
    ? '暂时没有待认领的心愿。签到社区后，这里会出现社区居民的微心愿'
    : '还没有认领心愿：到“可认领”里看看吧';
  const cards = view === 'wishes' ? wishes.map(openCard) : wishes.map(mineCard);
  fill(bodyOf(view), segments(view),
    cards.length ? h('ul.wishes', null, cards) : h('p.empty', { text: empty }));
}

async function listOf(view) {
  const params = view === 'wishes' ? { status: 'published', limit: 100 } : { mine: 'true', limit: 100 };
  const { items } = await api('/wishes', { params });
  if (view === 'wishes') return items;
  const rank = (w) => (MINE_ORDER.includes(w.status) ? MINE_ORDER.indexOf(w.status) : MINE_ORDER.length);
  return [...items].sort((a, b) => rank(a) - rank(b));
}

/** 可认领 (`wishes`) or 我认领的 (`my-wishes`), read again; `quietly`: what shows stays until
 * the list comes. */
export async function showWishes(view, quietly = false) {
  if (!quietly) fill(bodyOf(view), segments(view), h('p.muted.loading', null, h('span.spinner'), '加载中…'));
  try {
    const wishes = await listOf(view);
    if (isShown(view)) render(view, wishes);
  } catch (error) {
    if (isShown(view) && !quietly) {
      fill(bodyOf(view), segments(view), h('p.error', { text: error.message }),
        h('button.secondary', { type: 'button', text: '重试', onclick: () => showWishes(view) }));
    } else if (isShown(view)) toast(error.message);
  }
}

/** Sends a wish's action until it gets through; a repeat refused finds it done (`done(wish)`)
 * or throws. */
function act(wish, action, done) {
  return actPersistently(
    ({ signal }) => api(`/wishes/${wish.id}/${action}`, { method: 'POST', body: {}, signal }),
    async () => {
      const now = await api(`/wishes/${wish.id}`);
      return done(now) ? now : null;
    },
  );
}

async function claim(wish, button) {
  button.disabled = true;
  fill(button, h('span.spinner'), '认领中…');
  try {
    // Claimed by this courier: the contact is shown to the claimant only.
    await act(wish, 'claim', (now) => now.status === 'claimed' && Boolean(now.contact));
    toast('认领成功，请尽快联系居民');
    location.replace('#/wishes/mine');
  } catch (error) {
    toast(error.message);
    showWishes('wishes', true);
  }
}

function release(wish) {
  confirmSheet({
    title: '放弃认领',
    lines: [h('p.sheet-lead', { text: wish.title }),
      h('p', { text: '放弃后心愿回到“可认领”，其他志愿者可以认领。' })],
    no: '再想想',
    yes: '确认放弃',
    onYes: async () => {
      await act(wish, 'release', (now) => now.status !== 'claimed' || !now.contact);
      toast('已放弃认领');
      showWishes('my-wishes', true);
    },
  });
}
