// The page: sign-in, the four tabs (随手拍, 我的上报, 微心愿, 我的积分; 积分商城 is reached from
// 我的积分) by the address's #hash (so that the phone's back button works), and the word on
// what is still to be sent.

import { onSignedOut, signIn, signOut, signedIn, username } from './auth.js';
import { $, toast } from './dom.js';
import * as draft from './draft.js';
import { refreshLabels } from './labels.js';
import { loadMine, showCase } from './mine.js';
import { MESSAGES } from './net.js';
import { forgetPoints, showPoints } from './points.js';
import { onPurchase, purchasesPending, resumePurchases } from './redeem.js';
import { renderReport, setUpReport, showFiled, showReport } from './report.js';
import { closeSheet } from './sheet.js';
import { forgetShop, loadRedemptions, showStore } from './shop.js';
import { load } from './store.js';
import { showWishes } from './wishes.js';
import './style.css';
import './programmes.css';

const RETRY_EVERY_MS = 15_000;
const TITLES = {
  signin: '随手拍',
  report: '随手拍',
  filed: '上报成功',
  mine: '我的上报',
  case: '上报详情',
  points: '我的积分',
  store: '积分商城',
  redemptions: '积分商城',
  wishes: '微心愿',
  'my-wishes': '微心愿',
};
// The tab a screen belongs to, and where the back button leads when there is no history.
const TAB_OF = { case: 'mine', filed: 'report', store: 'points', redemptions: 'points', 'my-wishes': 'wishes' };
const PARENT = { case: '#/mine', store: '#/points', redemptions: '#/points' };

let filed = null; // the case just filed, for its page

function showView(name) {
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== `view-${name}`;
  $('#app').dataset.view = name;
  $('#toast').hidden = true; // a message belongs to the screen that raised it
  closeSheet();
  $('#title').textContent = TITLES[name] || '随手拍';
  $('#back').hidden = !PARENT[name];
  $('#tabs').hidden = name === 'signin';
  const tab = TAB_OF[name] || name;
  for (const link of document.querySelectorAll('#tabs a')) {
    link.setAttribute('aria-current', link.dataset.tab === tab ? 'page' : 'false');
  }
  window.scrollTo(0, 0);
  renderNetwork();
}

function route() {
  if (!signedIn()) {
    showView('signin');
    return;
  }
  const [, name = 'report', id = ''] = location.hash.split('/');
  if (name === 'mine' && id) {
    showView('case');
    showCase(decodeURIComponent(id));
  } else if (name === 'mine') {
    showView('mine');
    loadMine(true);
  } else if (name === 'points') {
    showView('points');
    showPoints();
  } else if (name === 'store' && id === 'mine') {
    showView('redemptions');
    loadRedemptions(true);
  } else if (name === 'store') {
    showView('store');
    showStore();
  } else if (name === 'wishes') {
    const view = id === 'mine' ? 'my-wishes' : 'wishes';
    showView(view);
    showWishes(view);
  } else if (name === 'filed') {
    showView('filed');
    showFiled(filed || load(`filed.${username()}`)?.report);
  } else {
    showView('report');
    showReport();
  }
}

/** The line under the title: offline, or what is waiting to be sent. */
function renderNetwork() {
  const banner = $('#banner');
  const online = navigator.onLine !== false;
  const { photos, filing } = draft.pending();
  const parts = [];
  if (photos) parts.push(`${photos} 张照片待上传`);
  if (filing) parts.push('1 份上报待提交');
  const purchases = purchasesPending();
  if (purchases) parts.push(`${purchases} 笔兑换待确认`);
  let text = '';
  if (!online) text = parts.length ? `网络不可用：${parts.join('，')}，联网后自动发送` : '网络不可用，填写的内容会保存在手机上';
  else if (parts.length && $('#app').dataset.view !== 'report') text = `正在后台发送：${parts.join('，')}`;
  banner.textContent = text;
  banner.hidden = !text || $('#app').dataset.view === 'signin';
  banner.classList.toggle('offline', !online);
}

function setUpSignIn() {
  const form = $('#sign-in');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = $('#sign-in-message');
    const name = form.username.value.trim();
    const password = form.password.value;
    if (!name || !password) {
      message.textContent = MESSAGES.missing;
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    message.textContent = '';
    try {
      await signIn(name, password);
      form.password.value = '';
      await started();
    } catch (error) {
      message.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}

async function started() {
  forgetPoints();
  forgetShop();
  await draft.open(username());
  route();
  resumePurchases();
}

function setUp() {
  setUpSignIn();
  setUpReport();
  $('#sign-out').addEventListener('click', () => {
    if (draft.pending().photos || draft.pending().filing) {
      // eslint-disable-next-line no-alert
      if (!window.confirm('还有内容没有发送完，退出后将在下次登录时继续发送。确定退出？')) return;
    }
    signOut();
  });
  $('#back').addEventListener('click', () => {
    if (history.length > 1) history.back();
    else location.hash = PARENT[$('#app').dataset.view] || '#/report';
  });
  onSignedOut((message) => {
    draft.close();
    forgetPoints();
    forgetShop();
    $('#sign-in-message').textContent = message === MESSAGES.signedOut ? '' : message;
    if (message === MESSAGES.signedOut) toast(message);
    route();
  });
  draft.subscribe((event, detail) => {
    if (event === 'filed') {
      filed = detail;
      // Filed in the background while the courier looks at another tab: a toast says it.
      if ($('#app').dataset.view === 'report') location.hash = '#/filed';
      else toast(`上报成功：${detail.number}`);
    }
    renderNetwork();
  });
  onPurchase(() => renderNetwork());
  window.addEventListener('hashchange', route);
  const networkChanged = () => {
    if (navigator.onLine) {
      draft.networkBack();
      resumePurchases();
    } else draft.networkLost();
    if ($('#app').dataset.view === 'report') renderReport();
    renderNetwork();
  };
  window.addEventListener('online', networkChanged);
  window.addEventListener('offline', networkChanged);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') draft.networkBack();
  });
  // Also without an `online` event: a phone may say it is online with no signal at all.
  setInterval(() => draft.pump(), RETRY_EVERY_MS);
}

setUp();
refreshLabels();
if (signedIn()) started();
else route();
