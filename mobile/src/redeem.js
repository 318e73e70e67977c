// Buying a reward (积分兑换) and cancelling a purchase, on a weak signal.
//
// A purchase's Idempotency-Key is kept on the phone, per account and reward, from the moment
// the courier confirms it until the server has answered it: a purchase whose answer was lost
// is sent again with the same key — also after the page was closed, at the next visit — and
// the server answers it with the first purchase instead of buying a second one.

import { api } from './api.js';
import { username } from './auth.js';
import { uuid } from './dom.js';
import { actPersistently, persistently } from './retry.js';
import { load, save } from './store.js';

// The server keeps a key for a week: a purchase older than this is not sent again.
const KEEP_MS = 6 * 24 * 3600_000;

const sending = new Map(); // `${account}/${reward id}` → the purchase's promise
const listeners = new Set();

/** fn(event, detail): 'change' (a purchase began or ended: what waits changed), and for the
 * purchases sent again in the background (resumePurchases) 'bought' {redemption, name} or
 * 'refused' {error, name}. */
export function onPurchase(fn) {
  listeners.add(fn);
}

const storeName = (account) => `purchases.${account}`;

function kept(account) {
  const all = load(storeName(account), {}) || {};
  const fresh = Object.entries(all).filter(([, entry]) => Date.now() - entry.at < KEEP_MS);
  return Object.fromEntries(fresh);
}

function keep(account, rewardId, entry) {
  const all = kept(account);
  if (entry) all[rewardId] = entry;
  else delete all[rewardId];
  save(storeName(account), Object.keys(all).length ? all : null);
  for (const fn of listeners) fn('change', {});
}

/** How many purchases wait for an answer (the network banner says so). */
export const purchasesPending = () => (username() ? Object.keys(kept(username())).length : 0);

/**
 * Buys one of `reward` ({id, name}) for the signed-in courier; answers the redemption (with
 * its `code` and the `balance` left). onRetry(attempts, error) while the network fails; throws
 * the ApiError of a refusal (409 not_enough_points, out_of_stock, …: its message is the
 * problem's Chinese detail).
 */
export function buy(reward, { onRetry } = {}) {
  const account = username();
  const id = `${account}/${reward.id}`;
  if (sending.has(id)) return sending.get(id);
  const entry = kept(account)[reward.id] || { key: uuid(), name: reward.name, at: Date.now() };
  keep(account, reward.id, entry);
  const request = ({ signal }) =>
    api('/redemptions', {
      method: 'POST',
      body: { reward_id: reward.id },
      headers: { 'Idempotency-Key': entry.key },
      signal,
    });
  const purchase = persistently(request, { onRetry, isCancelled: () => username() !== account })
    .then(
      (redemption) => {
        keep(account, reward.id, null);
        return redemption;
      },
      (error) => {
        // Refused as it is: a purchase asked again later is a new one, with a new key. Stopped
        // (signed out) or not allowed yet: the key stays for the next try.
        if (!error.transient && error.kind !== 'unauthorized') keep(account, reward.id, null);
        throw error;
      },
    )
    .finally(() => sending.delete(id));
  sending.set(id, purchase);
  return purchase;
}

/** Purchases confirmed but never answered (the page was closed, the signal lost): sent again,
 * with their keys, in the background. */
export function resumePurchases() {
  const account = username();
  if (!account) return;
  for (const [rewardId, entry] of Object.entries(kept(account))) {
    if (sending.has(`${account}/${rewardId}`)) continue;
    const emit = (event, detail) => {
      for (const fn of listeners) fn(event, { ...detail, name: entry.name });
    };
    buy({ id: rewardId, name: entry.name }).then(
      (redemption) => emit('bought', { redemption }),
      (error) => {
        if (!error.transient && error.kind !== 'unauthorized') emit('refused', { error });
      },
    );
  }
}

/** Cancels a pending purchase: the points and the item go back. A repeat of a cancellation
 * whose answer was lost finds it cancelled. */
export function cancelPurchase(redemption) {
  return actPersistently(
    ({ signal }) => api(`/redemptions/${redemption.id}/cancel`, { method: 'POST', body: {}, signal }),
    async () => {
      const now = await api(`/redemptions/${redemption.id}`);
      return now.status === 'cancelled' ? now : null;
    },
  );
}
