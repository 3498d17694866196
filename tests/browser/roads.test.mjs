// roads.test.mjs — the dispatcher panel by road (issue 20) in a real browser: on a generated city
// with its roads, a click on the map lists the fastest available teams of GET /dispatch/nearest
// ?by=eta in increasing ETA (minutes and route length shown, English and Chinese labels), and the
// team under the cursor has its road route drawn: the map's `route` source holds that team's
// LineString (checked in the source's data, not in pixels).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, startCity, jumpTo } from './lib.mjs';

let env, base, token;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  env = await startCity({ scale: 0.02 });
  ({ base, token } = env);
});

after(async () => { await env?.stop(); });

async function clickAt(page, lon, lat) {
  await page.click('#btn-dispatch');
  await jumpTo(page, [lon, lat], 14);
  const box = await page.locator('#map').boundingBox();
  const pt = await page.evaluate(([x, y]) => window.gw.map.project([x, y]), [lon, lat]);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
  await page.waitForSelector('#d-teams', { timeout: 15000 });
}

const routeData = (page) => page.evaluate(() => window.gw.map.getSource('route').serialize().data);

test('the dispatcher panel ranks teams by ETA and draws the hovered team\'s route', async () => {
  // an incident on the road network (the generated villages' incidents can lie far from a road)
  const incs = (await (await fetch(`${base}/collections/incidents/items?limit=100`)).json()).features;
  let lon, lat;
  for (const f of incs) {
    [lon, lat] = f.geometry.coordinates;
    const r = await fetch(`${base}/dispatch/nearest?lon=${lon}&lat=${lat}&k=1&by=eta&include_stale=1&snap_max_m=100`);
    if (r.status === 200) break;
  }
  // fresh positions for three available teams around the spot (the generated ones are stale)
  const teams = (await (await fetch(`${base}/collections/teams/items?status=available&limit=5`)).json()).features;
  const pos = teams.map((f, i) => ({ id: f.id, lon: lon + 0.0015 * (i + 1) * (i % 2 ? -1 : 1), lat: lat + 0.0008 * (i % 3 - 1) }));
  const pr = await fetch(`${base}/dispatch/positions`, { method: 'POST', body: JSON.stringify(pos),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } });
  assert.equal(pr.status, 200, 'POST /dispatch/positions');
  const q = `lon=${lon.toFixed(7)}&lat=${lat.toFixed(7)}`;
  const api = await fetch(`${base}/dispatch/nearest?${q}&k=5&status=available&by=eta`);
  assert.equal(api.status, 200, 'the generated city has roads: by=eta answers');
  const want = (await api.json()).teams.map((x) => String(x.id));
  assert.ok(want.length >= 3, `the API proposes the fresh teams: ${JSON.stringify(want)}`);

  const page = await env.openPage();
  await clickAt(page, lon, lat);
  assert.equal(await page.getAttribute('#d-teams', 'data-by'), 'eta');
  const got = await page.$$eval('#d-teams li', (lis) => lis.map((li) => ({
    id: li.dataset.teamId, eta: Number(li.querySelector('.eta')?.dataset.etaS), text: li.textContent })));
  assert.deepEqual(got.map((x) => x.id), want, 'the panel lists the API\'s teams in its order');
  for (let i = 0; i < got.length; i++) {
    assert.ok(Number.isFinite(got[i].eta), `team ${got[i].id} shows an ETA`);
    assert.match(got[i].text, /ETA \d+\.\d min · route [\d.]+ (m|km)/);
    if (i) assert.ok(got[i].eta >= got[i - 1].eta, `ETAs increase: ${got.map((x) => x.eta)}`);
  }
  assert.match(await page.textContent('#d-body h2'), /Fastest available teams/);

  // nothing drawn until a team is under the cursor; then its route, ending at the clicked spot
  assert.equal((await routeData(page)).features?.length ?? 0, 0);
  await page.hover(`#d-teams li[data-team-id="${want[1]}"]`);
  await page.waitForFunction((id) => window.gw.map.getSource('route').serialize().data?.properties?.team === id, want[1], { timeout: 5000 });
  const r = await routeData(page);
  assert.equal(r.geometry.type, 'LineString');
  assert.ok(r.geometry.coordinates.length >= 2);
  const end = r.geometry.coordinates[r.geometry.coordinates.length - 1];
  assert.ok(Math.hypot(end[0] - lon, end[1] - lat) < 0.01, `the route ends near the spot: ${end}`);
  await page.screenshot({ path: join(ARTIFACTS, 'dispatcher_eta.png') });
  await page.hover(`#d-teams li[data-team-id="${want[0]}"]`);
  await page.waitForFunction((id) => window.gw.map.getSource('route').serialize().data?.properties?.team === id, want[0], { timeout: 5000 });
  await page.mouse.move(5, 5); // off the panel: the route goes
  await page.waitForFunction(() => (window.gw.map.getSource('route').serialize().data.features?.length ?? -1) === 0, null, { timeout: 5000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // the same panel in Chinese
  const zh = await env.openPage({ locale: 'zh-CN' });
  await clickAt(zh, lon, lat);
  assert.match(await zh.textContent('#d-body h2'), /最快到达/);
  assert.match(await zh.textContent('#d-teams li'), /预计 \d+\.\d 分钟 · 路程/);
  assert.deepEqual(zh.errors, []);
  await zh.context().close();
});
