// Where and when a photo was taken, read from the original file's EXIF on the phone: the photo
// sent is re-encoded (smaller, and without any metadata), so these travel as form fields.
// Reads JPEG (the APP1 segment) and HEIC/HEIF (the 'Exif' item); only the few tags needed:
// GPS latitude and longitude (WGS-84), DateTimeOriginal and its OffsetTimeOriginal.

const HEAD_BYTES = 256 * 1024;

/** {lat, lng, taken_at} (each may be null) or null when the file has no readable EXIF. */
export async function readExif(file) {
  try {
    const head = new DataView(await file.slice(0, HEAD_BYTES).arrayBuffer());
    let tiff = null;
    if (head.byteLength > 4 && head.getUint16(0) === 0xffd8) {
      tiff = jpegTiff(head);
    } else if (head.byteLength > 12 && fourcc(head, 4) === 'ftyp') {
      tiff = await heifTiff(file, head);
    }
    return tiff ? readTiff(tiff) : null;
  } catch {
    return null; // a damaged or unusual file: the server reads what it can
  }
}

function fourcc(view, at) {
  return String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );
}

/** The TIFF block of a JPEG's "Exif\0\0" APP1 segment. */
function jpegTiff(view) {
  let at = 2;
  while (at + 4 <= view.byteLength) {
    if (view.getUint8(at) !== 0xff) return null;
    const marker = view.getUint8(at + 1);
    if (marker === 0xd9 || marker === 0xda) return null; // end, or the image data: no EXIF
    const length = view.getUint16(at + 2);
    if (marker === 0xe1 && at + 10 < view.byteLength && fourcc(view, at + 4) === 'Exif') {
      const start = at + 10;
      const end = Math.min(view.byteLength, at + 2 + length);
      return new DataView(view.buffer, view.byteOffset + start, end - start);
    }
    at += 2 + length;
  }
  return null;
}

/** Boxes of an ISO-BMFF container between `from` and `to`: {type, start (of content), end}. */
function boxes(view, from, to) {
  const found = [];
  let at = from;
  while (at + 8 <= to) {
    let size = view.getUint32(at);
    const type = fourcc(view, at + 4);
    let header = 8;
    if (size === 1) {
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < header) break;
    found.push({ type, start: at + header, end: Math.min(to, at + size) });
    at += size;
  }
  return found;
}

function uint(view, at, bytes) {
  if (bytes === 0) return 0;
  if (bytes === 2) return view.getUint16(at);
  if (bytes === 4) return view.getUint32(at);
  if (bytes === 8) return Number(view.getBigUint64(at));
  throw new Error('size');
}

/** The TIFF block of a HEIF file's Exif item (located through the meta box's iinf and iloc). */
async function heifTiff(file, view) {
  const meta = boxes(view, 0, view.byteLength).find((b) => b.type === 'meta');
  if (!meta) return null;
  const inner = boxes(view, meta.start + 4, meta.end); // meta is a full box: skip version
  const iinf = inner.find((b) => b.type === 'iinf');
  const iloc = inner.find((b) => b.type === 'iloc');
  if (!iinf || !iloc) return null;
  const exifId = exifItemId(view, iinf);
  if (exifId === null) return null;
  const place = itemPlace(view, iloc, exifId);
  if (!place) return null;
  const data = new DataView(await file.slice(place.offset, place.offset + place.length).arrayBuffer());
  const skip = 4 + data.getUint32(0); // the item starts with the offset of the TIFF header
  return new DataView(data.buffer, data.byteOffset + skip, data.byteLength - skip);
}

function exifItemId(view, iinf) {
  const version = view.getUint8(iinf.start);
  const first = iinf.start + 4 + (version === 0 ? 2 : 4);
  for (const infe of boxes(view, first, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const v = view.getUint8(infe.start);
    if (v < 2) continue;
    const idBytes = v === 2 ? 2 : 4;
    const id = uint(view, infe.start + 4, idBytes);
    if (fourcc(view, infe.start + 4 + idBytes + 2) === 'Exif') return id;
  }
  return null;
}

function itemPlace(view, iloc, wanted) {
  const version = view.getUint8(iloc.start);
  let at = iloc.start + 4;
  const sizes = view.getUint16(at);
  at += 2;
  const offsetSize = sizes >> 12;
  const lengthSize = (sizes >> 8) & 15;
  const baseSize = (sizes >> 4) & 15;
  const indexSize = version === 1 || version === 2 ? sizes & 15 : 0;
  const idBytes = version < 2 ? 2 : 4;
  const count = uint(view, at, idBytes);
  at += idBytes;
  for (let i = 0; i < count; i += 1) {
    const id = uint(view, at, idBytes);
    at += idBytes;
    if (version === 1 || version === 2) at += 2; // construction method
    at += 2; // data reference index
    const base = uint(view, at, baseSize);
    at += baseSize;
    const extents = view.getUint16(at);
    at += 2;
    for (let e = 0; e < extents; e += 1) {
      at += indexSize;
      const offset = uint(view, at, offsetSize);
      at += offsetSize;
      const length = uint(view, at, lengthSize);
      at += lengthSize;
      if (id === wanted && e === 0) return { offset: base + offset, length };
    }
  }
  return null;
}

// --- TIFF ------------------------------------------------------------------------------------

const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
const DATE_TIME_ORIGINAL = 0x9003;
const OFFSET_TIME_ORIGINAL = 0x9011;
const TYPE_SIZES = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };

/** The entries of the IFD at `at`: {tag: value}, values decoded for the types used here. */
function ifd(tiff, at, little) {
  const entries = {};
  if (at <= 0 || at + 2 > tiff.byteLength) return entries;
  const count = tiff.getUint16(at, little);
  for (let i = 0; i < count; i += 1) {
    const entry = at + 2 + i * 12;
    if (entry + 12 > tiff.byteLength) break;
    const tag = tiff.getUint16(entry, little);
    const type = tiff.getUint16(entry + 2, little);
    const n = tiff.getUint32(entry + 4, little);
    const size = (TYPE_SIZES[type] || 1) * n;
    const where = size <= 4 ? entry + 8 : tiff.getUint32(entry + 8, little);
    if (where + size > tiff.byteLength) continue;
    entries[tag] = value(tiff, type, n, where, little);
  }
  return entries;
}

function value(tiff, type, n, at, little) {
  if (type === 2) {
    let text = '';
    for (let i = 0; i < n; i += 1) {
      const code = tiff.getUint8(at + i);
      if (code === 0) break;
      text += String.fromCharCode(code);
    }
    return text.trim();
  }
  if (type === 5 || type === 10) {
    const numbers = [];
    for (let i = 0; i < n; i += 1) {
      const read = type === 5 ? 'getUint32' : 'getInt32';
      const top = tiff[read](at + i * 8, little);
      const bottom = tiff[read](at + i * 8 + 4, little);
      numbers.push(bottom ? top / bottom : NaN);
    }
    return numbers;
  }
  if (type === 3) return tiff.getUint16(at, little);
  if (type === 4) return tiff.getUint32(at, little);
  return null;
}

function readTiff(tiff) {
  const order = tiff.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return null;
  const little = order === 0x4949;
  const first = ifd(tiff, tiff.getUint32(4, little), little);
  const exif = ifd(tiff, first[EXIF_IFD], little);
  const gps = ifd(tiff, first[GPS_IFD], little);
  const lat = degrees(gps[2], gps[1], 'S', 90);
  const lng = degrees(gps[4], gps[3], 'W', 180);
  // 0,0 is what some phones write when they had no fix.
  const located = lat !== null && lng !== null && !(lat === 0 && lng === 0);
  return {
    lat: located ? lat : null,
    lng: located ? lng : null,
    taken_at: takenAt(exif[DATE_TIME_ORIGINAL], exif[OFFSET_TIME_ORIGINAL]),
  };
}

function degrees(parts, ref, negative, limit) {
  if (!Array.isArray(parts) || parts.length === 0 || parts.some((p) => !Number.isFinite(p))) {
    return null;
  }
  const [d, m = 0, s = 0] = parts;
  let result = d + m / 60 + s / 3600;
  if (typeof ref === 'string' && ref.toUpperCase().startsWith(negative)) result = -result;
  return Math.abs(result) <= limit ? Math.round(result * 1e7) / 1e7 : null;
}

const pad = (n) => String(n).padStart(2, '0');

/**
 * "2022:08:14 14:12:31" with "+03:00" → "2022-08-14T14:12:31+03:00". Without an offset the
 * photo was taken in the phone's own time zone (it is the phone's camera).
 */
export function takenAt(text, offset) {
  const match = /^(\d{4}):(\d\d):(\d\d)[ T](\d\d):(\d\d):(\d\d)/.exec(text || '');
  if (!match) return null;
  const [, y, mo, d, hh, mi, ss] = match.map(Number);
  if (y < 1990 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60) return null;
  let zone = /^[+-]\d\d:\d\d$/.test(offset || '') ? offset : null;
  if (!zone) {
    const minutes = -new Date(y, mo - 1, d, hh, mi, ss).getTimezoneOffset();
    const sign = minutes < 0 ? '-' : '+';
    zone = `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
  }
  return `${y}-${pad(mo)}-${pad(d)}T${pad(hh)}:${pad(mi)}:${pad(ss)}${zone}`;
}
