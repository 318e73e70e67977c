// 我的上报: the courier's own reports, newest first, each with its status and deadline light;
// a tap opens the case: what happened to it so far (its timeline), and a rating once closed.

import { api } from './api.js';
import { $, fill, h, toast } from './dom.js';
import { when } from './format.js';
import { icon } from './icons.js';
import { label } from './labels.js';
import { photoImage } from './photos.js';

const PAGE = 20;
const LIGHT_ORDER = ['green', 'yellow', 'red'];

let items = [];
let cursor = null;
let loading = false;

/** The light of the case's running deadlines: the worst one; null when none runs. */
export function lightOf(report) {
  const running = (report.deadlines || []).filter((d) => !d.met_at && d.light);
  if (!running.length) return null;
  return running.map((d) => d.light).sort((a, b) => LIGHT_ORDER.indexOf(b) - LIGHT_ORDER.indexOf(a))[0];
}

const light = (code) =>
  code ? h('span.light', { dataset: { light: code }, title: label('light', code), 'aria-label': label('light', code) }) : null;

const statusChip = (status) =>
  h('span.status-chip', { dataset: { status }, text: label('report_status', status) });

function card(report) {
  return h('li', null,
    h('a.case', { href: `#/mine/${report.id}`, dataset: { number: report.number, id: report.id } },
      h('div.case-photo', null, photoImage(report.photos?.[0]?.thumbnail_url)),
      h('div.case-body', null,
        h('div.case-top', null, h('strong', { text: report.category?.name || '' }), statusChip(report.status)),
        h('div.case-number', null, light(lightOf(report)), report.number),
        h('div.case-meta', { text: [report.community?.name, when(report.created_at)].filter(Boolean).join(' · ') }),
      ),
    ),
  );
}

function renderList(message = '') {
  const list = $('#mine-list');
  const rows = items.map(card);
  fill(list, rows);
  const foot = $('#mine-foot');
  if (message) fill(foot, h('p.error', { text: message }), h('button.secondary', { type: 'button', onclick: () => loadMine(true), text: '重试' }));
  else if (loading) fill(foot, h('p.muted', null, h('span.spinner'), '加载中…'));
  else if (cursor) fill(foot, h('button.secondary', { type: 'button', onclick: () => loadMine(false), text: '加载更多' }));
  else if (!items.length) fill(foot, h('p.empty', { text: '还没有上报，去随手拍一张吧' }));
  else fill(foot, h('p.muted', { text: '没有更多了' }));
}

/** The first page again (`fromStart`), or the next one. */
export async function loadMine(fromStart = true) {
  if (loading) return;
  loading = true;
  renderList();
  try {
    const page = await api('/reports', {
      params: { mine: 'true', limit: PAGE, cursor: fromStart ? null : cursor },
    });
    items = fromStart ? page.items : [...items, ...page.items];
    cursor = page.next_cursor;
    loading = false;
    renderList();
  } catch (error) {
    loading = false;
    renderList(error.message);
  }
}

// --- one case --------------------------------------------------------------------------------

function eventLabel(type) {
  if (type === 'comment') return '留言';
  if (type.startsWith('job_')) return `单位${label('job_action', type.slice(4))}`;
  const event = label('event_type', `report.${type}`);
  return event === `report.${type}` ? label('report_action', type) : event;
}

function timelineItem(entry) {
  const text = [entry.note, entry.reason].filter(Boolean).join(' · ');
  return h('li.event', null,
    h('div.event-head', null, h('strong', { text: eventLabel(entry.type) }),
      entry.to_status ? statusChip(entry.to_status) : null),
    h('div.event-time', { text: [when(entry.created_at), entry.actor?.display_name].filter(Boolean).join(' · ') }),
    text ? h('p.event-text', { text }) : null,
  );
}

function deadlineRows(report) {
  return (report.deadlines || []).map((d) =>
    h('li.deadline', null, light(d.met_at ? null : d.light),
      h('span', { text: label('deadline_clock', `report_${d.kind}`) }),
      h('span.muted', { text: d.met_at ? `已于 ${when(d.met_at)} 完成` : `${when(d.due_at)} 前` })),
  );
}

function ratingPart(report, onRated) {
  if (report.rating) {
    const comment = report.rating.comment ? `：${report.rating.comment}` : '';
    return h('section.card', null, h('h2', { text: '我的评价' }),
      h('p', { text: `${label('satisfaction', report.rating.satisfaction)}${comment}` }));
  }
  if (report.status !== 'closed') return null;
  let chosen = null;
  const comment = h('textarea', { rows: 2, maxLength: 500, placeholder: '说说处理得怎么样（选填）', id: 'rate-comment' });
  const buttons = ['satisfied', 'basically_satisfied', 'unsatisfied'].map((code) =>
    h('button.choice', { type: 'button', dataset: { satisfaction: code }, text: label('satisfaction', code),
      onclick: (e) => {
        chosen = code;
        for (const b of buttons) b.classList.toggle('chosen', b === e.currentTarget);
      } }));
  const send = h('button.primary', { type: 'button', text: '提交评价', onclick: async () => {
    if (!chosen) return toast('请选择满意程度');
    send.disabled = true;
    try {
      const body = { satisfaction: chosen };
      if (comment.value.trim()) body.comment = comment.value.trim();
      await api(`/reports/${report.id}/rate`, { method: 'POST', body });
      toast('感谢您的评价');
      onRated();
    } catch (error) {
      send.disabled = false;
      toast(error.message);
    }
  } });
  return h('section.card#rate', null, h('h2', { text: '评价处理结果' }), h('div.choices', null, buttons), comment, send);
}

/** The case `id`: its details and timeline. */
export async function showCase(id) {
  const view = $('#case-body');
  fill(view, h('p.muted', null, h('span.spinner'), '加载中…'));
  let report;
  let timeline;
  try {
    [report, timeline] = await Promise.all([api(`/reports/${id}`), api(`/reports/${id}/timeline`)]);
  } catch (error) {
    fill(view, h('p.error', { text: error.message }), h('button.secondary', { type: 'button', text: '重试', onclick: () => showCase(id) }));
    return;
  }
  const events = Array.isArray(timeline) ? timeline : timeline?.items || [];
  fill(view,
    h('section.card.case-head', null,
      h('div.case-top', null, h('strong.case-title', { text: report.category?.name || '' }), statusChip(report.status)),
      h('p.case-number', { id: 'case-number' }, light(lightOf(report)), report.number),
      h('p.case-meta', { text: [report.community?.name, when(report.created_at)].filter(Boolean).join(' · ') }),
      h('p.case-text', { text: report.description }),
      report.address ? h('p.case-meta', null, icon('pin'), report.address) : null,
      report.photos?.length ? h('div.case-photos', null, report.photos.map((p) => photoImage(p.thumbnail_url))) : null,
    ),
    report.deadlines?.length ? h('section.card', null, h('h2', { text: '办理时限' }), h('ul.deadlines', null, deadlineRows(report))) : null,
    ratingPart(report, () => showCase(id)),
    h('section.card', null, h('h2', { text: '办理进度' }), h('ol.timeline#timeline', null, events.map(timelineItem))),
  );
}
