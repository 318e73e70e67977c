// 积分商城: the shelves the courier may buy from (the communities they are checked in with,
// their courier company), the balance on top; a purchase confirmed in the sheet, its code then
// shown big, to be read out at the shop. 我的兑换: the courier's purchases, with the code of
// those waiting to be collected and their cancellation.

import { api } from './api.js';
import { $, fill, h, toast } from './dom.js';
import { when } from './format.js';
import { icon } from './icons.js';
import { label } from './labels.js';
import { photoImage } from './photos.js';
import { buy, cancelPurchase, onPurchase } from './redeem.js';
import { closeSheet, confirmSheet, openSheet } from './sheet.js';

const PAGE = 50;

let balance = null;
let rewards = [];
let bought = { items: [], cursor: null, loading: false };

const loading = () => h('p.muted.loading', null, h('span.spinner'), '加载中…');
const retryButton = (again) => h('button.secondary', { type: 'button', text: '重试', onclick: () => again() });
const isShown = (view) => $('#app').dataset.view === view;

/** The two parts of the store, switched in place (no step in the back button's history). */
function segments(current) {
  const parts = [['store', '#/store', '商品'], ['redemptions', '#/store/mine', '我的兑换']];
  return h('div.segmented.part-switch', { role: 'tablist', 'aria-label': '积分商城' },
    parts.map(([view, hash, text]) =>
      h('button', { type: 'button', role: 'tab', 'aria-selected': String(view === current),
        dataset: { part: view }, text, onclick: () => location.replace(hash) })));
}

// --- the shelves -----------------------------------------------------------------------------

/** Why `reward` cannot be bought now, in words; null when it can. */
function refusal(reward) {
  if (reward.stock <= 0) return '已兑完';
  if (!reward.on_shelf) {
    const from = Date.parse(reward.available_from || '');
    return from > Date.now() ? `${when(reward.available_from)} 起可兑换` : '暂不可兑换';
  }
  if (reward.monthly_limit && (reward.bought_this_month || 0) >= reward.monthly_limit) return '本月已兑满';
  if (balance !== null && balance < reward.points_price) return `积分不足，还差 ${reward.points_price - balance}`;
  return null;
}

const shopOf = (item) => item.community?.name || item.company?.name || '';

function rewardMeta(reward) {
  const parts = [reward.stock > 0 ? `库存 ${reward.stock}` : '已兑完'];
  if (reward.monthly_limit) parts.push(`每月限兑 ${reward.monthly_limit} 件 · 本月已兑 ${reward.bought_this_month || 0}`);
  return parts.map((text) => h('span', { text }));
}

function rewardCard(reward) {
  const why = refusal(reward);
  return h('li.reward.card', { dataset: { id: reward.id, name: reward.name, onShelf: String(reward.on_shelf) } },
    h('div.reward-photo', null, reward.picture ? photoImage(reward.picture.thumbnail_url, reward.name) : icon('gift')),
    h('div.reward-body', null,
      h('strong.reward-name', { text: reward.name }),
      reward.description ? h('p.reward-text', { text: reward.description }) : null,
      h('p.reward-meta', null, rewardMeta(reward)),
      why ? h('p.reward-why', { text: why }) : null,
      h('div.reward-foot', null,
        h('span.reward-price', null, h('b', { text: String(reward.points_price) }), ' 积分'),
        h('button.primary.redeem', { type: 'button', text: '兑换', disabled: Boolean(why),
          onclick: () => confirmPurchase(reward) }))),
  );
}

function shelves() {
  const groups = new Map();
  for (const reward of [...rewards].sort((a, b) => a.points_price - b.points_price)) {
    const shop = shopOf(reward);
    if (!groups.has(shop)) groups.set(shop, []);
    groups.get(shop).push(reward);
  }
  if (!groups.size) return h('p.empty', { text: '货架上还没有商品：签到社区后可兑换社区的商品' });
  return [...groups].map(([shop, items]) =>
    h('section.shelf', null, h('h2.shelf-name', null, icon('gift'), shop), h('ul.rewards', null, items.map(rewardCard))));
}

function renderStore() {
  fill($('#store-body'),
    segments('store'),
    h('section.card.balance.store-balance', null,
      h('p.balance-label', { text: '我的积分' }),
      h('p.balance-value', { id: 'store-balance', text: balance === null ? '—' : String(balance) }),
      h('p.balance-note', { text: '兑换后凭兑换码到店领取' })),
    shelves());
}

/** Every item of the shelves in sight (a few pages at most: shelves are short). */
async function allRewards() {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 4; page += 1) {
    const answer = await api('/rewards', { params: { limit: 200, cursor } });
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** The shelves and the balance, read again; `quietly`: what shows stays until they come. */
export async function showStore(quietly = false) {
  const view = $('#store-body');
  if (!quietly) fill(view, segments('store'), loading());
  try {
    const [points, items] = await Promise.all([api('/points/me', { params: { limit: 1 } }), allRewards()]);
    balance = points.balance;
    rewards = items;
    if (isShown('store')) renderStore();
  } catch (error) {
    if (!quietly) fill(view, segments('store'), h('p.error', { text: error.message }), retryButton(showStore));
  }
}

// --- a purchase ------------------------------------------------------------------------------

function line(name, value) {
  return h('div.sheet-line', null, h('span', { text: name }), h('strong', { text: value }));
}

function confirmPurchase(reward) {
  const left = balance - reward.points_price;
  const status = h('p.sheet-status', { id: 'redeem-status' });
  const sheet = confirmSheet({
    title: '确认兑换',
    lines: [
      h('p.sheet-lead', { text: reward.name }),
      line('所需积分', `${reward.points_price} 积分`),
      line('当前积分', `${balance} 积分`),
      line('兑换后剩余', `${left} 积分`),
      h('p.hint', { text: `凭兑换码到${shopOf(reward)}领取；领取前可取消，积分退回` }),
      status,
    ],
    yes: '确认兑换',
    onYes: async () => {
      status.replaceChildren(h('span.spinner'), '兑换中…');
      try {
        const redemption = await buy(reward, {
          onRetry: (n) => fill(status, h('span.spinner'), `网络不稳定，正在重试（第 ${n} 次）…`),
        });
        balance = redemption.balance ?? balance;
        if (sheet.isOpen()) showCode(redemption, reward);
        else toast(`兑换成功：${reward.name}，兑换码 ${redemption.code}`, 6000);
        showStore(true);
      } catch (error) {
        status.replaceChildren();
        if (!error.transient) showStore(true); // the shelf changed: show it as it is now
        throw error;
      }
    },
  });
  sheet.body.querySelector('.sheet-yes').id = 'redeem-confirm';
}

/** The purchase made: its code, big, to be read out at the shop. */
function showCode(redemption, reward) {
  const { body } = openSheet('兑换成功',
    h('div.redeemed', null,
      h('div.filed-mark', { 'aria-hidden': 'true' }, icon('check')),
      h('p.sheet-lead', { text: redemption.reward?.name || reward.name }),
      h('p.code-label', { text: '兑换码' }),
      h('p.code', { id: 'redemption-code', text: redemption.code }),
      h('p.code-hint', { text: `到店出示兑换码 · ${shopOf(redemption) || shopOf(reward)}` }),
      h('p.muted', null, '剩余积分 ', h('strong', { id: 'redeem-balance', text: String(redemption.balance ?? balance) }))),
    h('div.sheet-actions', null,
      h('button.secondary', { type: 'button', id: 'redeem-more', text: '继续兑换', onclick: closeSheet }),
      h('button.primary', { type: 'button', id: 'redeem-mine', text: '查看我的兑换',
        onclick: () => {
          closeSheet();
          location.replace('#/store/mine');
        } })));
  body.scrollTop = 0;
}

// --- 我的兑换 ---------------------------------------------------------------------------------

function redemptionCard(item) {
  const pending = item.status === 'pending';
  const facts = [shopOf(item), when(item.created_at), `${item.points} 积分`].filter(Boolean).join(' · ');
  let outcome = null;
  if (item.status === 'handed_over') outcome = `已于 ${when(item.handed_over_at)} 领取`;
  if (item.status === 'cancelled') {
    outcome = `已于 ${when(item.cancelled_at)} 取消，积分已退回${item.cancel_reason ? `（${item.cancel_reason}）` : ''}`;
  }
  return h('li.redemption.card', { dataset: { id: item.id, status: item.status, code: item.code } },
    h('div.case-top', null, h('strong', { text: item.reward?.name || '' }),
      h('span.status-chip', { dataset: { status: item.status }, text: label('redemption_status', item.status) })),
    h('p.case-meta', { text: facts }),
    pending ? h('div.code-box', null,
      h('span.code-label', { text: '兑换码' }),
      h('span.code.small', { text: item.code }),
      h('span.code-hint', { text: '到店出示兑换码' })) : null,
    outcome ? h('p.redemption-outcome', { text: outcome }) : null,
    pending ? h('button.link.cancel', { type: 'button', text: '取消兑换', onclick: () => confirmCancel(item) }) : null,
  );
}

function renderRedemptions(message = '') {
  const rows = bought.items.map(redemptionCard);
  let foot = null;
  if (message) foot = [h('p.error', { text: message }), retryButton(() => loadRedemptions(true))];
  else if (bought.loading) foot = loading();
  else if (bought.cursor) foot = h('button.secondary', { type: 'button', text: '加载更多', onclick: () => loadRedemptions(false) });
  else if (!rows.length) foot = h('p.empty', { text: '还没有兑换：去商品里看看吧' });
  fill($('#redemptions-body'), segments('redemptions'), h('ul.redemptions', null, rows), h('div.foot', null, foot));
}

/** The courier's purchases, newest first: the first page again (`fromStart`), or the next. */
export async function loadRedemptions(fromStart = true) {
  if (bought.loading) return;
  bought.loading = true;
  if (fromStart) bought.items = [];
  renderRedemptions();
  try {
    const page = await api('/redemptions', {
      params: { mine: 'true', limit: PAGE, cursor: fromStart ? null : bought.cursor },
    });
    bought = { items: [...bought.items, ...page.items], cursor: page.next_cursor, loading: false };
    if (isShown('redemptions')) renderRedemptions();
  } catch (error) {
    bought.loading = false;
    if (isShown('redemptions')) renderRedemptions(error.message);
  }
}

function confirmCancel(item) {
  confirmSheet({
    title: '取消兑换',
    lines: [
      h('p.sheet-lead', { text: item.reward?.name || '' }),
      h('p', { text: `取消后 ${item.points} 积分退回账户，商品放回货架。` }),
    ],
    no: '再想想',
    yes: '确认取消',
    onYes: async () => {
      await cancelPurchase(item);
      toast(`已取消兑换，${item.points} 积分已退回`);
      loadRedemptions(true);
    },
  });
}

/** Forgets what was read (another account signs in). */
export function forgetShop() {
  balance = null;
  rewards = [];
  bought = { items: [], cursor: null, loading: false };
}

// Purchases sent again in the background (after the page was closed mid-purchase).
onPurchase((event, { redemption, error, name }) => {
  if (event === 'change') return;
  if (event === 'bought') toast(`兑换成功：${name}，兑换码 ${redemption.code}`, 6000);
  else toast(`兑换未成功：${error.message}`, 6000);
  if (isShown('store')) showStore(true);
  if (isShown('redemptions')) loadRedemptions(true);
});
