// command.test.mjs — the wall's command panel (issue 18) in a real browser: a township's
// dispatcher token sees its township (the selector, the map fitted to its grids, its overdue
// incidents, its figures), an incident walked through the flow over HTTP shows its whole history
// as a timeline, a transition event refreshes the panel, the labels switch language, and a root
// token's selector lists every county.  Expectations come from `gridwatch jurisdictions --json`,
// the test's own transitions and the items route, not from the panel's code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ARTIFACTS, startCity, settle } from './lib.mjs';

let env, base, tmp, rootToken, townToken, townPath, jlist, incId, incAt, townBox, townIncidents;
const NOTE = 'needs the township: two villages involved';

const tokenFor = (db, args) => execFileSync(BIN, ['token', 'create', db, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/).pop();
const within = (p, s) => p === s || p.startsWith(s + '/');
const bearer = (tk) => ({ Authorization: `Bearer ${tk}` });

async function transition(tk, id, body) {
  const r = await fetch(`${base}/incidents/${encodeURIComponent(id)}/transitions`, { method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...bearer(tk) } });
  const doc = await r.json();
  assert.equal(r.status, 201, `${body.action}: ${JSON.stringify(doc)}`);
  return doc;
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'gw-command-'));
  const db = join(tmp, 'city.db');
  execFileSync(BIN, ['gen-city', db, '--scale', '0.02'], { stdio: 'pipe' });
  // an accepted incident waits 1 s for 'assign' (any category, any level): overdue at once
  execFileSync('sqlite3', [db, "INSERT INTO flow_deadlines (category, level, action, seconds) VALUES ('', 0, 'assign', 1)"]);
  // and the generated history (up to two years old, never accepted) is given ten years to be
  // accepted, so that the walked incident is the only overdue one (an incident never accepted
  // within its deadline is overdue from its report: the list would hold the city's history)
  execFileSync('sqlite3', [db, "INSERT INTO flow_deadlines (category, level, action, seconds) VALUES ('', 0, 'accept', 315360000)"]);
  jlist = JSON.parse(execFileSync(BIN, ['jurisdictions', db, '--json'], { encoding: 'utf8' })).jurisdictions;
  // the township with the most grids (it has incidents); its name recurs in other counties
  townPath = jlist.filter((j) => j.level === 3).sort((a, b) => b.grids - a.grids)[0].path;
  townToken = tokenFor(db, ['--role', 'dispatcher', '--jurisdiction', townPath, '--name', 'township-cmd']);
  env = await startCity({ db });
  ({ base, token: rootToken } = env);
  // an incident of the township (the scoped items route) of the data's last week (the wall
  // draws the last 30 days), and the township's grids' box
  townIncidents = (await (await fetch(`${base}/collections/incidents/items?limit=1`, { headers: bearer(townToken) })).json()).numberMatched;
  const end = Date.parse((await (await fetch(`${base}/collections/incidents`)).json()).extent.temporal.interval[0][1]);
  const since = new Date(Math.min(end, Date.now()) - 7 * 86400e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const items = await (await fetch(`${base}/collections/incidents/items?limit=1&datetime=${since}/..`, { headers: bearer(townToken) })).json();
  assert.ok(items.features.length, `the township has incidents since ${since}`);
  incId = String(items.features[0].id);
  incAt = items.features[0].geometry.coordinates;
  townBox = [Infinity, Infinity, -Infinity, -Infinity];
  for (const f of (await (await fetch(`${base}/collections/grids/items?limit=10000`, { headers: bearer(rootToken) })).json()).features) {
    const p = f.properties, path = [p.prefecture, p.county, p.township, p.village].filter(Boolean).join('/');
    if (!within(path, townPath)) continue;
    const walk = (c) => (typeof c[0] === 'number' ? [[c[0], c[1]]] : c.flatMap(walk));
    for (const [x, y] of walk(f.geometry.coordinates)) {
      townBox = [Math.min(townBox[0], x), Math.min(townBox[1], y), Math.max(townBox[2], x), Math.max(townBox[3], y)];
    }
  }
  // the flow: accepted in its village, escalated to the township with a note, accepted there
  let d = await transition(rootToken, incId, { action: 'accept' });
  assert.deepEqual([d.state, d.level], ['accepted', 4]);
  d = await transition(rootToken, incId, { action: 'escalate', note: NOTE });
  assert.deepEqual([d.state, d.level], ['escalated', 3]);
  d = await transition(townToken, incId, { action: 'accept' });
  assert.deepEqual([d.state, d.level], ['accepted', 3]);
  await new Promise((r) => setTimeout(r, 1500)); // past the 1 s deadline
});

after(async () => {
  await env?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// Save a token in the dispatcher box (the panel's token) and open the command panel.
async function openCommand(tk) {
  const page = await env.openPage();
  await page.click('#btn-dispatch');
  await page.fill('#d-token', tk);
  await page.click('#d-save');
  await page.click('#btn-dispatch');
  await page.click('#btn-command');
  await page.waitForFunction(() => window.gw.command.selected !== null && window.gw.command.overdue && !window.gw.command.busy(), null, { timeout: 20000 });
  return page;
}

const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent.trim()));

test('a township token: its township by default and nothing outside, its overdue incident, the flow as a timeline, both languages', async () => {
  const page = await openCommand(townToken);
  // the selector: the township, then its villages, in tree order; no "all", nothing outside
  const opts = await page.$$eval('#c-juris option', (os) => os.map((o) => o.value));
  const want = jlist.map((j) => j.path).filter((p) => within(p, townPath));
  assert.ok(want.length >= 2, `the township has villages: ${want}`);
  assert.deepEqual([...opts].sort(), [...want].sort());
  assert.equal(opts[0], townPath, 'the township first');
  assert.equal(await page.inputValue('#c-juris'), townPath);
  // the map fitted to the township's grids
  await settle(page);
  const view = await page.evaluate(() => { const b = window.gw.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; });
  const eps = 1e-3;
  assert.ok(view[0] <= townBox[0] + eps && view[1] <= townBox[1] + eps && view[2] >= townBox[2] - eps && view[3] >= townBox[3] - eps,
    `the view ${view} holds the township ${townBox}`);
  const city = await page.evaluate(() => window.gw.state.bounds.flat());
  assert.ok(view[2] - view[0] < 0.9 * (city[2] - city[0]) || view[3] - view[1] < 0.9 * (city[3] - city[1]), `zoomed in from the city ${city} to ${view}`);

  // the overdue list: exactly the walked incident, accepted at the township, waiting for assign
  const rows = await page.$$eval('#c-overdue-table tbody tr', (trs) => trs.map((tr) => [tr.dataset.id, ...[...tr.cells].map((c) => c.textContent.trim())]));
  assert.equal(rows.length, 1, JSON.stringify(rows));
  const [id, idCell, st, lv, act, late] = rows[0];
  assert.deepEqual([id, idCell, st, lv, act], [incId, incId, 'Accepted', 'Township', 'Assign']);
  assert.match(late, /^\d+ (s|min( \d+ s)?)$/, `overdue by '${late}'`);

  // the figures of the township: its incidents (the scoped items' count), one escalated
  const figs = Object.fromEntries(await page.$$eval('#c-figures-table tr', (trs) => trs.map((tr) => [tr.dataset.k, tr.cells[1].textContent.trim()])));
  assert.equal(figs.incidents, String(townIncidents));
  assert.ok(townIncidents > 100, `incidents of the township: ${townIncidents}`);
  assert.equal(figs.escalation, `${(100 / townIncidents).toPrecision(2)}%`, 'one escalated incident');
  assert.match(figs.accept, /\d+ (d|h|min|s)/);
  assert.equal(figs.close, '–', 'nothing closed');

  // a click on the row: the map flies there, the timeline has every step in order
  await page.click(`#c-overdue-table tr[data-id="${incId}"]`);
  await page.waitForSelector('#c-timeline li[data-seq]', { timeout: 10000 });
  await page.waitForFunction((c) => { const m = window.gw.map, x = m.getCenter(); return !m.isMoving() && Math.abs(x.lng - c[0]) < 1e-4 && Math.abs(x.lat - c[1]) < 1e-4; },
    incAt, { timeout: 10000 });
  await settle(page);
  const steps = await page.$$eval('#c-timeline li[data-seq]', (lis) => lis.map((li) => [li.dataset.action, li.dataset.state, +li.dataset.level, li.classList.contains('c-current')]));
  assert.deepEqual(steps, [['accept', 'accepted', 4, false], ['escalate', 'escalated', 3, false], ['accept', 'accepted', 3, true]]);
  const lines = await texts(page, '#c-timeline li');
  assert.match(lines[0], /^Reported · Village$/);
  assert.match(lines[1], /^Accept → Accepted · Village/);
  assert.match(lines[2], /^Escalate → Escalated · Village → Township/);
  assert.ok(lines[2].includes(NOTE), 'the escalation note');
  assert.ok(lines[1].includes('browser-test') && lines[3].includes('township-cmd'), `the actors: ${lines}`);
  assert.ok(lines[3].includes(townPath), 'the township account acted');
  assert.equal((await page.textContent('#c-flow-state')).trim(), 'Accepted');
  assert.deepEqual(await texts(page, '#c-flow-levels .c-hi'), ['Township']);
  const center = await page.evaluate(() => window.gw.map.getCenter().toArray());
  assert.ok(Math.abs(center[0] - incAt[0]) < 1e-4 && Math.abs(center[1] - incAt[1]) < 1e-4, `flew to ${incAt}: ${center}`);
  await page.screenshot({ path: join(ARTIFACTS, 'command.png') });

  // the language switch relabels the panel
  await page.click('#btn-lang');
  assert.equal((await page.textContent('#command h2')).trim(), '指挥');
  const zh = await page.$$eval('#c-overdue-table tbody tr td', (tds) => tds.map((c) => c.textContent.trim()));
  assert.deepEqual(zh.slice(1, 4), ['已受理', '乡镇', '派遣']);
  assert.match(zh[4], /^\d+(秒|分( \d+秒)?)$/, `overdue by '${zh[4]}'`);
  const zlines = await texts(page, '#c-timeline li');
  assert.match(zlines[0], /^已上报 · 村$/);
  assert.match(zlines[2], /^上报上级 → 已上报上级 · 村 → 乡镇/);
  assert.deepEqual(await texts(page, '#c-flow-levels .c-hi'), ['乡镇']);
  assert.equal(await page.$eval('#c-figures-table tr[data-k=incidents] th', (e) => e.textContent.trim()), '警情数');
  assert.ok((await page.textContent('#c-overdue-table thead')).includes('待办动作'));
  await page.screenshot({ path: join(ARTIFACTS, 'command-zh.png') });
  await page.click('#btn-lang');
  assert.equal((await page.textContent('#command h2')).trim(), 'Command');

  // a transition over HTTP: the incident.transition event refreshes the list and the timeline
  // (well before the 15 s poll)
  await page.waitForFunction(() => window.gw.es?.readyState === 1, null, { timeout: 10000 });
  const t0 = Date.now();
  await transition(townToken, incId, { action: 'resolve' });
  await page.waitForFunction(() => document.querySelectorAll('#c-timeline li[data-seq]').length === 4, null, { timeout: 8000 });
  await page.waitForFunction(() => !document.querySelector('#c-overdue-table'), null, { timeout: 8000 });
  assert.ok(Date.now() - t0 < 10000);
  assert.equal(await page.$eval('#c-timeline li.c-current', (li) => li.dataset.action), 'resolve');
  assert.equal((await page.textContent('#c-overdue-count')).trim(), '0 overdue');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a root token: every county in the selector, "all" by default; a click on the map shows an incident\'s flow', async () => {
  const page = await openCommand(rootToken);
  const opts = await page.$$eval('#c-juris option', (os) => os.map((o) => o.value));
  assert.equal(await page.inputValue('#c-juris'), '');
  assert.equal(opts.length, jlist.length + 1, 'every jurisdiction and "all"');
  const counties = jlist.filter((j) => j.level === 2).map((j) => j.path);
  assert.ok(counties.length >= 2);
  for (const c of counties) assert.ok(opts.includes(c), `county ${c} listed`);
  // picking the township filters the figures to its row
  await page.selectOption('#c-juris', townPath);
  await page.waitForFunction((p) => window.gw.command.selected === p && window.gw.command.overdue?.jurisdiction === p, townPath, { timeout: 10000 });
  assert.equal(await page.$eval('#c-figures-table tr[data-k=incidents] td', (e) => e.textContent.trim()), String(townIncidents));
  // the walked incident on the map: a click shows its flow
  await settle(page);
  await page.evaluate(([c]) => window.gw.map.jumpTo({ center: c, zoom: 17 }), [incAt]);
  await settle(page);
  const box = await page.locator('#map').boundingBox();
  const pt = await page.evaluate((c) => window.gw.map.project(c), incAt);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
  await page.waitForFunction((id) => document.querySelector('#c-flow-id')?.textContent === id, incId, { timeout: 10000 });
  const hist = await (await fetch(`${base}/incidents/${encodeURIComponent(incId)}/transitions`, { headers: bearer(rootToken) })).json();
  assert.ok(hist.transitions.length >= 3);
  assert.deepEqual(await page.$$eval('#c-timeline li[data-seq]', (lis) => lis.map((li) => li.dataset.action)), hist.transitions.map((x) => x.action));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
