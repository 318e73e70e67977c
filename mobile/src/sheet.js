// The sheet: a dialog over the page, from the bottom, within a thumb's reach (the category
// picker, a confirmation, the form that completes a wish). One at a time; a tap beside it, on
// 关闭, or another screen shown closes it.

import { $, fill, h } from './dom.js';
import { icon } from './icons.js';

let shown = 0; // which opening the sheet shows (0: none)
let opened = 0;

export function closeSheet() {
  const sheet = $('#sheet');
  shown = 0;
  sheet.hidden = true;
  document.body.classList.remove('sheet-open');
}

/**
 * Opens the sheet with `title` and `children`; answers {body (the scrolling part, to fill
 * again), isOpen () → whether this opening still shows}.
 */
export function openSheet(title, ...children) {
  const sheet = $('#sheet');
  const body = h('div.sheet-scroll', null, children);
  fill(
    sheet,
    h('div.sheet-body', { role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
      h('header.sheet-head', null, h('h2', { text: title }),
        h('button.icon-button.sheet-close', { type: 'button', 'aria-label': '关闭', onclick: closeSheet },
          icon('close'))),
      body),
  );
  sheet.onclick = (event) => {
    if (event.target === sheet) closeSheet();
  };
  sheet.hidden = false;
  document.body.classList.add('sheet-open');
  opened += 1;
  shown = opened;
  const mine = shown;
  return { body, isOpen: () => shown === mine };
}

/** A question in the sheet: onYes() runs when the courier agrees (the sheet stays open while
 * it runs; the message of an error it throws is shown, and a refusal, which asking again
 * would not change, leaves only the way out). */
export function confirmSheet({ title, lines, yes, no = '取消', onYes }) {
  const message = h('p.sheet-message.error', { role: 'alert' });
  const yesButton = h('button.primary.sheet-yes', { type: 'button', text: yes });
  const noButton = h('button.secondary', { type: 'button', text: no, onclick: closeSheet });
  const opening = openSheet(title, h('div.sheet-text', null, lines), message,
    h('div.sheet-actions', null, noButton, yesButton));
  yesButton.addEventListener('click', async () => {
    yesButton.disabled = true;
    message.textContent = '';
    try {
      await onYes();
      if (opening.isOpen()) closeSheet();
    } catch (error) {
      message.textContent = error.message;
      yesButton.disabled = error.kind === 'client';
      if (error.kind === 'client') noButton.textContent = '知道了';
      return;
    }
    yesButton.disabled = false;
  });
  return opening;
}
