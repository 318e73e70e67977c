// What the page keeps on the phone: small JSON in localStorage (the session, the draft, the
// reference data) and the photos not yet uploaded in IndexedDB (too big for localStorage), so
// that closing the page loses nothing that was not sent.

const PREFIX = 'ssp.m.';

export function load(name, fallback = null) {
  try {
    const text = localStorage.getItem(PREFIX + name);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** Saves; answers false when the phone refused (storage full or disabled). */
export function save(name, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(PREFIX + name);
    else localStorage.setItem(PREFIX + name, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

// --- photos waiting to be uploaded -----------------------------------------------------------

const DB = 'ssp-mobile';
const BLOBS = 'photos';
let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve) => {
      if (!globalThis.indexedDB) {
        resolve(null);
        return;
      }
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(BLOBS);
      request.onsuccess = () => resolve(request.result);
      // Private mode or a refusal: photos are kept in memory only, for this visit.
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    });
  }
  return opening;
}

async function run(mode, action) {
  const db = await open();
  if (!db) return null;
  return new Promise((resolve) => {
    try {
      const tx = db.transaction(BLOBS, mode);
      const request = action(tx.objectStore(BLOBS));
      tx.oncomplete = () => resolve(request.result ?? null);
      tx.onerror = () => resolve(null);
      tx.onabort = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
}

export const putBlob = (key, blob) => run('readwrite', (s) => s.put(blob, key));
export const getBlob = (key) => run('readonly', (s) => s.get(key));
export const dropBlob = (key) => run('readwrite', (s) => s.delete(key));

/** Removes the photos under `prefix` (one account's) but those named: left behind by a draft
 * that is gone. */
export async function keepOnlyBlobs(prefix, keys) {
  const all = (await run('readonly', (s) => s.getAllKeys())) || [];
  const wanted = new Set(keys);
  const stale = all.filter((k) => String(k).startsWith(prefix) && !wanted.has(k));
  await Promise.all(stale.map((k) => dropBlob(k)));
}
