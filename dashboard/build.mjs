// Builds the wall screen into app/dashboard/static/ (served by the app at /dashboard):
//   index.html, assets/app.js, assets/app.css
// Usage: npm run build   (or: node build.mjs --watch)

import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const out = join(here, '..', 'app', 'dashboard', 'static');
const assets = join(out, 'assets');
const watch = process.argv.includes('--watch');

const options = {
  entryPoints: { app: join(src, 'main.js') },
  outdir: assets,
  entryNames: '[name]',
  assetNames: '[name]-[hash]',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome100', 'edge100', 'firefox100', 'safari15'],
  minify: !watch,
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};

/** index.html with the assets' addresses versioned by their content (?v=hash). */
async function writeIndex() {
  const html = await readFile(join(src, 'index.html'), 'utf8');
  const version = async (name) => {
    const body = await readFile(join(assets, name));
    return createHash('sha256').update(body).digest('hex').slice(0, 12);
  };
  const js = await version('app.js');
  const css = await version('app.css');
  const page = html
    .replace('/dashboard/assets/app.js"', `/dashboard/assets/app.js?v=${js}"`)
    .replace('/dashboard/assets/app.css"', `/dashboard/assets/app.css?v=${css}"`);
  await writeFile(join(out, 'index.html'), page);
}

async function report(metafile) {
  const lines = [];
  for (const [file, info] of Object.entries(metafile.outputs)) {
    lines.push(`  ${relative(join(here, '..'), file)}  ${(info.bytes / 1024).toFixed(1)} KiB`);
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
          build.onEnd(async (result) => {
            if (result.errors.length) return;
            await writeIndex();
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
  await writeIndex();
  await report(result.metafile);
}
