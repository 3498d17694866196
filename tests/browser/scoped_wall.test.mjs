// scoped_wall.test.mjs — the map wall as a scoped account (issue 18): a wall opened as
// /wall/#token=… of a village viewer shows that village — the bar names it, the map opens on its
// grids, every grid, incident and team drawn is the village's, every request for tiles and data
// carries the token, and the live stream brings the village's new incidents and not another's.
// Saving a township's token in the dispatcher box turns the same page into the township's view.
// Expectations come from the items route with the same tokens and the test's own writes, not
// from the page's code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startCity, settle } from './lib.mjs';

let env, base, tmp, rootToken, villageToken, townToken, village, town, other;
const within = (p, s) => p === s || p.startsWith(s + '/');
const bearer = (tk) => ({ Authorization: `Bearer ${tk}` });
const tokenFor = (db, args) => execFileSync(BIN, ['token', 'create', db, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/).pop();

// Every feature of a layer the token sees (paged), as a Map id -> feature.
async function all(layer, tk) {
  const out = new Map();
  let url = `${base}/collections/${layer}/items?limit=10000`;
  while (url) {
    const doc = await (await fetch(url, { headers: bearer(tk) })).json();
    for (const f of doc.features) out.set(String(f.id), f);
    const next = (doc.links || []).find((l) => l.rel === 'next');
    url = next ? next.href : null;
  }
  return out;
}

function box(features) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => (typeof c[0] === 'number' ? [[c[0], c[1]]] : c.flatMap(walk));
  for (const f of features)
    for (const [x, y] of walk(f.geometry.coordinates)) b.splice(0, 4, Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y));
  return b;
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'gw-scoped-wall-'));
  const db = join(tmp, 'city.db');
  execFileSync(BIN, ['gen-city', db, '--scale', '0.02'], { stdio: 'pipe' });
  const jlist = JSON.parse(execFileSync(BIN, ['jurisdictions', db, '--json'], { encoding: 'utf8' })).jurisdictions;
  // the village with the most grids, its township, and another village of another township
  const villages = jlist.filter((j) => j.level === 4).sort((a, b) => b.grids - a.grids);
  village = villages[0].path;
  town = village.split('/').slice(0, 3).join('/');
  other = villages.find((v) => !within(v.path, town)).path;
  villageToken = tokenFor(db, ['--role', 'viewer', '--jurisdiction', village, '--name', 'village-wall']);
  townToken = tokenFor(db, ['--role', 'dispatcher', '--jurisdiction', town, '--name', 'township-desk']);
  env = await startCity({ db });
  ({ base, token: rootToken } = env);
});

after(async () => {
  await env?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('a village viewer\'s wall shows its village only, live; a township token turns it into the township\'s', async () => {
  const grids = await all('grids', villageToken);
  const gridIds = new Set(grids.keys());
  assert.ok(gridIds.size >= 2, `the village has grids: ${gridIds.size}`);
  for (const f of grids.values()) {
    const p = f.properties;
    assert.ok(within([p.prefecture, p.county, p.township, p.village].filter(Boolean).join('/'), village));
  }
  const vbox = box(grids.values());
  const incIds = new Set((await all('incidents', villageToken)).keys());
  const teamIds = new Set((await all('teams', villageToken)).keys());
  const allGrids = await all('grids', rootToken);
  assert.ok(allGrids.size > 5 * gridIds.size, 'the city is much more than the village');

  // every request the page makes to gridwatch's data routes, with its Authorization header
  const seen = [];
  const page = await env.openPage({
    before: (p) => p.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin === base && /^\/(tiles|collections|analysis|events|jurisdictions|dispatch|incidents)\b/.test(u.pathname) && !/\.json$/.test(u.pathname))
        seen.push([u.pathname, r.headers().authorization || '']);
    }),
  }, `#token=${villageToken}`);
  // the token went into the session and left the address bar
  assert.equal(await page.evaluate(() => location.hash), '');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('gw.token')), villageToken);
  // the bar names the village
  await page.waitForFunction((v) => document.querySelector('#scope')?.dataset.path === v, village, { timeout: 10000 });
  assert.equal(await page.isVisible('#scope'), true);
  assert.match((await page.textContent('#scope')).trim(), new RegExp(`${village.split('/').pop()}$`));
  // the map opened on the village's grids
  await settle(page);
  const view = await page.evaluate(() => { const b = window.gw.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; });
  const eps = 1e-3;
  assert.ok(view[0] <= vbox[0] + eps && view[1] <= vbox[1] + eps && view[2] >= vbox[2] - eps && view[3] >= vbox[3] - eps, `the view ${view} holds the village ${vbox}`);
  const city = await page.evaluate(() => window.gw.state.bounds.flat());
  assert.ok(view[2] - view[0] < 0.5 * (city[2] - city[0]), `zoomed in from the city ${city} to ${view}`);

  // what is drawn: the village's grids (all of them, in view), its incidents and teams only
  const drawn = await page.evaluate(() => {
    const q = (l) => [...new Set(window.gw.map.queryRenderedFeatures({ layers: [l] }).map((f) => String(f.id ?? f.properties.id)))];
    return { grids: q('grids-fill'), incidents: window.gw.map.queryRenderedFeatures({ layers: ['incidents'] }).map((f) => String(f.properties.id)), teams: q('teams') };
  });
  assert.ok(drawn.grids.length >= 1, 'grids drawn');
  const idsOfDrawn = await page.evaluate(() => [...new Set(window.gw.map.queryRenderedFeatures({ layers: ['grids-fill'] }).map((f) => String(f.properties.id)))]);
  for (const id of idsOfDrawn) assert.ok(gridIds.has(id), `grid ${id} drawn is the village's`);
  assert.equal(idsOfDrawn.length, gridIds.size, 'every grid of the village is drawn');
  for (const id of drawn.incidents) assert.ok(incIds.has(id), `incident ${id} drawn is the village's`);
  for (const id of drawn.teams) assert.ok(teamIds.has(id), `team ${id} drawn is the village's`);
  // every data request carried the village's token
  assert.ok(seen.some(([p]) => p.startsWith('/tiles/')), 'tiles were requested');
  for (const [p, a] of seen) assert.equal(a, `Bearer ${villageToken}`, `${p} without the token`);

  // live: an incident reported in the village arrives; one reported in another village does not
  await page.waitForFunction(() => window.gw.es?.readyState === 1, null, { timeout: 10000 });
  const inVillage = [...grids.values()][0];
  const otherGrid = [...allGrids.values()].find((f) => within([f.properties.prefecture, f.properties.county, f.properties.township, f.properties.village].filter(Boolean).join('/'), other));
  const post = async (f, id) => {
    // a point inside the grid: the first vertex nudged toward the grid's box centre
    const b = box([f]), v = f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates[0][0][0] : f.geometry.coordinates[0][0];
    const pt = [v[0] + (((b[0] + b[2]) / 2) - v[0]) * 0.02, v[1] + (((b[1] + b[3]) / 2) - v[1]) * 0.02];
    const body = { type: 'Feature', id, geometry: { type: 'Point', coordinates: pt }, properties: { category: 'theft', severity: 3, occurred_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } };
    const r = await fetch(`${base}/collections/incidents/items`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/geo+json', ...bearer(rootToken) } });
    assert.equal(r.status, 201, await r.text());
    // where the server put it: the village's items list it or not
    return (await fetch(`${base}/collections/incidents/items/${encodeURIComponent(id)}`, { headers: bearer(villageToken) })).status;
  };
  assert.equal(await post(otherGrid, 'wall-outside-1'), 404, 'the outside incident is not the village\'s');
  assert.equal(await post(inVillage, 'wall-inside-1'), 200, 'the inside incident is the village\'s');
  await page.waitForFunction(() => window.gw.state.live.has('wall-inside-1'), null, { timeout: 10000 });
  await page.waitForTimeout(1000);
  assert.equal(await page.evaluate(() => window.gw.state.live.has('wall-outside-1')), false, 'no event from outside');

  // the dispatcher box: a township token makes the page the township's
  seen.length = 0;
  await page.click('#btn-dispatch');
  await page.fill('#d-token', townToken);
  await page.click('#d-save');
  await page.click('#btn-dispatch');
  await page.waitForFunction((tp) => document.querySelector('#scope')?.dataset.path === tp, town, { timeout: 10000 });
  await page.evaluate(() => window.gw.accountChanged);
  await settle(page);
  const townGrids = new Set((await all('grids', townToken)).keys());
  assert.ok(townGrids.size > gridIds.size);
  const idsNow = await page.evaluate(() => [...new Set(window.gw.map.queryRenderedFeatures({ layers: ['grids-fill'] }).map((f) => String(f.properties.id)))]);
  assert.ok(idsNow.length > gridIds.size, `more than the village drawn: ${idsNow.length}`);
  for (const id of idsNow) assert.ok(townGrids.has(id), `grid ${id} drawn is the township's`);
  assert.ok(seen.some(([p]) => p.startsWith('/tiles/')), 'tiles requested again');
  for (const [p, a] of seen) assert.equal(a, `Bearer ${townToken}`, `${p} with the township's token`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
