// A photo from the camera, made ready to send before any byte leaves the phone: its EXIF facts
// read from the original, the image decoded, scaled to at most 2048 px on its long side and
// encoded as JPEG (a 12-megapixel photo of 4–6 MB becomes some 400–800 kB: what a weak 4G
// signal can carry). A format the browser cannot decode (HEIC outside Safari) is sent as it is:
// the server converts it.

import { readExif } from './exif.js';

const LONG_SIDE = 2048;
const QUALITY = 0.85;
const PREVIEW_SIDE = 240;
const PREVIEW_QUALITY = 0.7;

/** An image the browser can draw, upright (EXIF orientation applied), or null. */
async function decode(file) {
  if (typeof createImageBitmap === 'function') {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      // not decodable this way: try an <img>
    }
  }
  const address = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = 'async';
    img.src = address;
    await img.decode();
    return img;
  } catch {
    return null;
  } finally {
    // The decoded image no longer needs its source.
    setTimeout(() => URL.revokeObjectURL(address), 0);
  }
}

function sizeOf(image) {
  return { width: image.naturalWidth || image.width, height: image.naturalHeight || image.height };
}

function draw(image, longSide) {
  const { width, height } = sizeOf(image);
  const scale = Math.min(1, longSide / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext('2d');
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  // JPEG has no transparency: a PNG's transparent parts become white, not black.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas;
}

function encode(canvas, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

function extension(file) {
  const match = /\.([a-z0-9]{2,5})$/i.exec(file.name || '');
  if (match) return match[1].toLowerCase();
  return (file.type.split('/')[1] || 'jpg').replace('jpeg', 'jpg');
}

/**
 * {blob, filename, exif, preview (a small JPEG data: URL, or null)} for the n-th photo.
 * Never throws: what cannot be made smaller is sent as the camera made it.
 */
export async function preparePhoto(file, n) {
  const exif = await readExif(file);
  const image = await decode(file);
  if (!image) {
    return { blob: file, filename: `photo-${n}.${extension(file)}`, exif, preview: null };
  }
  try {
    const full = draw(image, LONG_SIDE);
    const blob = (await encode(full, QUALITY)) || file;
    const preview = draw(image, PREVIEW_SIDE).toDataURL('image/jpeg', PREVIEW_QUALITY);
    const filename = blob === file ? `photo-${n}.${extension(file)}` : `photo-${n}.jpg`;
    return { blob, filename, exif, preview };
  } finally {
    image.close?.();
  }
}
