// Lists and tables on the wall show whole rows only: their box is cut to the height of the rows
// that fit in the room their panel leaves them, never half a row at the bottom.

const watched = new WeakMap(); // box → its ResizeObserver

function room(box) {
  const panel = box.parentElement;
  if (!panel) return 0;
  const style = getComputedStyle(panel);
  const bottom =
    panel.getBoundingClientRect().bottom -
    (parseFloat(style.paddingBottom) || 0) -
    (parseFloat(style.borderBottomWidth) || 0);
  return bottom - box.getBoundingClientRect().top;
}

/**
 * Cut `box` (a flex child of its panel, clipping or scrolling its rows) to its header, if any,
 * and the whole rows that fit below it. Rows further down stay out of sight (a table's may be
 * scrolled to, a row at a time).
 */
export function fitRows(box, rowSelector, headSelector = null) {
  if (!box) return;
  const rows = box.querySelectorAll(rowSelector);
  const space = room(box);
  if (!rows.length || space <= 0) {
    box.style.maxHeight = '';
    return;
  }
  const head = headSelector ? box.querySelector(headSelector) : null;
  let height = head ? head.getBoundingClientRect().height : 0;
  if (head) box.style.scrollPaddingTop = `${height.toFixed(2)}px`; // below the sticky header
  let shown = 0;
  for (const row of rows) {
    const h = row.getBoundingClientRect().height;
    if (height + h > space + 0.5) break;
    height += h;
    shown += 1;
  }
  box.style.maxHeight = shown === rows.length ? '' : `${height.toFixed(2)}px`;
  box.dataset.rowsShown = String(shown);
}

/** Keep `box` fitted when its panel changes size (the window, the wall's scale, fonts). */
export function keepFitted(box, rowSelector, headSelector = null) {
  if (!box) return;
  fitRows(box, rowSelector, headSelector);
  if (watched.has(box)) return;
  let frame = 0;
  const observer = new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => fitRows(box, rowSelector, headSelector));
  });
  observer.observe(box.parentElement);
  watched.set(box, observer);
  document.fonts?.ready?.then(() => fitRows(box, rowSelector, headSelector));
}
