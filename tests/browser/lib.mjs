// lib.mjs — shared set-up of the browser tests (and bench/bench_wall.mjs): a generated city served
// by `gridwatch serve` on a free loopback port, Debian's Chromium through playwright-core, and a
// page of the wall that records console errors.  Not a test file itself (node --test runs
// *.test.mjs only).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../..');
const require = createRequire(join(root, 'web/package.json'));
export const { chromium } = require('playwright-core');

export const BIN = resolve(process.env.GW_BIN || join(root, 'build/gridwatch'));
export const CHROMIUM = process.env.GW_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(here, 'artifacts');
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// routes other engineers are still building: a 404 from them is reported in the page, not an error
const OPTIONAL = /\/(analysis|dispatch|events)(\/|\?|$)/;

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}

// A city served by gridwatch: generated at `scale` into a temporary directory, or the given `db`
// (used as is: the caller owns it); `token` is an API token of `role`.  Returns { base, token, db,
// browser, openPage, stop }.
export async function startCity({ scale = 0.02, db = null, browser: launch = true, threads = null, role = 'dispatcher' } = {}) {
  const env = { srvLog: '' };
  if (!db) {
    env.tmp = mkdtempSync(join(tmpdir(), 'gw-browser-'));
    db = join(env.tmp, 'city.db');
    execFileSync(BIN, ['gen-city', db, '--scale', String(scale)], { stdio: 'pipe' });
  }
  env.db = db;
  env.token = execFileSync(BIN, ['token', 'create', db, '--role', role, '--name', 'browser-test'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/).pop();
  const port = await freePort();
  env.base = `http://127.0.0.1:${port}`;
  // GW_SERVE_CMD=demo: `gridwatch demo DB --port P` (the installed package's test), else serve
  const args = process.env.GW_SERVE_CMD === 'demo'
    ? ['demo', db, '--port', String(port)]
    : ['serve', db, '--port', String(port), '--anonymous-read', '--quiet'];
  if (threads) args.push('--threads', String(threads));
  env.srv = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  env.srv.stderr.on('data', (d) => { env.srvLog += d; });
  await waitHealthy(env, 60000);
  if (launch) env.browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  env.openPage = (opts, query) => openPage(env, opts, query);
  env.stop = () => stop(env);
  return env;
}

async function waitHealthy(env, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { if ((await fetch(env.base + '/healthz')).ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gridwatch serve did not become healthy at ${env.base} within ${ms} ms; log:\n${env.srvLog}`);
}

async function stop(env) {
  await env.browser?.close();
  if (env.srv && env.srv.exitCode === null) {
    env.srv.kill('SIGTERM');
    await new Promise((r) => { env.srv.once('exit', r); setTimeout(r, 3000); });
  }
  if (env.tmp) rmSync(env.tmp, { recursive: true, force: true });
  // a sanitizer build reports on stderr (the server runs with --quiet: nothing else goes there but errors)
  if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(env.srvLog)) throw new Error(`gridwatch serve: sanitizer report:\n${env.srvLog.slice(0, 4000)}`);
}

// A page of the wall (`query` is appended to /wall/) that records console errors and uncaught
// exceptions (resource errors of the optional routes excepted, and of URLs matching `opts.allow`,
// a RegExp, when a test provokes refusals).  `opts.route` = [[pattern, handler], …] is installed
// before the page loads (e.g. to override /wall/config.json); `opts.before(page)` is called before
// it loads (e.g. to listen to its requests).
export async function openPage(env, opts = {}, query = '') {
  const { route, allow, before, ...ctxOpts } = opts;
  const ctx = await env.browser.newContext({ viewport: { width: 1600, height: 900 }, locale: 'en-US', ...ctxOpts });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (/Failed to load resource/.test(m.text()) && (OPTIONAL.test(url) || allow?.test(url))) return;
    page.errors.push(`${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => page.errors.push(`uncaught: ${e.message}`));
  for (const [pattern, handler] of route || []) await page.route(pattern, handler);
  before?.(page);
  await page.goto(env.base + (query ? `/wall/${query}` : '/'), { waitUntil: 'load' });
  await page.evaluate(() => window.gw.ready);
  await settle(page);
  return page;
}

export async function settle(page, timeout = 30000) {
  await page.waitForFunction(() => { const m = window.gw.map; return m.loaded() && m.areTilesLoaded() && !m.isMoving(); }, null, { timeout });
  await page.waitForTimeout(300);
}

export function rendered(page, layers) {
  return page.evaluate((ls) => Object.fromEntries(ls.map((l) => [l, window.gw.map.queryRenderedFeatures({ layers: [l] }).length])), layers);
}

export async function jumpTo(page, center, zoom) {
  await page.evaluate(([c, z]) => window.gw.map.jumpTo({ center: c, zoom: z }), [center, zoom]);
  await settle(page);
}

export async function firstPoint(base, layer) {
  const r = await fetch(`${base}/collections/${layer}/items?limit=1`);
  return (await r.json()).features[0].geometry.coordinates;
}

// The RGB of pixel (x, y) of the page as drawn (a screenshot of a 1-pixel clip, decoded here:
// 8-bit RGB or RGBA, not interlaced, as Chromium writes them).  Pixel tests see what the viewer
// sees, which queryRenderedFeatures cannot say for the page's own WebGL layers.
export async function pixelAt(page, x, y) {
  const png = await page.screenshot({ clip: { x: Math.round(x), y: Math.round(y), width: 1, height: 1 } });
  return decodePng(png).pixel(0, 0);
}

export function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let off = 8, width = 0, height = 0, depth = 0, type = 0, interlace = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), kind = buf.toString('latin1', off + 4, off + 8), data = buf.subarray(off + 8, off + 8 + len);
    if (kind === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); depth = data[8]; type = data[9]; interlace = data[12]; }
    else if (kind === 'IDAT') idat.push(data);
    else if (kind === 'IEND') break;
    off += 12 + len;
  }
  const bpp = { 2: 3, 6: 4 }[type];
  if (depth !== 8 || !bpp || interlace) throw new Error(`PNG kind not read here (depth ${depth}, colour type ${type}, interlace ${interlace})`);
  const raw = inflateSync(Buffer.concat(idat)), stride = width * bpp, px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), o = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? px[o + i - bpp] : 0, b = y ? px[o - stride + i] : 0, c = y && i >= bpp ? px[o - stride + i - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      px[o + i] = (line[i] + pred) & 255;
    }
  }
  return { width, height, pixel: (x, y) => [...px.subarray(y * stride + x * bpp, y * stride + x * bpp + 3)] };
}
