// labels.test.mjs — labels on the map wall without the Internet (issue 21): the glyph ranges and
// the sprite gridwatch serves, checked against independent references (the PBF decoded by the
// `pbf` package; metrics against fontTools reading the font file; the distance field against
// TinySDF run in Chromium on the same glyph), the wall's style validated by MapLibre's own style
// validator, and the wall drawing Chinese names: placed label features, glyph requests answered
// 200, and pixels that change when the label layers are turned off (none change when the glyphs
// cannot be fetched: the check that fails without glyphs).  Prints the bytes of glyph requests of
// the wall's rotation views with the served glyphs and with a local CJK font
// (localIdeographFontFamily).  Screenshot: BUILD/artifacts/labels/labels.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { root, BIN, ARTIFACTS, CHROMIUM, ARGS, chromium, startCity, settle, jumpTo, decodePng, firstPoint, openPage } from './lib.mjs';

const require = createRequire(join(root, 'web/package.json'));
const { PbfReader } = await import(require.resolve('pbf'));
const { validateStyleMin } = await import(require.resolve('@maplibre/maplibre-gl-style-spec'));

// screenshots beside the build's binary (BUILD/artifacts/labels), or tests/browser/artifacts/labels
// for an installed one
const OUT = BIN.startsWith(root + '/') ? join(dirname(BIN), 'artifacts', 'labels') : join(ARTIFACTS, 'labels');
const FONT_FILE = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
const REGULAR = 'Noto Sans CJK SC Regular';
const LABELS = ['township-labels', 'grid-labels', 'police-room-labels', 'road-labels'];
const HAN = /[\u4e00-\u9fff]/;
let env, base;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  env = await startCity({ scale: 0.02 });
  ({ base } = env);
});

after(async () => { await env?.stop(); });

// glyphs.proto: glyphs { repeated fontstack stacks = 1 }, fontstack { name = 1, range = 2,
// repeated glyph glyphs = 3 }, glyph { id = 1, bitmap = 2, width = 3, height = 4, left = 5 (sint),
// top = 6 (sint), advance = 7 }
function decodeGlyphs(buf) {
  const glyph = (tag, g, p) => {
    if (tag === 1) g.id = p.readVarint();
    else if (tag === 2) g.bitmap = p.readBytes();
    else if (tag === 3) g.width = p.readVarint();
    else if (tag === 4) g.height = p.readVarint();
    else if (tag === 5) g.left = p.readSVarint();
    else if (tag === 6) g.top = p.readSVarint();
    else if (tag === 7) g.advance = p.readVarint();
  };
  const stack = (tag, s, p) => {
    if (tag === 1) s.name = p.readString();
    else if (tag === 2) s.range = p.readString();
    else if (tag === 3) s.glyphs.push(p.readMessage(glyph, {}));
  };
  return new PbfReader(buf).readFields((tag, d, p) => { if (tag === 1) d.stacks.push(p.readMessage(stack, { glyphs: [] })); }, { stacks: [] });
}

async function range(stack, start) {
  const r = await fetch(`${base}/fonts/${encodeURIComponent(stack)}/${start}-${start + 255}.pbf`);
  assert.equal(r.status, 200, `glyph range ${start} of ${stack}`);
  assert.equal(r.headers.get('content-type'), 'application/x-protobuf');
  return decodeGlyphs(new Uint8Array(await r.arrayBuffer()));
}

test('glyph ranges: PBF structure, fallback in a font list, 404 problems for bad ranges and fonts', async () => {
  const d = await range(REGULAR, 0);
  assert.equal(d.stacks.length, 1);
  assert.equal(d.stacks[0].name, REGULAR);
  assert.equal(d.stacks[0].range, '0-255');
  const ids = d.stacks[0].glyphs.map((g) => g.id);
  assert.ok(ids.includes(65) && ids.includes(32), 'A and space are there');
  for (const g of d.stacks[0].glyphs) {
    if (g.width) assert.equal(g.bitmap.length, (g.width + 6) * (g.height + 6), `bitmap of U+${g.id.toString(16)} has the 3 px buffer`);
    else assert.ok(!g.bitmap || g.bitmap.length === 0);
  }
  // a MapLibre font list: the first name served is used
  const cjk = await range(`Open Sans Regular,${REGULAR}`, 0x7e00);
  assert.equal(cjk.stacks[0].name, REGULAR);
  assert.ok(cjk.stacks[0].glyphs.some((g) => g.id === 0x7edc), '网 (U+7F51 is in 7f00; 络 U+7EDC here)');
  for (const [path, why] of [[`/fonts/${encodeURIComponent(REGULAR)}/1-256.pbf`, 'not aligned'],
    [`/fonts/${encodeURIComponent(REGULAR)}/0-511.pbf`, 'not 256 long'], [`/fonts/${encodeURIComponent(REGULAR)}/65536-65791.pbf`, 'beyond the BMP'],
    [`/fonts/${encodeURIComponent(REGULAR)}/0-255.png`, 'not .pbf'], ['/fonts/Arial%20Regular/0-255.pbf', 'font not served']]) {
    const r = await fetch(base + path);
    assert.equal(r.status, 404, `${path}: ${why}`);
    assert.match(r.headers.get('content-type'), /problem\+json|json/);
    assert.equal((await r.json()).status, 404);
  }
  // cached: the second answer is the same bytes, and a conditional request gets a 304
  const a = await fetch(`${base}/fonts/${encodeURIComponent(REGULAR)}/0-255.pbf`);
  const etag = a.headers.get('etag');
  assert.ok(etag);
  assert.equal((await fetch(`${base}/fonts/${encodeURIComponent(REGULAR)}/0-255.pbf`, { headers: { 'If-None-Match': etag } })).status, 304);
});

test('glyph metrics agree with fontTools reading the font file', (t) => {
  const cps = [65, 103, 0x7f51, 0x683c, 0x8b66];
  let ref;
  try {
    ref = JSON.parse(execFileSync('/usr/bin/python3', [join(root, 'tests/peers/font_metrics.py'), FONT_FILE, 'Noto Sans CJK SC', 'Regular', ...cps.map(String)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    if (e.status === 77) { t.skip('python3-fonttools is not installed'); return; }
    throw e;
  }
  return (async () => {
    const asc = Math.ceil(ref.ascender);
    for (const cp of cps) {
      const d = await range(REGULAR, cp & ~255), g = d.stacks[0].glyphs.find((x) => x.id === cp), r = ref.glyphs[cp];
      assert.ok(g && r, `U+${cp.toString(16)} in both`);
      const msg = `U+${cp.toString(16)}: ours ${JSON.stringify({ ...g, bitmap: undefined })} fontTools ${JSON.stringify(r)}`;
      assert.equal(g.advance, Math.round(r.advance), `advance, ${msg}`);
      assert.ok(Math.abs(g.left - Math.floor(r.xmin)) <= 1, `left bearing, ${msg}`);
      assert.ok(Math.abs(g.top + asc - Math.ceil(r.ymax)) <= 1, `top, ${msg}`);
      assert.ok(Math.abs(g.width - (r.xmax - r.xmin)) <= 2 && Math.abs(g.height - (r.ymax - r.ymin)) <= 2, `size, ${msg}`);
    }
  })();
});

test('the distance field matches TinySDF run in Chromium on the same glyph', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${base}/wall/config.json`);
  // the last pair is a control: our 网 against TinySDF's 格 must not agree
  const chars = ['网', '格', '警', 'A', 'g', ['网', '格']], shares = {};
  for (const c of chars) {
    const [ch, other] = Array.isArray(c) ? c : [c, c];
    const cp = ch.codePointAt(0);
    const d = await range(REGULAR, cp & ~255), g = d.stacks[0].glyphs.find((x) => x.id === cp);
    const ts = await page.evaluate(tinySdf, other);
    // the 0.75 contour (value >= 191: coverage above one half) of both, compared at the best
    // shift (the two rasterisers place a glyph on the pixel grid differently, and Chromium's
    // anti-aliasing thins 1-pixel strokes differently): the share of each one's inside pixels
    // that have an inside pixel of the other within one pixel
    const W = g.width + 6, H = g.height + 6;
    const ours = (x, y) => x >= 0 && y >= 0 && x < W && y < H && g.bitmap[y * W + x] >= 191;
    const theirs = (x, y) => x >= 0 && y >= 0 && x < ts.width && y < ts.height && ts.data[y * ts.width + x] >= 191;
    const near = (fn, x, y) => fn(x, y) || fn(x - 1, y) || fn(x + 1, y) || fn(x, y - 1) || fn(x, y + 1);
    let best = 0;
    for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) {
      let a = 0, ab = 0, b = 0, ba = 0;
      for (let y = -4; y < Math.max(H, ts.height) + 4; y++) for (let x = -4; x < Math.max(W, ts.width) + 4; x++) {
        if (ours(x, y)) { a++; ab += near(theirs, x + dx, y + dy); }
        if (theirs(x + dx, y + dy)) { b++; ba += near(ours, x, y); }
      }
      best = Math.max(best, a && b ? Math.min(ab / a, ba / b) : 0);
    }
    if (ch === other) assert.ok(best >= 0.9, `${ch}: share of the contour within 1 px of TinySDF's ${best.toFixed(3)}`);
    else assert.ok(best < 0.9, `control (fails the check above): our ${ch} against TinySDF's ${other} agrees ${best.toFixed(3)}`);
    shares[ch === other ? ch : `${ch}/${other}`] = +best.toFixed(3);
  }
  console.log(`# contour agreement with TinySDF: ${JSON.stringify(shares)}`);
  await page.close();
});

// TinySDF 2 (github.com/mapbox/tiny-sdf, ISC): 24 px, buffer 3, radius 8, cutoff 0.25, run in
// the page (Chromium's canvas rasteriser, not FreeType).
function tinySdf(ch) {
  const size = 24 + 6, INF = 1e20, buffer = 3, radius = 8, cutoff = 0.25;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size * 2;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.font = '24px "Noto Sans CJK SC"';
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'left';
  ctx.fillStyle = 'black';
  const m = ctx.measureText(ch);
  const glyphTop = Math.ceil(m.actualBoundingBoxAscent);
  const glyphWidth = Math.max(0, Math.min(size * 2 - buffer, Math.ceil(m.actualBoundingBoxRight - m.actualBoundingBoxLeft)));
  const glyphHeight = Math.min(size * 2 - buffer, glyphTop + Math.ceil(m.actualBoundingBoxDescent));
  const width = glyphWidth + 2 * buffer, height = glyphHeight + 2 * buffer, len = width * height;
  const data = new Uint8ClampedArray(len), outer = new Float64Array(len).fill(INF), inner = new Float64Array(len);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillText(ch, buffer + m.actualBoundingBoxLeft, buffer + glyphTop);
  const img = ctx.getImageData(buffer, buffer, glyphWidth, glyphHeight);
  for (let y = 0; y < glyphHeight; y++) for (let x = 0; x < glyphWidth; x++) {
    const a = img.data[4 * (y * glyphWidth + x) + 3] / 255;
    if (a === 0) continue;
    const j = (y + buffer) * width + x + buffer;
    if (a === 1) { outer[j] = 0; inner[j] = INF; } else { const d = 0.5 - a; outer[j] = d > 0 ? d * d : 0; inner[j] = d < 0 ? d * d : 0; }
  }
  const side = Math.max(width, height), f = new Float64Array(side), v = new Uint16Array(side), z = new Float64Array(side + 1);
  const edt1d = (grid, offset, stride, length) => {
    v[0] = 0; z[0] = -INF; z[1] = INF; f[0] = grid[offset];
    for (let q = 1, k = 0, s = 0; q < length; q++) {
      f[q] = grid[offset + q * stride];
      const q2 = q * q;
      do { const r = v[k]; s = (f[q] - f[r] + q2 - r * r) / (q - r) / 2; } while (s <= z[k] && --k > -1);
      k++; v[k] = q; z[k] = s; z[k + 1] = INF;
    }
    for (let q = 0, k = 0; q < length; q++) {
      while (z[k + 1] < q) k++;
      const r = v[k], qr = q - r;
      grid[offset + q * stride] = f[r] + qr * qr;
    }
  };
  const edt = (grid, x0, y0, w, h) => {
    for (let x = x0; x < x0 + w; x++) edt1d(grid, y0 * width + x, width, h);
    for (let y = y0; y < y0 + h; y++) edt1d(grid, y * width + x0, 1, w);
  };
  edt(outer, 0, 0, width, height);
  edt(inner, buffer, buffer, glyphWidth, glyphHeight);
  for (let i = 0; i < len; i++) {
    const d = Math.sqrt(outer[i]) - Math.sqrt(inner[i]);
    data[i] = Math.round(255 - 255 * (d / radius + cutoff));
  }
  return { width, height, data: [...data] };
}

test('the sprite: four files, the icons the wall uses, 2x twice the size', async () => {
  const idx1 = await (await fetch(`${base}/sprite.json`)).json();
  const idx2 = await (await fetch(`${base}/sprite@2x.json`)).json();
  for (const icon of ['police-room', 'camera', 'patrol-team', 'command-center', 'incident']) {
    assert.ok(idx1[icon] && idx2[icon], `${icon} in the sprite`);
    assert.equal(idx2[icon].width, 2 * idx1[icon].width);
    assert.equal(idx2[icon].pixelRatio, 2);
  }
  for (const [f, idx] of [['sprite.png', idx1], ['sprite@2x.png', idx2]]) {
    const r = await fetch(`${base}/${f}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    const png = decodePng(Buffer.from(await r.arrayBuffer()));
    const right = Math.max(...Object.values(idx).map((e) => e.x + e.width));
    assert.ok(png.width >= right, `${f} holds every icon`);
  }
});

// The bytes of /fonts/ requests the page made (resource timing: the transfer size, compressed),
// and their statuses as the browser saw them.
function glyphLog(page) {
  const log = { statuses: [] };
  page.on('response', (r) => { if (r.url().includes('/fonts/')) log.statuses.push([r.url(), r.status()]); });
  log.bytes = () => page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/fonts/'))
    .reduce((a, e) => ({ n: a.n + 1, transfer: a.transfer + e.transferSize, body: a.body + e.decodedBodySize }), { n: 0, transfer: 0, body: 0 }));
  return log;
}

// The wall's rotation (web/config.json views): the city extent, the centre at z11, a street at
// z15 with pitch 40, then a police room close in (its name and icon).
async function tour(page) {
  const c = await page.evaluate(() => window.gw.map.getCenter().toArray());
  await jumpTo(page, c, 11);
  await page.evaluate(() => window.gw.map.jumpTo({ zoom: 15, pitch: 40 }));
  await settle(page);
  await page.evaluate(() => window.gw.map.jumpTo({ pitch: 0 }));
}

// Wait (up to 15 s) until each of the layers has a placed label: placement follows the tiles and
// their glyph ranges by a few frames.
async function placed(page, layers) {
  try {
    await page.waitForFunction((ls) => ls.every((l) => window.gw.map.queryRenderedFeatures({ layers: [l] }).length > 0), layers, { timeout: 15000, polling: 200 });
  } catch { /* the assertions that follow say what is missing */ }
}

async function labelCount(page) {
  return page.evaluate((ls) => {
    const fs = window.gw.map.queryRenderedFeatures({ layers: ls });
    const by = {};
    for (const f of fs) (by[f.layer.id] ||= []).push(f.properties.township && f.layer.id === 'township-labels' ? f.properties.township : f.properties.name);
    return by;
  }, LABELS);
}

// The sampled pixels (every second one, as "x,y") that the label layers alone draw: every other
// layer is hidden (what loads late or moves would otherwise show in the difference), then the
// page is shot with the labels shown and hidden; the visibilities are restored after.
async function labelPixels(page, name = null) {
  const shot = async (suffix) => decodePng(await page.screenshot(name ? { path: join(OUT, `${name}-${suffix}.png`) } : {}));
  const setVis = (vis) => page.evaluate((v) => { for (const [l, x] of Object.entries(v)) window.gw.map.setLayoutProperty(l, 'visibility', x); }, vis);
  const before = await page.evaluate((ls) => Object.fromEntries(window.gw.map.getStyle().layers.filter((l) => l.id !== 'background')
    .map((l) => [l.id, ls.includes(l.id) ? 'visible' : (l.layout?.visibility || 'visible')])), LABELS);
  await setVis(Object.fromEntries(Object.keys(before).map((l) => [l, LABELS.includes(l) ? 'visible' : 'none'])));
  await settle(page);
  const on = await shot('on');
  await setVis(Object.fromEntries(LABELS.map((l) => [l, 'none'])));
  await settle(page);
  const off = await shot('off');
  await setVis(before);
  await settle(page);
  const set = new Set();
  for (let y = 0; y < on.height; y += 2) for (let x = 0; x < on.width; x += 2) {
    const a = on.pixel(x, y), b = off.pixel(x, y);
    if (Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) > 60) set.add(`${x},${y}`);
  }
  return { set };
}

test('the wall draws Chinese labels with the served glyphs; the style validates', async () => {
  let log;
  const page = await env.openPage({ before: (p) => { log = glyphLog(p); } });
  // MapLibre's style validator (the style spec's own) finds nothing wrong with the wall's style
  const style = await page.evaluate(() => window.gw.map.getStyle());
  assert.ok(style.glyphs && style.sprite, 'the style names glyphs and a sprite');
  const errors = validateStyleMin(style);
  assert.deepEqual(errors.map((e) => e.message), [], 'style validation');
  const room = await firstPoint(base, 'police_rooms');
  await jumpTo(page, room, 14.5);
  await placed(page, ['grid-labels', 'police-room-labels', 'road-labels']);
  const by = await labelCount(page);
  assert.ok((by['grid-labels'] || []).length > 0, `grid names placed: ${JSON.stringify(by)}`);
  assert.ok((by['police-room-labels'] || []).length > 0, `police-room names placed: ${JSON.stringify(by)}`);
  assert.ok((by['road-labels'] || []).length > 0, `road names placed along the roads: ${JSON.stringify(by)}`);
  for (const names of Object.values(by)) for (const n of names) assert.match(n, HAN, 'a Chinese name');
  const px = (await labelPixels(page)).set.size;
  assert.ok(px > 200, `the label layers change ${px} sampled pixels`);
  console.log(`# sampled pixels the label layers change: ${px}`);
  await page.screenshot({ path: join(OUT, 'labels.png') });
  await jumpTo(page, await page.evaluate(() => window.gw.map.getCenter().toArray()), 11);
  await placed(page, ['township-labels']);
  const town = await labelCount(page);
  assert.ok((town['township-labels'] || []).length > 0, `township names placed at z11: ${JSON.stringify(town)}`);
  await page.screenshot({ path: join(OUT, 'labels-z11.png') });
  assert.ok(log.statuses.length > 0, 'glyphs were requested');
  for (const [url, status] of log.statuses) assert.equal(status, 200, url);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// A Chromium that sees only DejaVu (no CJK font): the wall PC the served glyphs are for.
async function browserWithoutCjk() {
  const dir = join(OUT, 'fontconfig');
  mkdirSync(join(dir, 'cache'), { recursive: true });
  writeFileSync(join(dir, 'fonts.conf'), `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>${join(dir, 'cache')}</cachedir></fontconfig>\n`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, env: { ...process.env, FONTCONFIG_FILE: join(dir, 'fonts.conf') } });
}

// The label pixels of the page at the first police room, z14.5: the sampled pixels that change
// when the label layers are hidden, as a set of "x,y".
async function labelMask(browser, opts = {}) {
  const page = await openPage({ ...env, browser }, opts);
  await jumpTo(page, await firstPoint(base, 'police_rooms'), 14.5);
  const m = await labelPixels(page, opts.name);
  await page.context().close();
  return m;
}

test('on a wall PC without CJK fonts the served glyphs draw the names as with them; without glyphs they do not', async () => {
  const plain = await browserWithoutCjk();
  try {
    const ref = await labelMask(env.browser, { name: 'cjk-served' });
    const served = await labelMask(plain, { name: 'nocjk-served' });
    const blocked = await labelMask(plain, { name: 'nocjk-blocked', allow: /\/fonts\//, route: [['**/fonts/**', (r) => r.fulfill({ status: 404, body: '' })]] });
    const apart = (a, b) => {
      let x = 0;
      for (const k of a.set) if (!b.set.has(k)) x++;
      for (const k of b.set) if (!a.set.has(k)) x++;
      return x / Math.max(1, new Set([...a.set, ...b.set]).size);
    };
    const figures = { ref: ref.set.size, served: served.set.size, blocked: blocked.set.size, servedApart: +apart(served, ref).toFixed(3), blockedApart: +apart(blocked, ref).toFixed(3) };
    console.log(`# label pixels, with CJK fonts / without + served glyphs / without + no glyphs: ${JSON.stringify(figures)}`);
    assert.ok(ref.set.size > 200, `labels drawn: ${JSON.stringify(figures)}`);
    assert.ok(figures.servedApart < 0.25, `the served glyphs draw the same labels on a PC without CJK fonts: ${JSON.stringify(figures)}`);
    assert.ok(figures.blockedApart > 0.5, `without the glyphs that PC draws something else: ${JSON.stringify(figures)}`);
  } finally {
    await plain.close();
  }
});

test('what a wall PC downloads in glyphs over the rotation: served glyphs vs a local CJK font', async () => {
  const figures = {};
  for (const [mode, query] of [['served', ''], ['local', '?localfont=sans-serif']]) {
    let log;
    const page = await env.openPage({ before: (p) => { log = glyphLog(p); } }, query);
    await tour(page);
    const room = await firstPoint(base, 'police_rooms');
    await jumpTo(page, room, 14.5);
    await placed(page, ['grid-labels', 'police-room-labels']);
    const by = await labelCount(page);
    assert.ok((by['grid-labels'] || []).length > 0, `${mode}: grid names placed`);
    figures[mode] = { ...(await log.bytes()), labels: Object.values(by).flat().length };
    await page.screenshot({ path: join(OUT, `labels-${mode}.png`) });
    await page.context().close();
  }
  console.log(`# glyph downloads over the wall's rotation: ${JSON.stringify(figures)}`);
  writeFileSync(join(OUT, 'glyph-bytes.json'), JSON.stringify(figures, null, 1) + '\n');
  assert.ok(figures.served.n > figures.local.n, 'a local CJK font saves glyph requests');
});
