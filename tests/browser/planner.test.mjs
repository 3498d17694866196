// planner.test.mjs — the wall page's planner mode in a real browser (Debian's Chromium driven by
// playwright-core) against `gridwatch serve` on a small generated city: a planner enters the
// mode, makes a draft, draws a split line across a grid with mouse clicks, and sees two grids
// where there was one (on the page and in GET /plan/drafts/{id}/grids), no validation problems
// and the balance table updated; then publishes (the version changes, the published tiles show
// the new grid) and rolls back (the old grid is back).  Screenshot: artifacts/planner.png.
//
// Run: tests/browser/run.sh build/gridwatch   (or GW_BIN=build/gridwatch node --test tests/browser/;
// GW_UPDATE_DOCS=1 also refreshes docs/img/planner.png, the panel's picture in the docs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, ARTIFACTS, startCity, settle } from './lib.mjs';

let env, base, token;

async function getJson(path) {
  const r = await fetch(base + path);
  assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
  return r.json();
}

// The outer ring of a one-part polygon without holes, or null.
function simpleRing(g) {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  return polys.length === 1 && polys[0].length === 1 ? polys[0][0] : null;
}

// Convex: every turn of the ring the same way (collinear vertices allowed).
function convex(ring) {
  let sign = 0;
  for (let i = 0; i < ring.length - 1; i++) {
    const [a, b, c] = [ring[i], ring[(i + 1) % (ring.length - 1)], ring[(i + 2) % (ring.length - 1)]];
    const z = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
    if (Math.abs(z) < 1e-14) continue;
    if (sign && Math.sign(z) !== sign) return false;
    sign = Math.sign(z);
  }
  return true;
}

// A convex grid of the published set (a line through its middle cuts it in exactly two): its id,
// ring, bbox, middle latitude, width and a point inside it on that latitude.
async function convexGrid() {
  const all = (await getJson('/collections/grids/items?limit=1000')).features;
  const cand = all.map((f) => ({ id: String(f.id), ring: simpleRing(f.geometry) })).filter((g) => g.ring && convex(g.ring));
  assert.ok(cand.length > 0, 'the city has a convex grid');
  const grid = cand[Math.floor(cand.length / 2)];
  const xs = grid.ring.map((c) => c[0]), ys = grid.ring.map((c) => c[1]);
  const bb = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  const cy = (bb[1] + bb[3]) / 2;
  const cross = []; // the ring's crossings of y = cy
  for (let i = 0; i < grid.ring.length - 1; i++) {
    const [a, b] = [grid.ring[i], grid.ring[i + 1]];
    if ((a[1] - cy) * (b[1] - cy) < 0) cross.push(a[0] + (cy - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
  }
  assert.equal(cross.length, 2, 'a convex ring crosses its middle line twice');
  return { grid, bb, cy, w: bb[2] - bb[0], inside: [(cross[0] + cross[1]) / 2, cy], span: Math.abs(cross[1] - cross[0]) };
}

// A page with console errors recorded (resource errors of the optional routes excepted, and of
// /plan/ when the test provokes refusals).
async function openPage(locale, refusals = false) {
  const page = await env.openPage({ locale, ...(refusals ? { allow: /\/plan\// } : {}) });
  page.on('dialog', (d) => d.accept()); // publish and roll back ask first
  return page;
}

// Frame a bbox left of the planner panel (the filters panel is on the left); a function from
// lon/lat to page pixels.
async function frame(page, bb) {
  await page.evaluate((b) => window.gw.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: { left: 320, right: 700, top: 100, bottom: 100 }, duration: 0 }), bb);
  await settle(page);
  await page.evaluate(() => window.gw.plan.busy);
  const box = await page.locator('#map').boundingBox();
  return async (c) => { const p = await page.evaluate((x) => window.gw.map.project(x), c); return [box.x + p.x, box.y + p.y]; };
}

// The ids drawn on `layer` (optionally filtered), sorted: lib.mjs's rendered() counts features,
// these assertions need to know which.
// The rendered ids once they equal `want`, or the last ones seen after `timeout` ms: the tiles
// reload on the publish/rollback event, which on a loaded machine takes longer than one settle.
async function renderedIdsBecome(page, layer, filter, want, timeout = 15000) {
  const end = Date.now() + timeout;
  let ids;
  do {
    await settle(page);
    ids = await renderedIds(page, layer, filter);
    if (JSON.stringify(ids) === JSON.stringify(want)) break;
    await page.waitForTimeout(250);
  } while (Date.now() < end);
  return ids;
}

const renderedIds = (page, layer, filter) => page.evaluate(([l, f]) =>
  [...new Set(window.gw.map.queryRenderedFeatures({ layers: [l], ...(f ? { filter: f } : {}) }).map((x) => String(x.properties.id)))].sort(), [layer, filter]);

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  env = await startCity({ scale: 0.02, role: 'planner' });
  ({ base, token } = env);
});

after(async () => { await env?.stop(); });

test('planner mode: draw a split across a grid, see two grids, validate, balance, publish, roll back', async () => {
  const { grid, bb, cy, w, inside } = await convexGrid();
  const versions0 = await getJson('/plan/versions');
  const v0 = versions0.find((v) => v.current).version;
  const n0 = versions0.find((v) => v.current).grids;

  const page = await openPage('en-US');

  // the mode, the token, a new draft
  await page.click('#btn-planner');
  await page.waitForFunction(() => document.querySelectorAll('#p-drafts option').length >= 1 && window.gw.plan.active);
  await page.fill('#p-token', token);
  await page.click('#p-token-save');
  await page.fill('#p-new-name', 'browser split');
  await page.click('#p-create');
  await page.waitForFunction(() => window.gw.plan.draft?.name === 'browser split' && window.gw.plan.balance);
  await page.evaluate(() => window.gw.plan.busy);
  const draft = await page.evaluate(() => window.gw.plan.draft.id);
  assert.equal(await page.getAttribute('#p-balance', 'data-count'), String(n0));
  assert.equal(await page.getAttribute('#p-valid', 'data-ok'), '1', 'the published grids validate');

  const px = await frame(page, bb);
  assert.deepEqual(await renderedIds(page, 'grids-fill', ['==', ['get', 'id'], grid.id]), [grid.id], 'the grid is on screen');

  // split: pick the grid, click a line from outside it on the left to outside it on the right
  await page.click('#p-tools [data-tool=split]');
  await page.mouse.click(...(await px(inside)));
  await page.waitForFunction((id) => window.gw.plan.picked[0] === id, grid.id);
  const left = await px([bb[0] - 0.08 * w, cy]), mid = await px(inside), right = await px([bb[2] + 0.08 * w, cy]);
  await page.mouse.click(left[0], left[1]);
  await page.mouse.click(mid[0] + 1, mid[1]);
  await page.mouse.dblclick(right[0], right[1]); // double-click finishes the line
  await page.waitForFunction(() => window.gw.plan.draft?.edits === 1, null, { timeout: 15000 })
    .catch(async (e) => { throw new Error(`${e.message}; panel says: ${await page.textContent('#p-msg')}`); });
  await page.evaluate(() => window.gw.plan.busy);
  await settle(page);

  // two grids where there was one: on the page …
  // (the draft also changes the neighbours whose shared edges received the cut's vertices:
  // same area, one more vertex, so that no sliver opens between them)
  const onPage = await renderedIds(page, 'plan-grids-fill', ['==', ['get', 'changed'], true]);
  const diff = await getJson(`/plan/drafts/${draft}/diff`);
  assert.equal(diff.added.length, 1, `one new grid: ${JSON.stringify(diff)}`);
  const newId = String(diff.added[0]);
  assert.ok(onPage.includes(grid.id), `the larger piece keeps the id ${grid.id}: ${onPage}`);
  assert.ok(onPage.includes(newId), `the new piece ${newId} is drawn: ${onPage}`);
  for (const id of onPage) assert.ok(id === newId || diff.changed.map(String).includes(id), `${id} is in the diff`);
  // … and in GET /plan/drafts/{id}/grids
  const api = await getJson(`/plan/drafts/${draft}/grids?bbox=${bb.join(',')}`);
  const changed = api.features.filter((f) => f.properties.changed).map((f) => String(f.id)).sort();
  assert.deepEqual(changed, onPage);
  assert.ok(!api.features.some((f) => String(f.id) === grid.id && !f.properties.changed));
  // the validation layer shows no problems
  assert.equal(await page.getAttribute('#p-valid', 'data-ok'), '1', await page.textContent('#p-valid'));
  assert.deepEqual(await renderedIds(page, 'plan-issues-fill'), []);
  assert.deepEqual(await renderedIds(page, 'plan-issues-point'), []);
  // the balance table follows the edit: one grid more, the figures of GET …/balance
  assert.equal(await page.getAttribute('#p-balance', 'data-count'), String(n0 + 1));
  const bal = await getJson(`/plan/drafts/${draft}/balance`);
  const cells = await page.$$eval('#p-balance tr[data-measure=area_km2] td', (tds) => tds.map((td) => td.textContent));
  assert.equal(cells[1], bal.draft_layout.spread.area_km2.cv.toFixed(3));
  assert.equal(cells[2], bal.base_layout.spread.area_km2.cv.toFixed(3));
  assert.notEqual(cells[1], cells[2], 'the split changes the spread of areas');
  await page.locator('#planner').screenshot({ path: join(ARTIFACTS, 'planner.png') });
  if (process.env.GW_UPDATE_DOCS === '1') copyFileSync(join(ARTIFACTS, 'planner.png'), join(root, 'docs/img/planner.png'));
  await page.screenshot({ path: join(ARTIFACTS, 'planner-map.png') });

  // publish: the version changes and the published tiles show the new grid
  await page.click('#p-publish');
  await page.waitForFunction((v) => document.getElementById('p-version').dataset.version === String(v), v0 + 1, { timeout: 15000 })
    .catch(async (e) => { throw new Error(`${e.message}; panel says: ${await page.textContent('#p-msg')}`); });
  const versions1 = await getJson('/plan/versions');
  assert.equal(versions1.find((v) => v.current).version, v0 + 1);
  assert.equal((await fetch(`${base}/collections/grids/items/${encodeURIComponent(newId)}`)).status, 200);
  const pieces = [grid.id, newId].sort();
  assert.deepEqual(await renderedIdsBecome(page, 'grids-fill', ['in', ['get', 'id'], ['literal', [grid.id, newId]]], pieces), pieces, 'published tiles show both pieces');

  // roll back to the version before: the old grid is back
  await page.selectOption('#p-rb-select', String(v0));
  await page.click('#p-rollback');
  await page.waitForFunction((v) => document.getElementById('p-version').dataset.version === String(v), v0 + 2, { timeout: 15000 })
    .catch(async (e) => { throw new Error(`${e.message}; panel says: ${await page.textContent('#p-msg')}`); });
  assert.equal((await fetch(`${base}/collections/grids/items/${encodeURIComponent(newId)}`)).status, 404);
  const back = await getJson(`/collections/grids/items/${encodeURIComponent(grid.id)}`);
  assert.deepEqual(simpleRing(back.geometry), grid.ring, 'the old grid, vertex for vertex');
  assert.deepEqual(await renderedIdsBecome(page, 'grids-fill', ['in', ['get', 'id'], ['literal', [grid.id, newId]]], [grid.id]), [grid.id], 'the page shows the old grid alone');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('planner mode: refusals show the API\'s reason in the panel; labels in Chinese', async () => {
  const { grid, bb, inside, span } = await convexGrid();
  const page = await openPage('zh-CN', true);
  await page.click('#btn-planner');
  await page.waitForFunction(() => window.gw.plan.active);
  assert.equal((await page.textContent('#p-tools [data-tool=split]')).trim(), '拆分');
  assert.equal((await page.textContent('#p-tools [data-tool=move]')).trim(), '调整边界');
  assert.equal((await page.textContent('#p-tools [data-tool=merge]')).trim(), '合并');
  // without a token: creating a draft is refused (401) and the panel says so
  await page.fill('#p-new-name', 'refusals');
  await page.click('#p-create');
  await page.waitForFunction(() => /401/.test(document.getElementById('p-msg').textContent));
  await page.fill('#p-token', token);
  await page.click('#p-token-save');
  await page.click('#p-create');
  await page.waitForFunction(() => window.gw.plan.draft?.name === 'refusals' && window.gw.plan.balance);
  // a line inside the grid does not cut it: 422 with the engine's reason; the tool stays on
  const px = await frame(page, bb);
  await page.click('#p-tools [data-tool=split]');
  await page.mouse.click(...(await px(inside)));
  await page.waitForFunction((id) => window.gw.plan.picked[0] === id, grid.id);
  const a = await px([inside[0] - span / 6, inside[1]]), b = await px([inside[0] + span / 6, inside[1]]);
  await page.mouse.click(a[0], a[1]);
  await page.mouse.click(b[0], b[1]);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /422/.test(document.getElementById('p-msg').textContent), null, { timeout: 15000 });
  const msg = await page.textContent('#p-msg');
  // the page asks in Chinese, so the API's reason comes back from the catalogue in Chinese
  assert.match(msg, /错误 \(422\): 已拒绝：该线没有把网格“[^”]+”分成两部分/);
  assert.equal(await page.evaluate(() => window.gw.plan.tool), 'split');
  assert.equal(await page.evaluate(() => window.gw.plan.draft.edits), 0);
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => window.gw.plan.tool), null);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
