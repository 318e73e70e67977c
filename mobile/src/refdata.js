// The category tree and the communities' outlines: read once per visit, kept on the phone so
// that the form works at once, also without a network.

import { api } from './api.js';
import { load, save } from './store.js';

const cache = new Map();

/** The data kept last time (or null) now, and the server's copy when `onFresh` is called. */
function kept(name, path, onFresh) {
  const stored = load(name);
  if (!cache.has(name)) {
    cache.set(
      name,
      api(path)
        .then((body) => {
          save(name, body);
          return body;
        })
        .catch(() => {
          cache.delete(name); // try again at the next look
          return null;
        }),
    );
  }
  cache.get(name).then((body) => {
    if (body && onFresh) onFresh(body);
  });
  return stored;
}

export const categories = (onFresh) => kept('categories', '/categories', onFresh);
export const outlines = (onFresh) => kept('outlines', '/communities/outlines', onFresh);

/** The classes (top level) with their active leaves, in the tree's order. */
export function classesOf(list) {
  const active = (list || []).filter((c) => c.is_active !== false);
  const order = (a, b) => (a.sort_order ?? 0) - (b.sort_order ?? 0) || a.code.localeCompare(b.code);
  const classes = active.filter((c) => !c.parent_code).sort(order);
  return classes
    .map((top) => ({
      ...top,
      leaves: active.filter((c) => c.parent_code === top.code && c.is_leaf).sort(order),
    }))
    .filter((top) => top.leaves.length > 0);
}
