// The category picker: a sheet over the form, the classes with their icons, each with its
// categories as buttons; the last few used come first (a courier reports the same things).

import { h } from './dom.js';
import { icon } from './icons.js';
import { label } from './labels.js';
import { classesOf } from './refdata.js';
import { closeSheet, openSheet } from './sheet.js';
import { load, save } from './store.js';

const RECENT = 'recent-categories';
const RECENT_COUNT = 4;
// Events (rubbish, parking, stalls) are what couriers meet most; then the public components.
const KIND_ORDER = ['event', 'component'];

/** {leaf, top} for a leaf's code, or null. */
export function findCategory(list, code) {
  for (const top of classesOf(list)) {
    const leaf = top.leaves.find((c) => c.code === code);
    if (leaf) return { leaf, top };
  }
  return null;
}

function leafButton(leaf, top, choose) {
  return h(
    'button.chip',
    { type: 'button', dataset: { code: leaf.code }, onclick: () => choose(leaf.code) },
    leaf.name,
    top ? h('span.chip-note', { text: top.name }) : null,
  );
}

/** Opens the sheet; onChoose(code) with the chosen leaf. */
export function openPicker(list, current, onChoose) {
  const choose = (code) => {
    const recent = [code, ...load(RECENT, []).filter((c) => c !== code)].slice(0, RECENT_COUNT);
    save(RECENT, recent);
    closeSheet();
    onChoose(code);
  };
  const classes = classesOf(list);
  const recent = load(RECENT, [])
    .map((code) => findCategory(list, code))
    .filter(Boolean);
  const sections = [];
  if (recent.length) {
    sections.push(
      h('section.pick-group', null, h('h3', { text: '最近使用' }),
        h('div.chips', null, recent.map(({ leaf, top }) => leafButton(leaf, top, choose)))),
    );
  }
  for (const kind of [...KIND_ORDER, null]) {
    for (const top of classes.filter((c) => (kind ? c.kind === kind : !KIND_ORDER.includes(c.kind)))) {
      sections.push(
        h('section.pick-group', { dataset: { class: top.code } },
          h('h3', null, icon(top.code, 'class-icon'), top.name,
            h('span.kind', { text: label('category_kind', top.kind) })),
          h('div.chips', null, top.leaves.map((leaf) => leafButton(leaf, null, choose)))),
      );
    }
  }
  const { body } = openSheet('选择问题类型',
    sections.length ? sections : h('p.empty', { text: '问题类型尚未载入，请联网后重试' }));
  for (const button of body.querySelectorAll(`[data-code="${CSS.escape(current || '')}"]`)) {
    button.classList.add('chosen');
  }
}
