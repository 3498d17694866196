// ogc_html.test.mjs — the OGC API – Features HTML pages (api/routes/ogc_html.c) in Debian's
// Chromium: an items page and an item page load with no console errors, show their table, and
// their small map (web/ogc/ogc.js, MapLibre served by gridwatch, no network beyond it) draws the
// features; a browser's own Accept gets HTML from the items route; paging links keep the query.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, startCity, decodePng } from './lib.mjs';

let env, base;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  env = await startCity({ scale: 0.01 });
  ({ base } = env);
});

after(async () => { await env?.stop(); });

// A page with console errors, failed requests and requests off this server recorded.
async function open(path) {
  const ctx = await env.browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'en-US' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`${m.text()} (${m.location()?.url || ''})`); });
  page.on('pageerror', (e) => page.errors.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => page.errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) page.errors.push(`off-server request: ${r.url()}`); });
  const resp = await page.goto(base + path, { waitUntil: 'load' });
  assert.equal(resp.status(), 200, path);
  assert.match(resp.headers()['content-type'], /^text\/html/);
  await page.waitForFunction(() => window.gwOgc && window.gwOgc.ready, null, { timeout: 30000 });
  await page.evaluate(() => window.gwOgc.ready);
  return page;
}

// Features the map has drawn, and how many pixels of the map (a screenshot, what the viewer sees)
// have the features' colour (#c0392b, blended or not: red well above green and blue).
async function drawn(page) {
  const n = await page.evaluate(() => window.gwOgc.map.queryRenderedFeatures({ layers: ['features-fill', 'features-line', 'features-point'] }).length);
  const img = decodePng(await page.locator('#map').screenshot());
  let colored = 0;
  for (let y = 0; y < img.height; y += 2) {
    for (let x = 0; x < img.width; x += 2) {
      const [r, g, b] = img.pixel(x, y);
      if (r > g + 40 && r > b + 40) colored++;
    }
  }
  return { n, colored };
}

test('the items page of grids: a table, paging that keeps the query, a map with the grids', async () => {
  const page = await open('/collections/grids/items?limit=7&offset=7&f=html');
  const rows = await page.$$eval('table.items tbody tr', (trs) => trs.length);
  assert.equal(rows, 7);
  const heads = await page.$$eval('table.items thead th', (ths) => ths.map((t) => t.textContent));
  assert.ok(heads.includes('id'), heads.join());
  const next = await page.getAttribute('a[rel=next]', 'href');
  assert.match(next, /limit=7&offset=14&f=html$/);
  const prev = await page.getAttribute('a[rel=prev]', 'href');
  assert.match(prev, /limit=7&offset=0&f=html$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.ok((await page.textContent('nav[aria-label=breadcrumb]')).includes('Collections'));
  const d = await drawn(page);
  assert.ok(d.n > 0, `grids drawn: ${JSON.stringify(d)}`);
  assert.ok(d.colored > 100, `the canvas shows the grids: ${JSON.stringify(d)}`);
  await page.screenshot({ path: join(ARTIFACTS, 'ogc-items.png') });
  // following the link keeps going
  await page.click('a[rel=next]');
  await page.waitForLoadState('load');
  assert.match(page.url(), /offset=14/);
  assert.equal(await page.$$eval('table.items tbody tr', (trs) => trs.length), 7);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an incident item page: the properties table and the point on the map', async () => {
  const fc = await (await fetch(base + '/collections/incidents/items?limit=1')).json();
  const id = fc.features[0].id;
  const page = await open(`/collections/incidents/items/${encodeURIComponent(id)}?f=html`);
  const props = await page.$$eval('table.props tbody th', (ths) => ths.map((t) => t.textContent));
  for (const k of ['category', 'severity', 'occurred_at']) assert.ok(props.includes(k), props.join());
  assert.equal(await page.textContent('h1 > span[lang=zh-CN]'), '警情');
  const d = await drawn(page);
  assert.ok(d.n >= 1, `the incident drawn: ${JSON.stringify(d)}`);
  // the grids of the vector tiles around it (the server runs --anonymous-read)
  const g = await page.evaluate(() => window.gwOgc.map.queryRenderedFeatures({ layers: ['grids-line'] }).length);
  assert.ok(g > 0, `grids drawn around the incident: ${g}`);
  assert.ok(d.colored > 10, `the canvas shows it: ${JSON.stringify(d)}`);
  await page.screenshot({ path: join(ARTIFACTS, 'ogc-item.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the browser's own Accept gets the HTML page of the items route", async () => {
  const ctx = await env.browser.newContext();
  const page = await ctx.newPage();
  const resp = await page.goto(base + '/collections/incidents/items?limit=3');
  assert.match(resp.headers()['content-type'], /^text\/html/);
  assert.match(resp.headers().vary, /Accept/);
  assert.equal(await page.$$eval('table.items tbody tr', (trs) => trs.length), 3);
  await ctx.close();
});
