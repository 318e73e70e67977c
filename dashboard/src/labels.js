// Chinese labels of the codes the API uses. GET /api/v1/labels (no sign-in) is the source of
// truth; these are the fallbacks used until it answers, or when it cannot.

export const EVENT_LABELS = {
  // The types the service sends (report.<action>, job.<action>).
  'report.submitted': '新上报',
  'report.accept': '立案',
  'report.reject': '不予受理',
  'report.mark_duplicate': '标记重复',
  'report.transfer': '转办',
  'report.start': '社区自办',
  'report.whistle': '吹哨派遣',
  'report.resolve': '办结',
  'report.lead_completed': '主办单位办结',
  'report.all_declined': '全部退单',
  'report.verify_pass': '核查通过',
  'report.verify_fail': '核查不通过',
  'report.reopen': '重新打开',
  'report.escalate': '上报督办',
  'report.hold': '挂账',
  'report.resume': '恢复办理',
  'report.rate': '评价',
  'report.overdue': '超期',
  'report.supervision_raised': '升级督办',
  'report.deadlines_recomputed': '时限重算',
  'job.dispatched': '派单',
  'job.accept': '单位接单',
  'job.decline': '单位退单',
  'job.cancel': '撤回派单',
  'job.progress': '进展反馈',
  'job.complete': '单位办结',
  'job.extension_request': '申请延期',
  'job.extension_grant': '同意延期',
  'job.extension_refuse': '驳回延期',
  'job.rework': '返工',
  'job.overdue': '单位超期',
  // Past-tense spellings, should a producer use them.
  'report.accepted': '立案',
  'report.dispatched': '派遣',
  'report.resolved': '办结',
  'report.closed': '结案',
  'report.rejected': '不予受理',
  'job.accepted': '单位接单',
  'job.completed': '单位办结',
  'job.declined': '单位退单',
};

export const STATUS_LABELS = {
  submitted: '待受理',
  accepted: '已立案',
  in_progress: '处置中',
  dispatched: '已吹哨',
  on_hold: '挂账',
  resolved: '待核查',
  closed: '已结案',
  rejected: '不予立案',
  duplicate: '重复',
};

export const LIGHT_LABELS = { green: '正常', yellow: '临期', red: '超期' };

/** What a ticker line's colour means: the family of an event type. */
export function eventTone(type) {
  if (/overdue|supervision|escalate|verify_fail|rework|all_declined|decline/.test(type)) return 'bad';
  if (/submitted/.test(type)) return 'new';
  if (/verify_pass|closed|complete|resolve|rate/.test(type)) return 'good';
  return 'info';
}

export function eventLabel(type) {
  return EVENT_LABELS[type] ?? type;
}

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? status;
}

/** Merge the service's own vocabularies (GET /api/v1/labels?lang=zh-CN); best effort. */
export async function loadServerLabels() {
  try {
    const res = await fetch('/api/v1/labels?lang=zh-CN', {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
    });
    if (!res.ok) return;
    const body = await res.json();
    const vocab = body?.vocabularies ?? body;
    const events = vocab?.event_type;
    if (events && typeof events === 'object') {
      for (const [code, label] of Object.entries(events)) {
        // Keep the wall's short words for the main steps; take the rest from the service.
        if (!(code in EVENT_LABELS) && typeof label === 'string') EVENT_LABELS[code] = label;
      }
    }
    const statuses = vocab?.report_status;
    if (statuses && typeof statuses === 'object') {
      for (const [code, label] of Object.entries(statuses)) {
        if (typeof label === 'string') STATUS_LABELS[code] = label;
      }
    }
  } catch {
    // The fallbacks above are enough.
  }
}
