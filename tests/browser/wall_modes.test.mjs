// wall_modes.test.mjs — the wall's display modes in a real browser: wall mode (no controls, a big
// legend that scales with the screen, rotation through the configured views) and a GCJ-02 basemap
// (a fake tile server on loopback whose tiles carry a mark at a known point's GCJ-02 position: the
// page must draw the mark on the point's WGS84 position, and without gcj02=1 ~hundreds of metres off).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import { root, ARTIFACTS, startCity, settle, jumpTo, pixelAt } from './lib.mjs';

const { wgsToGcj } = await import(join(root, 'web/js/data.js'));

let env, base, city;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  env = await startCity({ scale: 0.02 });
  base = env.base;
  city = await (await fetch(`${base}/tiles/city.json`)).json();
});

after(async () => { await env?.stop(); });

const centre = () => [(city.bounds[0] + city.bounds[2]) / 2, (city.bounds[1] + city.bounds[3]) / 2];

// ---- wall mode ---------------------------------------------------------------------------------

test('wall mode: no controls, a big legend that fits, and the views rotate', async () => {
  const [cx, cy] = centre();
  const views = [{ name: 'one', center: [+(cx - 0.05).toFixed(5), +(cy - 0.03).toFixed(5)], zoom: 11 },
    { name: 'two', center: [+(cx + 0.04).toFixed(5), +(cy + 0.02).toFixed(5)], zoom: 13.5 }];
  const config = { basemap: null, rotate_seconds: 5, views };
  const page = await env.openPage({
    viewport: { width: 1920, height: 1080 }, locale: 'zh-CN',
    route: [['**/wall/config.json', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(config) })]],
  }, '?mode=wall');
  assert.equal(await page.evaluate(() => document.body.classList.contains('wall')), true, 'wall mode from ?mode=wall');
  // nothing to click on a wall
  for (const sel of ['#bar', '#filters', '#btn-wall', '.maplibregl-ctrl-zoom-in', '.maplibregl-ctrl-scale'])
    assert.equal(await page.locator(sel).first().isVisible(), false, `${sel} hidden in wall mode`);
  assert.equal(await page.locator('#legend').isVisible(), true);
  assert.equal(await page.locator('#wall-title').isVisible(), true);
  const size = (sel) => page.$eval(sel, (el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(await size('#legend .lg-row') >= 24, `legend text ${await size('#legend .lg-row')} px at 1920 wide`);
  assert.ok(await size('#wall-title') >= 44, 'title 44 px or more');
  const fit = await page.$eval('#legend', (el) => ({ sh: el.scrollHeight, ch: el.clientHeight, bottom: el.getBoundingClientRect().bottom, h: innerHeight }));
  assert.ok(fit.sh <= fit.ch + 1 && fit.bottom <= fit.h, `the whole legend is on screen without scrolling: ${JSON.stringify(fit)}`);

  // the rotation: view two, then back to view one (each camera move ends before the next view)
  const at = (v) => page.waitForFunction(([name, c, z]) => {
    const m = window.gw.map, p = m.getCenter();
    return window.gw.wallView?.name === name && !m.isMoving() && Math.abs(p.lng - c[0]) < 1e-4 && Math.abs(p.lat - c[1]) < 1e-4 && Math.abs(m.getZoom() - z) < 0.01;
  }, [v.name, v.center, v.zoom], { timeout: 60000, polling: 100 });
  await at(views[1]);
  await at(views[0]);
  await page.screenshot({ path: join(ARTIFACTS, 'wall-mode.png') });

  // a 4K wall at 100 %: the same layout, twice the size
  await page.setViewportSize({ width: 3840, height: 2160 });
  await page.waitForFunction(() => innerWidth === 3840);
  assert.ok(await size('#legend .lg-row') >= 47.9, `legend text ${await size('#legend .lg-row')} px at 3840 wide`);
  assert.ok(await size('#wall-title') >= 87.9, 'title doubles at 3840 wide');
  // Escape leaves wall mode: the controls are back
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#bar').isVisible(), true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// ---- GCJ-02 basemap --------------------------------------------------------------------------

test('the GCJ-02 transform of the page matches published WGS84 -> GCJ-02 pairs', () => {
  // googollee/eviltransform's test vectors (also in tests/unit/test_crs.c): wgs lat, lon, gcj lat, lon
  for (const [wlat, wlon, glat, glon] of [[31.1774276, 121.5272106, 31.17530398364597, 121.531541859215],
    [22.543847, 113.912316, 22.540796131694766, 113.9171764808363], [39.911954, 116.377817, 39.91334545536069, 116.38404722455657]]) {
    const [lon, lat] = wgsToGcj(wlon, wlat);
    assert.ok(Math.abs(lon - glon) < 1e-9 && Math.abs(lat - glat) < 1e-9, `${wlon},${wlat} -> ${lon},${lat}, published ${glon},${glat}`);
  }
});

// A minimal RGBA PNG (filter 0 rows, zlib from Node): the fake basemap's tiles.
const CRC = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
function crc32(buf) { let c = 0xffffffff; for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; }
function chunk(type, data) {
  const len = Buffer.alloc(4), crc = Buffer.alloc(4), td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  len.writeUInt32BE(data.length); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(w, h, rgba) {
  const raw = Buffer.alloc((w * 4 + 1) * h);
  for (let y = 0; y < h; y++) rgba.copy(raw, y * (w * 4 + 1) + 1, y * w * 4, (y + 1) * w * 4);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// Web Mercator pixel of lon/lat at zoom z (256-pixel tiles): what any XYZ basemap uses.
function worldPx(lon, lat, z) {
  const n = 256 * 2 ** z, s = Math.sin(lat * Math.PI / 180);
  return [(lon + 180) / 360 * n, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n];
}

// Tiles with a magenta 7x7 square centred on `mark` (lon/lat in the basemap's own coordinates).
function tileServer(mark) {
  const cache = new Map();
  const srv = http.createServer((req, res) => {
    const m = req.url.match(/^\/(\d+)\/(\d+)\/(\d+)\.png$/);
    if (!m) { res.writeHead(404); res.end(); return; }
    const [z, x, y] = m.slice(1).map(Number);
    const [gx, gy] = worldPx(mark[0], mark[1], z);
    const cx = Math.floor(gx) - x * 256, cy = Math.floor(gy) - y * 256;
    const key = cx > -4 && cx < 260 && cy > -4 && cy < 260 ? `${z}/${x}/${y}` : 'empty';
    if (!cache.has(key)) {
      const rgba = Buffer.alloc(256 * 256 * 4);
      for (let j = cy - 3; j <= cy + 3; j++) for (let i = cx - 3; i <= cx + 3; i++)
        if (key !== 'empty' && i >= 0 && i < 256 && j >= 0 && j < 256) rgba.set([255, 0, 255, 255], (j * 256 + i) * 4);
      cache.set(key, png(256, 256, rgba));
    }
    res.writeHead(200, { 'Content-Type': 'image/png', 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
    res.end(cache.get(key));
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}

// Where the magenta mark is drawn on screen (centroid of its pixels), with everything but the
// basemap hidden.
async function findMark(page, at, zoom) {
  await page.evaluate(() => {
    const m = window.gw.map;
    for (const l of m.getStyle().layers) if (!['background', 'basemap'].includes(l.id)) m.setLayoutProperty(l.id, 'visibility', 'none');
    m.setPaintProperty('basemap', 'raster-opacity', 1);
    m.setPaintProperty('basemap', 'raster-fade-duration', 0);
    // and the panels over the map: the legend's blind-spot swatch is magenta too
    const host = m.getContainer();
    for (const el of document.body.children) if (!el.contains(host)) el.style.visibility = 'hidden';
    for (const el of host.parentElement.children) if (el !== host) el.style.visibility = 'hidden';
  });
  await jumpTo(page, at, zoom);
  // The basemap tiles come through the page's gcj:// protocol (fetch, draw, encode) and can
  // still be replacing each other after the map reports them loaded on a busy box: measure
  // until two screenshots agree.
  let last = null;
  for (let i = 0; i < 20; i++) {
    await page.waitForFunction(() => window.gw.map.areTilesLoaded(), null, { timeout: 30000 });
    const got = await markIn(page);
    if (last && got.n === last.n && (!got.n || Math.hypot(got.x - last.x, got.y - last.y) < 0.5)) return got;
    last = got;
    await page.waitForTimeout(250);
  }
  return last;
}

async function markIn(page) {
  const shot = await page.screenshot({ type: 'png' });
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0, sx = 0, sy = 0;
    for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
      const o = (y * c.width + x) * 4;
      if (d[o] > 160 && d[o + 1] < 90 && d[o + 2] > 160) { n++; sx += x + 0.5; sy += y + 0.5; }
    }
    return n ? { n, x: sx / n, y: sy / n } : { n };
  }, shot.toString('base64'));
}

test('a GCJ-02 basemap is shifted onto the WGS84 data (gcj02=1), and is off without it', async () => {
  const p = centre();
  const g = wgsToGcj(p[0], p[1]);
  const srv = await tileServer(g);
  const tiles = encodeURIComponent(`http://127.0.0.1:${srv.address().port}/{z}/{x}/{y}.png`);
  const zoom = 16;
  try {
    const page = await env.openPage({}, `?basemap=${tiles}&gcj02=1`);
    const got = await findMark(page, p, zoom);
    const want = await page.evaluate((c) => window.gw.map.project(c), p);
    await page.screenshot({ path: join(ARTIFACTS, 'gcj02.png') });
    assert.ok(got.n >= 20, `the mark is drawn (${got.n} magenta pixels)`);
    const err = Math.hypot(got.x - want.x, got.y - want.y);
    assert.ok(err < 3, `gcj02=1: mark at ${got.x.toFixed(1)},${got.y.toFixed(1)}, the WGS84 point at ${want.x.toFixed(1)},${want.y.toFixed(1)} (${err.toFixed(1)} px)`);
    assert.ok((await page.textContent('#legend-body')).includes('GCJ-02'), 'the legend says the basemap is shifted');
    assert.deepEqual(page.errors, []);
    await page.context().close();

    // control: the same basemap taken as WGS84 puts the mark at the GCJ-02 position
    const plain = await env.openPage({}, `?basemap=${tiles}`);
    const off = await findMark(plain, p, zoom);
    const [wp, gp, mpp] = await plain.evaluate(([a, b]) => {
      const m = window.gw.map;
      return [m.project(a), m.project(b), 40075016.686 * Math.cos(a[1] * Math.PI / 180) / (512 * 2 ** m.getZoom())];
    }, [p, g]);
    const metres = Math.hypot(gp.x - wp.x, gp.y - wp.y) * mpp;
    assert.ok(metres > 100 && metres < 1500, `the GCJ-02 offset here is ${metres.toFixed(0)} m`);
    assert.ok(Math.hypot(off.x - gp.x, off.y - gp.y) < 3, `without gcj02: mark at ${off.x.toFixed(1)},${off.y.toFixed(1)}, expected the GCJ-02 position ${gp.x.toFixed(1)},${gp.y.toFixed(1)}`);
    assert.ok(Math.hypot(off.x - wp.x, off.y - wp.y) * mpp > 100, 'and hundreds of metres from the WGS84 point');
    assert.deepEqual(plain.errors, []);
    await plain.context().close();
  } finally {
    srv.close();
  }
});

// ---- live teams through the real event stream -----------------------------------------------

test('a POSTed team position moves the team on the map through /events (the event carries the new place)', async () => {
  const team = (await (await fetch(`${base}/collections/teams/items?limit=1&status=busy`)).json()).features[0]
    ?? (await (await fetch(`${base}/collections/teams/items?limit=1`)).json()).features[0];
  const [lon, lat] = team.geometry.coordinates;
  const page = await env.openPage();
  await page.waitForFunction(() => window.gw.es?.readyState === 1, null, { timeout: 15000 });
  await jumpTo(page, [lon, lat], 13);
  const to = [+(lon + 0.006).toFixed(6), +(lat + 0.003).toFixed(6)];
  const r = await fetch(`${base}/dispatch/positions`, { method: 'POST', body: JSON.stringify([{ id: team.id, lon: to[0], lat: to[1] }]),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${env.token}` } });
  assert.equal(r.status, 200, await r.text());
  // drawn at the new place (not between the old and the new: the event's bbox spans both)
  await page.waitForFunction(([id, c]) => { const d = window.gw.teamDrawn(id); return d && Math.abs(d.lon - c[0]) < 1e-7 && Math.abs(d.lat - c[1]) < 1e-7; },
    [String(team.id), to], { timeout: 20000, polling: 100 });
  await settle(page);
  const got = await page.evaluate((id) => {
    const m = window.gw.map;
    return {
      drawn: window.gw.teamDrawn(id),
      tileCopies: m.queryRenderedFeatures({ layers: ['teams'] }).filter((f) => f.properties.id === id && f.state.live !== true).length,
    };
  }, String(team.id));
  assert.equal(got.drawn.status, team.properties.status, 'the moved team keeps its status (from the event)');
  assert.equal(got.tileCopies, 0, 'the tile copy at the old place is hidden');
  // on screen in its status colour at the new place
  const want = { available: [0x1a, 0x98, 0x50], busy: [0xf4, 0x6d, 0x43], offline: [0x88, 0x88, 0x88] }[team.properties.status];
  const px = await pixelAt(page, got.drawn.x, got.drawn.y);
  assert.ok(want.every((v, i) => Math.abs(px[i] - v) <= 12), `pixel at the team: ${px}, want ${want}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// ---- recovering what the event stream could not say --------------------------------------------

test('a reset event (the page fell out of the server\'s event window) reloads the tiles and catches up the teams', async () => {
  const team = (await (await fetch(`${base}/collections/teams/items?limit=2`)).json()).features[1];
  const [lon, lat] = team.geometry.coordinates;
  let tiles = null;
  const page = await env.openPage({ before: (p) => { tiles = watchTiles(p); } });
  await page.waitForFunction(() => window.gw.es?.readyState === 1, null, { timeout: 15000 });
  await jumpTo(page, [lon, lat], 13);
  // the stream goes quiet; a team moves meanwhile; then the server says the page missed events
  await page.evaluate(() => window.gw.es.close());
  const to = [+(lon - 0.005).toFixed(6), +(lat + 0.004).toFixed(6)];
  const r = await fetch(`${base}/dispatch/positions`, { method: 'POST', body: JSON.stringify([{ id: team.id, lon: to[0], lat: to[1] }]),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${env.token}` } });
  assert.equal(r.status, 200, await r.text());
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate((id) => window.gw.teamDrawn(id), String(team.id)), null, 'no event, no move yet');
  await page.evaluate(() => {
    window.gw.es.dispatchEvent(new MessageEvent('reset', { data: '{"from":1,"to":2}' }));
  });
  await page.waitForFunction(([id, c]) => { const d = window.gw.teamDrawn(id); return d && Math.abs(d.lon - c[0]) < 1e-7 && Math.abs(d.lat - c[1]) < 1e-7; },
    [String(team.id), to], { timeout: 15000, polling: 100 });
  await settle(page);
  assert.equal(await page.evaluate(() => window.gw.resets), 1);
  checkRevalidated(await tilesAfter(page, tiles, 'resetAt'));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('coverage that arrives after the page opened reloads the tiles (their blind spots and coverage fields)', async () => {
  let refused = 0, tiles = null, release;
  const gate = new Promise((r) => { release = r; }); // the retry is answered once the first view is in
  const page = await env.openPage({
    before: (p) => { tiles = watchTiles(p); },
    route: [['**/analysis/coverage', (r) => {
      if (refused++) return gate.then(() => r.continue());
      return r.fulfill({ status: 503, headers: { 'Retry-After': '1' }, contentType: 'application/problem+json', body: '{"title":"coverage is being computed","status":503}' });
    }]],
  });
  release();
  await page.waitForFunction(() => window.gw.coverageLate > 0, null, { timeout: 15000 });
  await settle(page);
  assert.equal(refused, 2, 'asked again after the 503');
  assert.equal(await page.evaluate(() => window.gw.state.avail.coverage), true);
  checkRevalidated(await tilesAfter(page, tiles, 'coverageLate'), false);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an incident moved by an edit is drawn at its new place, never at the middle of the event\'s box', async () => {
  const [cx, cy] = centre();
  const page = await env.openPage();
  await page.waitForFunction(() => window.gw.es?.readyState === 1, null, { timeout: 15000 });
  await jumpTo(page, [cx, cy], 13);
  const id = `MOVE-${Date.now()}`, a = [+(cx - 0.004).toFixed(6), +cy.toFixed(6)], b = [+(cx + 0.004).toFixed(6), +(cy + 0.002).toFixed(6)];
  const auth = { Authorization: `Bearer ${env.token}` };
  let r = await fetch(`${base}/collections/incidents/items`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/geo+json' },
    body: JSON.stringify({ type: 'Feature', id, geometry: { type: 'Point', coordinates: a }, properties: { category: 'theft', severity: 3, occurred_at: new Date().toISOString() } }) });
  assert.equal(r.status, 201, await r.text());
  await page.waitForFunction((i) => window.gw.state.live.get(i)?.properties.category === 'theft', id, { timeout: 10000 });
  // every place the page holds for it, from now on, at each frame
  await page.evaluate((i) => {
    window.__seen = [];
    const look = () => { const f = window.gw.state.live.get(i); if (f) window.__seen.push(f.geometry.coordinates.join(',')); window.__look = requestAnimationFrame(look); };
    look();
  }, id);
  r = await fetch(`${base}/collections/incidents/items/${id}`, { method: 'PATCH', headers: { ...auth, 'Content-Type': 'application/merge-patch+json' },
    body: JSON.stringify({ geometry: { type: 'Point', coordinates: b } }) });
  assert.equal(r.status, 200, await r.text());
  await page.waitForFunction(([i, c]) => { const g = window.gw.state.live.get(i)?.geometry.coordinates; return g && Math.abs(g[0] - c[0]) < 1e-7 && Math.abs(g[1] - c[1]) < 1e-7; },
    [id, b], { timeout: 10000 });
  const seen = [...new Set(await page.evaluate(() => { cancelAnimationFrame(window.__look); return window.__seen; }))];
  const at = (p) => seen.some((x) => { const [u, v] = x.split(',').map(Number); return Math.abs(u - p[0]) < 1e-7 && Math.abs(v - p[1]) < 1e-7; });
  assert.ok(at(b), `seen: ${seen}`);
  assert.equal(seen.filter((x) => { const [u, v] = x.split(',').map(Number); return !(Math.abs(u - a[0]) < 1e-7 && Math.abs(v - a[1]) < 1e-7) && !(Math.abs(u - b[0]) < 1e-7 && Math.abs(v - b[1]) < 1e-7); }).length, 0,
    `only the old and the new place, seen: ${seen}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// The city and incident tile requests of a page, with when they were sent, their Cache-Control
// header and the server's status.  Tiles are fetched by
// MapLibre's worker, which Playwright's request events see (resource timing in the page would not).
function watchTiles(page) {
  const seen = [], start = new Map();
  page.on('request', (q) => start.set(q, Date.now()));
  page.on('requestfinished', async (q) => {
    if (!/\/tiles\/(city|incidents)\/\d+\/\d+\/\d+/.test(q.url())) return;
    const res = await q.response().catch(() => null);
    seen.push({ t: start.get(q) ?? 0, url: q.url(), cc: (await q.allHeaders().catch(() => ({})))['cache-control'] || '', status: res?.status() ?? 0 });
  });
  return seen;
}

// Those of watchTiles' requests sent after the page noted the time gw[mark] (Date.now()) for a
// tile it had loaded before: the reloads (a tile first asked for just then may have been
// scheduled before the mark, without revalidation, and is not one).
async function tilesAfter(page, tiles, mark) {
  const t = await page.evaluate((k) => window.gw[k], mark);
  const before = new Set(tiles.filter((x) => x.t < t).map((x) => x.url));
  return tiles.filter((x) => x.t >= t && before.has(x.url));
}

// The tiles were asked for again and revalidated with the server (fetch cache mode 'no-cache'
// sends Cache-Control: max-age=0, or no-cache; the answer is a new tile or 304), not taken from
// the browser's copy.
// (A page with routes has no HTTP cache at all (Playwright), so there only the re-requests count.)
function checkRevalidated(tiles, cache = true) {
  assert.ok(tiles.length > 0, 'the tiles are requested again');
  assert.ok(!cache || tiles.every((t) => /max-age=0|no-cache/.test(t.cc)), `tile requests' Cache-Control: ${JSON.stringify(tiles.filter((t) => !t.cc).slice(0, 5))} of ${tiles.length}`);
  assert.ok(tiles.every((t) => [200, 204, 304].includes(t.status)), `tile answers: ${[...new Set(tiles.map((t) => t.status))]}`);
}
