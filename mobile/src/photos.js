// Photos of filed reports in <img>: a signed address (…&signature=…) is loaded as it is; an
// address that needs the bearer token is fetched with it and shown from a blob: URL. Either
// way a photo never changes, so each is fetched once per visit.

import { accessToken } from './auth.js';
import { h } from './dom.js';
import { baseHeaders } from './net.js';

const loaded = new Map(); // address → a promise of what to put in src

function viaToken(address) {
  if (!loaded.has(address)) {
    const token = accessToken();
    loaded.set(
      address,
      fetch(address, { headers: { ...baseHeaders(), Authorization: `Bearer ${token}` }, credentials: 'omit' })
        .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(String(res.status)))))
        .then((blob) => URL.createObjectURL(blob))
        .catch((error) => {
          loaded.delete(address);
          throw error;
        }),
    );
  }
  return loaded.get(address);
}

export function photoImage(address, alt = '现场照片') {
  const img = h('img', { alt, decoding: 'async', loading: 'lazy' });
  if (!address) return img;
  if (/[?&]signature=/.test(address)) img.src = address;
  else {
    viaToken(address).then(
      (src) => {
        img.src = src;
      },
      () => img.classList.add('broken'),
    );
  }
  return img;
}
