// 我的积分: the balance, what the caps still allow, the way to 积分商城, the ledger, and the
// month's leaderboards of the courier's company and of the communities they deliver in.

import { api } from './api.js';
import { $, fill, h } from './dom.js';
import { months, when } from './format.js';
import { icon } from './icons.js';
import { label } from './labels.js';

let places = null; // {company: {id, name} | null, communities: [{id, name}]}
let board = { scope: 'company', period: null, community: null };

/** Where the caller belongs: the company of their branch, the communities they checked in with. */
async function findPlaces() {
  const me = await api('/me');
  const branchRole = (me.roles || []).find((r) => r.scope_type === 'branch' && r.scope_id);
  let company = null;
  if (branchRole) {
    const branch = await api(`/courier-branches/${branchRole.scope_id}`).catch(() => null);
    company = branch?.company || null;
  }
  const checkIns = await api('/check-ins', { params: { status: 'approved', limit: 50 } }).catch(() => null);
  const communities = [];
  for (const item of checkIns?.items || []) {
    if (item.status === 'approved' && item.courier?.id === me.id && item.community
      && !communities.some((c) => c.id === item.community.id)) {
      communities.push(item.community);
    }
  }
  return { me, company, communities };
}

function bar(value, cap) {
  const fill_ = h('div.meter-bar');
  fill_.style.width = `${Math.min(100, cap ? (value / cap) * 100 : 0)}%`;
  return h('div.meter', null, fill_);
}

function summary(ledger) {
  return h('section.card.balance', null,
    h('p.balance-label', { text: '积分余额' }),
    h('p.balance-value', { id: 'points-balance', text: String(ledger.balance) }),
    h('div.caps', null,
      h('div', null, h('span', { text: `今日 ${ledger.earned_today} / ${ledger.daily_cap}` }), bar(ledger.earned_today, ledger.daily_cap)),
      h('div', null, h('span', { text: `本月 ${ledger.earned_this_month} / ${ledger.monthly_cap}` }), bar(ledger.earned_this_month, ledger.monthly_cap)),
    ),
  );
}

/** The way to 积分商城, under the balance. */
const storeEntry = () =>
  h('a.card.entry-link', { id: 'store-link', href: '#/store' },
    h('span.entry-icon', null, icon('gift')),
    h('span.entry-text', null, h('strong', { text: '积分商城' }), h('small', { text: '用积分兑换社区和公司的好物' })),
    icon('chevron', 'entry-arrow'));

function ledgerRows(ledger) {
  if (!ledger.items.length) return [h('li.empty', { text: '还没有积分记录：上报被受理后即可获得积分' })];
  return ledger.items.map((entry) =>
    h('li.entry', null,
      h('div', null,
        h('strong', { text: label('points_rule', entry.rule) }),
        h('div.muted', { text: [entry.report?.number, when(entry.created_at)].filter(Boolean).join(' · ') })),
      h('span.entry-points', { dataset: { sign: entry.points < 0 ? '-' : '+' },
        text: `${entry.points > 0 ? '+' : ''}${entry.points}${entry.capped ? '（已达上限）' : ''}` }),
    ),
  );
}

function tabs(options, value, onPick, name) {
  return h('div.segmented', { role: 'tablist', 'aria-label': name },
    options.map(([code, text]) =>
      h('button', { type: 'button', role: 'tab', 'aria-selected': String(code === value),
        dataset: { value: code }, text, onclick: () => onPick(code) })));
}

async function renderBoard() {
  const host = $('#leaderboard');
  const { current, previous } = months();
  board.period = board.period || current;
  const scopes = [];
  if (places.company) scopes.push(['company', places.company.name]);
  for (const c of places.communities) scopes.push([`community:${c.id}`, c.name]);
  if (!scopes.length) scopes.push(['communities', '社区排名']);
  const scopeKey = scopes.some(([k]) => k === board.scope) ? board.scope : scopes[0][0];
  board.scope = scopeKey;
  const pick = (fields) => {
    Object.assign(board, fields);
    renderBoard();
  };
  const controls = [
    tabs(scopes, scopeKey, (scope) => pick({ scope }), '排行范围'),
    tabs([[current, '本月'], [previous, '上月']], board.period, (period) => pick({ period }), '月份'),
  ];
  fill(host, controls, h('p.muted', null, h('span.spinner'), '加载中…'));
  const params = { period: board.period, limit: 20 };
  if (scopeKey === 'company') Object.assign(params, { scope: 'company', id: places.company.id });
  else if (scopeKey.startsWith('community:')) Object.assign(params, { scope: 'community', id: scopeKey.slice(10) });
  else params.scope = 'community';
  try {
    const ranking = await api('/leaderboard', { params });
    const rows = ranking.items.map((item) =>
      h('li.rank', { dataset: { me: String(Boolean(item.is_me)) } },
        h('span.rank-no', { dataset: { rank: String(item.rank) }, text: String(item.rank) }),
        h('span.rank-name', { text: item.is_me ? `${item.name}（我）` : item.name }),
        h('span.rank-points', { text: `${item.points} 分` })));
    fill(host, controls, h('ol.ranking', null, rows.length ? rows : h('li.empty', { text: `${board.period === current ? '本月' : '上月'}还没有人得分` })));
  } catch (error) {
    fill(host, controls, h('p.error', { text: error.message }));
  }
}

export async function showPoints() {
  const view = $('#points-body');
  fill(view, h('p.muted', null, h('span.spinner'), '加载中…'));
  try {
    const [ledger, found] = await Promise.all([api('/points/me', { params: { limit: 50 } }), places ? null : findPlaces()]);
    if (found) places = found;
    $('#me-name').textContent = places.me?.display_name || '';
    fill(view,
      summary(ledger),
      storeEntry(),
      h('section.card', null, h('h2', { text: '积分排行' }), h('div#leaderboard')),
      h('section.card', null, h('h2', { text: '积分明细' }), h('ul.ledger', null, ledgerRows(ledger))),
    );
    renderBoard();
  } catch (error) {
    fill(view, h('p.error', { text: error.message }),
      h('button.secondary', { type: 'button', text: '重试', onclick: showPoints }));
  }
}

/** Forgets whose places were read (another account signs in). */
export function forgetPoints() {
  places = null;
  board = { scope: 'company', period: null, community: null };
}
