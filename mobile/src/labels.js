// What to call the API's codes (GET /labels, no sign-in needed): statuses, actions, lights,
// ratings, points rules, purchases and wishes. Kept on the phone for the next visit; a few
// built in for the first visit without a network.

import { send } from './net.js';
import { load, save } from './store.js';

const BUILT_IN = {
  report_status: {
    submitted: '待受理',
    accepted: '已立案',
    in_progress: '处置中',
    dispatched: '已吹哨',
    on_hold: '挂账',
    resolved: '待核查',
    closed: '已结案',
    rejected: '不予立案',
    duplicate: '重复',
  },
  satisfaction: { satisfied: '满意', basically_satisfied: '基本满意', unsatisfied: '不满意' },
  light: { green: '绿灯（正常）', yellow: '黄灯（临期）', red: '红灯（超期）' },
  category_kind: { component: '部件', event: '事件' },
  points_rule: {
    accepted: '上报被受理',
    closed_bonus: '结案奖励',
    self_resolved: '随手清',
    wish_fulfilled: '圆梦微心愿',
    redeemed: '积分兑换',
    redemption_refunded: '兑换取消退回',
    account_closed: '账号注销清零',
  },
  redemption_status: { pending: '待领取', handed_over: '已领取', cancelled: '已取消' },
  wish_status: {
    submitted: '待审核',
    published: '待认领',
    declined: '未通过',
    claimed: '已认领',
    fulfilled: '待确认',
    confirmed: '已圆梦',
    withdrawn: '已撤回',
  },
};

let vocabularies = load('labels', null) || BUILT_IN;

/** The label of `code` in `vocabulary`, else the code itself. */
export function label(vocabulary, code) {
  if (code === null || code === undefined) return '';
  return vocabularies[vocabulary]?.[code] ?? BUILT_IN[vocabulary]?.[code] ?? String(code);
}

export async function refreshLabels() {
  try {
    const res = await send('/api/v1/labels?lang=zh-CN');
    if (!res.ok) return;
    const body = await res.json();
    if (body?.vocabularies) {
      vocabularies = body.vocabularies;
      save('labels', vocabularies);
    }
  } catch {
    // offline: the labels kept last time do
  }
}
