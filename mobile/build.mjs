// Builds the couriers' phone page into app/mobile/static/ (served by the app at /m/):
//   index.html, assets/app-<hash>.js, assets/app-<hash>.css
// The hash in each asset's name lets the server tell phones to keep it for a year.
// Usage: npm run build   (or: node build.mjs --watch)

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const out = join(here, '..', 'app', 'mobile', 'static');
const assets = join(out, 'assets');
const watch = process.argv.includes('--watch');

const options = {
  entryPoints: { app: join(src, 'main.js') },
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // What the phones in use run: Android's WebView and Chrome, iOS Safari 15 and later.
  target: ['chrome90', 'safari15', 'firefox100'],
  minify: !watch,
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
};

/** index.html pointing at this build's hashed files. */
async function writeIndex(metafile) {
  const html = await readFile(join(src, 'index.html'), 'utf8');
  const named = {};
  for (const file of Object.keys(metafile.outputs)) {
    const name = basename(file);
    named[name.endsWith('.css') ? 'app.css' : 'app.js'] = name;
  }
  const page = html
    .replace('/m/assets/app.js"', `/m/assets/${named['app.js']}"`)
    .replace('/m/assets/app.css"', `/m/assets/${named['app.css']}"`);
  await writeFile(join(out, 'index.html'), page);
}

async function report(metafile) {
  const lines = [];
  for (const file of Object.keys(metafile.outputs)) {
    const body = await readFile(file);
    const kib = (n) => (n / 1024).toFixed(1);
    lines.push(
      `  ${relative(join(here, '..'), file)}  ${kib(body.length)} KiB, ` +
        `${kib(gzipSync(body, { level: 9 }).length)} KiB gzipped`,
    );
  }
  console.log(`built ${relative(join(here, '..'), out)}/\n${lines.sort().join('\n')}`);
}

await rm(out, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [
      {
        name: 'index',
        setup(build) {
          build.onStart(() => rm(assets, { recursive: true, force: true }));
          build.onEnd(async (result) => {
            if (result.errors.length) return;
            await writeIndex(result.metafile);
            console.log(`rebuilt at ${new Date().toLocaleTimeString()}`);
          });
        },
      },
    ],
  });
  await ctx.watch();
  console.log('watching src/ …');
} else {
  const result = await esbuild.build(options);
  await writeIndex(result.metafile);
  await report(result.metafile);
}
