// wall.test.mjs — the map wall in a real browser: Debian's Chromium driven by playwright-core
// against `gridwatch serve` on a small generated city.  Checks what a command center relies on:
// the page loads clean, every layer draws, labels switch language, the dispatcher panel shows the
// API's nearest teams, a POSTed incident appears through /events.  Screenshots go to artifacts/.
//
// Run: GW_BIN=build/gridwatch node --test tests/browser/   (GW_UPDATE_DOCS=1 also refreshes
// docs/img/wall.png, the README's picture, and docs/img/dispatcher.png, the dispatcher panel).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { root, ARTIFACTS, startCity, settle, rendered, jumpTo, pixelAt, firstPoint as first } from './lib.mjs';

let env, base, token;
const openPage = (opts) => env.openPage(opts);
const firstPoint = (layer) => first(base, layer);

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  env = await startCity({ scale: 0.02 });
  ({ base, token } = env);
});

after(async () => { await env?.stop(); });

test('/ sends browsers to the page and JSON clients to the landing document; static files are safe', async () => {
  let r = await fetch(base + '/', { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, redirect: 'manual' });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/wall/');
  r = await fetch(base + '/', { headers: { Accept: 'application/json' } });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).title, 'gridwatch');
  r = await fetch(base + '/?f=json', { headers: { Accept: 'text/html' } });
  assert.equal(r.status, 200);
  r = await fetch(base + '/wall/vendor/maplibre-gl.mjs');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/javascript/);
  const etag = r.headers.get('etag');
  assert.ok(etag);
  r = await fetch(base + '/wall/vendor/maplibre-gl.mjs', { headers: { 'If-None-Match': etag } });
  assert.equal(r.status, 304);
  // raw paths: fetch() would resolve encoded dot segments before sending
  const raw = (path) => new Promise((res, rej) => http.get({ host: '127.0.0.1', port: new URL(base).port, path }, (resp) => { resp.resume(); res(resp.statusCode); }).on('error', rej));
  for (const [path, want] of [['/wall/../CMakeLists.txt', 400], ['/wall/%2e%2e/CMakeLists.txt', 400], ['/wall/%252e%252e/x.js', 400], ['/wall/.gitignore', 404],
    ['/wall/node_modules/x.js', 404], ['/wall/package.json', 404], ['/wall/vendor/..%2f..%2fpackage.json', 404]]) {
    assert.equal(await raw(path), want, path);
  }
});

test('the page loads without console errors and every layer draws', async () => {
  const page = await openPage();
  let n = await rendered(page, ['grids-fill', 'grids-line', 'incidents', 'incident-clusters', 'police-rooms', 'teams']);
  assert.ok(n['grids-fill'] > 0, `grids drawn: ${JSON.stringify(n)}`);
  assert.ok(n.incidents + n['incident-clusters'] > 0, `incidents drawn: ${JSON.stringify(n)}`);
  assert.ok(n['police-rooms'] > 0, `police rooms drawn: ${JSON.stringify(n)}`);
  assert.ok(n.teams > 0, `teams drawn: ${JSON.stringify(n)}`);
  const legend = await page.textContent('#legend-body');
  for (const word of ['Incident count', 'Theft', 'Available', 'Busy', 'Police rooms', 'Camera views']) assert.ok(legend.includes(word), `legend has '${word}'`);
  await page.screenshot({ path: join(ARTIFACTS, 'overview.png') });
  // cameras from zoom 13, view wedges from zoom 15
  await jumpTo(page, await firstPoint('cameras'), 16);
  n = await rendered(page, ['cameras', 'camera-views']);
  assert.ok(n.cameras > 0 && n['camera-views'] > 0, `cameras and views drawn at z16: ${JSON.stringify(n)}`);
  await page.screenshot({ path: join(ARTIFACTS, 'cameras.png') });
  // the grid colour switch repaints, and says so when a service is missing
  for (const mode of ['coverage', 'hotspot', 'count']) {
    await page.check(`input[name=colorby][value=${mode}]`);
    const avail = await page.evaluate((m) => ({ coverage: !!window.gw.state.coverage, hotspot: !!window.gw.state.bins, count: !!window.gw.state.counts }[m]), mode);
    assert.equal(await page.locator('#lg-na').count(), avail ? 0 : 1, `legend note for ${mode}`);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('filters reach the tile URLs and the time window', async () => {
  const page = await openPage();
  await page.click('#window button[data-win="7d"]');
  await page.locator('#cats input[value=theft]').uncheck();
  await page.waitForTimeout(400);
  await page.selectOption('#severity', '3');
  await page.waitForTimeout(400);
  await settle(page);
  const tiles = await page.evaluate(() => window.gw.map.getSource('inc').tiles[0]);
  assert.match(decodeURIComponent(tiles), /datetime=\d{4}-\d\d-\d\dT[^/]+\/\.\./);
  const shown = await page.evaluate(() => window.gw.map.queryRenderedFeatures({ layers: ['incidents'] }).map((f) => f.properties));
  assert.ok(shown.every((p) => p.category !== 'theft' && p.severity >= 3), 'filtered incidents only');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the language switch changes labels; Chinese is the default for a zh browser', async () => {
  const page = await openPage();
  assert.equal((await page.textContent('#bar h1')).trim(), 'Grid command wall');
  await page.click('#btn-lang');
  assert.equal((await page.textContent('#bar h1')).trim(), '网格监控指挥大屏');
  assert.ok((await page.textContent('#legend-body')).includes('盗窃'));
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await page.click('#btn-lang');
  assert.equal((await page.textContent('#bar h1')).trim(), 'Grid command wall');
  await page.context().close();
  const zh = await openPage({ locale: 'zh-CN' });
  assert.equal((await zh.textContent('#bar h1')).trim(), '网格监控指挥大屏');
  // the README's picture: the wall's first view (the whole city, kept clear of the legend)
  await zh.evaluate(() => document.querySelector('#btn-wall').click());
  await settle(zh);
  await zh.screenshot({ path: join(ARTIFACTS, 'wall.png') });
  if (process.env.GW_UPDATE_DOCS === '1') copyFileSync(join(ARTIFACTS, 'wall.png'), join(root, 'docs/img/wall.png'));
  assert.deepEqual(zh.errors, []);
  await zh.context().close();
});

test('the dispatcher click shows the nearest teams of GET /dispatch/nearest', async (t) => {
  const [lon, lat] = await firstPoint('incidents');
  const q = `lon=${lon.toFixed(7)}&lat=${lat.toFixed(7)}`;
  // the generated teams' positions are old (stale teams are not proposed): report three fresh ones
  const teams = (await (await fetch(`${base}/collections/teams/items?status=available&limit=3`)).json()).features;
  const pos = teams.map((f, i) => ({ id: f.id, lon: lon + 0.002 * (i + 1), lat: lat + 0.001 * i }));
  const pr = await fetch(`${base}/dispatch/positions`, { method: 'POST', body: JSON.stringify(pos),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } });
  // the panel ranks by road when the city has roads (by=eta), else by distance
  let api = await fetch(`${base}/dispatch/nearest?${q}&k=5&status=available&by=eta`);
  if (api.status === 400 || api.status === 409 || api.status === 422) api = await fetch(`${base}/dispatch/nearest?${q}&k=5&status=available`);
  const page = await openPage();
  await page.click('#btn-dispatch');
  await jumpTo(page, [lon, lat], 14);
  const box = await page.locator('#map').boundingBox();
  const pt = await page.evaluate(([x, y]) => window.gw.map.project([x, y]), [lon, lat]);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
  await page.waitForSelector('#d-grid', { timeout: 10000 });
  assert.ok(!(await page.textContent('#d-grid')).includes('none'), 'the clicked grid is shown');
  await page.screenshot({ path: join(ARTIFACTS, 'dispatcher.png') });
  if (api.status === 404) {
    assert.equal(await page.locator('#d-na').count(), 1, 'the panel says dispatch is not available');
    t.skip('GET /dispatch/nearest answers 404 on this server (dispatch routes not built yet): nearest-team comparison skipped');
    await page.context().close();
    return;
  }
  assert.equal(pr.status, 200, 'POST /dispatch/positions');
  assert.equal(api.status, 200);
  const doc = await api.json();
  const list = Array.isArray(doc) ? doc : doc.teams ?? doc.items ?? doc.features ?? [];
  const want = list.map((x) => String(x.id ?? x.properties?.id ?? x.team));
  assert.ok(want.length >= 3, `the API proposes the fresh teams: ${JSON.stringify(want)}`);
  await page.waitForSelector('#d-teams', { timeout: 10000 });
  const got = await page.$$eval('#d-teams li', (lis) => lis.map((li) => li.dataset.teamId));
  assert.deepEqual(got, want);
  await page.screenshot({ path: join(ARTIFACTS, 'dispatcher.png') });
  // only the screenshot with the API's teams listed goes to the docs (not the 404 one above)
  if (process.env.GW_UPDATE_DOCS === '1') copyFileSync(join(ARTIFACTS, 'dispatcher.png'), join(root, 'docs/img/dispatcher.png'));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a POSTed incident appears on the map through /events', async (t) => {
  const probe = new AbortController();
  const ev = await fetch(`${base}/events`, { signal: probe.signal }).catch(() => null);
  probe.abort();
  if (!ev || ev.status === 404) {
    t.skip('GET /events answers 404 on this server (live events not built yet): SSE check skipped');
    return;
  }
  const page = await openPage();
  await page.waitForFunction(() => window.gw.es?.readyState === 1, null, { timeout: 10000 });
  const [lon, lat] = await firstPoint('police_rooms');
  await jumpTo(page, [lon, lat], 13);
  const id = `BROWSER-${Date.now()}`;
  const body = { type: 'Feature', id, geometry: { type: 'Point', coordinates: [lon + 0.001, lat + 0.001] },
    properties: { category: 'theft', severity: 4, occurred_at: new Date().toISOString() } };
  const r = await fetch(`${base}/collections/incidents/items`, { method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/geo+json', Authorization: `Bearer ${token}` } });
  assert.equal(r.status, 201, await r.text());
  const t0 = Date.now();
  await page.waitForFunction((i) => window.gw.state.live.has(i), id, { timeout: 5000 });
  const ms = Date.now() - t0;
  await settle(page);
  const drawn = await page.evaluate((i) => window.gw.map.queryRenderedFeatures({ layers: ['live-incidents'] }).filter((f) => f.properties.id === i).length, id);
  assert.ok(drawn > 0, 'the new incident is drawn');
  t.diagnostic(`incident on the map ${ms} ms after the POST answered`);
  await page.screenshot({ path: join(ARTIFACTS, 'live-incident.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('live event handling: a new incident is drawn and highlighted, a team moves (events fed to the page)', async () => {
  const page = await openPage();
  const [lon, lat] = await firstPoint('teams');
  await jumpTo(page, [lon, lat], 13);
  const team = (await (await fetch(`${base}/collections/teams/items?limit=1`)).json()).features[0];
  const to = [lon + 0.004, lat + 0.002];
  await page.evaluate(([tm, c, at]) => {
    window.gw.handleEvent('incident', { op: 'created', feature: { type: 'Feature', id: 'FED-1', geometry: { type: 'Point', coordinates: at }, properties: { category: 'fraud', severity: 3 } } });
    window.gw.handleEvent('team', { op: 'moved', id: tm.id, lon: c[0], lat: c[1], status: 'busy' });
  }, [team, to, [lon - 0.003, lat]]);
  await page.waitForFunction((id) => window.gw.teamDrawn(id), String(team.id), { timeout: 10000 }); // moves are batched
  await settle(page);
  const got = await page.evaluate((id) => {
    const m = window.gw.map;
    return {
      inc: m.queryRenderedFeatures({ layers: ['live-incidents'] }).filter((f) => f.properties.id === 'FED-1').length,
      hi: m.queryRenderedFeatures({ layers: ['live-highlight'] }).length,
      moved: window.gw.teamDrawn(id),
      // the tile copy at the old place is made invisible (feature state), not re-filtered
      old: m.queryRenderedFeatures({ layers: ['teams'] }).filter((f) => f.properties.id === id && f.state.live !== true).length,
    };
  }, String(team.id));
  assert.equal(got.inc, 1, 'fed incident drawn');
  assert.ok(got.hi >= 1, 'new incident highlighted');
  assert.ok(got.moved, 'team drawn by the live team layer');
  assert.ok(Math.abs(got.moved.lon - to[0]) < 1e-9 && Math.abs(got.moved.lat - to[1]) < 1e-9, `team at ${got.moved.lon},${got.moved.lat}`);
  assert.equal(got.moved.status, 'busy');
  // and on screen: the circle's centre pixel has the busy colour (#f46d43)
  const px = await pixelAt(page, got.moved.x, got.moved.y);
  assert.ok(Math.abs(px[0] - 0xf4) <= 12 && Math.abs(px[1] - 0x6d) <= 12 && Math.abs(px[2] - 0x43) <= 12, `pixel at the team: ${px}`);
  assert.equal(got.old, 0, 'the tile copy of the moved team is hidden');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
