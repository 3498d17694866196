// clusters.test.mjs — the hot spot clusters on the wall in a real browser: they are the default
// hotspot view (the layer drawn over the grids, a legend by trend in English and in zh-CN,
// labels in the page's language), a click on a cluster shows the route's figures, a click on a
// grid its cluster count and highest risk, and whole-grid Gi* stays a switch away (and back).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, startCity, settle, jumpTo } from './lib.mjs';

let env, top;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  env = await startCity({ scale: 0.02 });
  const doc = await (await fetch(`${env.base}/analysis/hotspots/clusters`)).json();
  top = doc.features[0].properties;
});

after(async () => { await env?.stop(); });

const legendText = (page) => page.$eval('#legend-body', (el) => el.textContent);
const visibility = (page) => page.evaluate(() => ['hotspot-clusters-fill', 'hotspot-clusters-line'].map((l) => window.gw.map.getLayoutProperty(l, 'visibility') ?? 'visible'));

// Click the map at lon/lat; returns the popup's text once `sel` shows.
async function clickAt(page, lonlat, sel) {
  const at = await page.evaluate((ll) => {
    const p = window.gw.map.project(ll), box = window.gw.map.getContainer().getBoundingClientRect();
    return { x: box.left + p.x, y: box.top + p.y };
  }, lonlat);
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector(sel, { timeout: 10000 });
  return page.$eval(sel, (el) => el.textContent);
}

const cell = (page, k) => page.$eval(`.gw-popup td[data-k=${k}]`, (el) => el.textContent);

test('the clusters are the default hotspot view, with a legend and labels in English and zh-CN', async () => {
  assert.ok(top, 'the route found clusters on the test city');
  const page = await env.openPage({ locale: 'en-US' });
  assert.deepEqual(await visibility(page), ['visible', 'visible']);
  assert.equal(await page.$eval('input[name=hsview][value=clusters]', (el) => el.checked), true);
  let text = await legendText(page);
  for (const w of ['Hotspot clusters', 'New', 'Intensifying', 'Persistent', 'Diminishing', 'Sporadic']) assert.ok(text.includes(w), `legend has '${w}': ${text}`);
  assert.ok(await page.locator('.cl-label').count() > 0, 'trend labels on the map');
  await jumpTo(page, top.centre, 13);
  const drawn = await page.evaluate(() => window.gw.map.queryRenderedFeatures({ layers: ['hotspot-clusters-fill'] }).map((f) => f.properties.rank));
  assert.ok(drawn.includes(top.rank), `rank ${top.rank} drawn from the tiles: ${drawn}`);

  // a click on the top cluster: the route's figures
  await clickAt(page, top.centre, '#cl-popup');
  assert.equal(await page.$eval('#cl-popup', (el) => el.dataset.rank), String(top.rank));
  assert.equal(Number(await cell(page, 'cl_incidents')), top.incidents);
  assert.equal(Number(await cell(page, 'cl_expected')), top.expected);
  assert.equal(Number(await cell(page, 'cl_rr')), top.relative_risk);
  assert.ok(Number(await cell(page, 'cl_p')) <= 0.05);
  const trendEn = await cell(page, 'cl_trend');
  assert.equal(trendEn, { new: 'New', intensifying: 'Intensifying', persistent: 'Persistent', diminishing: 'Diminishing', sporadic: 'Sporadic' }[top.trend]);
  assert.equal(await cell(page, 'cl_recent'), top.recent ? 'yes' : 'no');
  await page.screenshot({ path: join(ARTIFACTS, 'clusters-en.png') });

  // zh-CN: legend, labels and the popup
  await page.click('#btn-lang');
  text = await legendText(page);
  for (const w of ['热点聚集区', '新出现', '加剧', '持续', '减弱', '零星']) assert.ok(text.includes(w), `legend has '${w}': ${text}`);
  const labels = await page.$$eval('.cl-label', (els) => els.map((e) => e.textContent));
  assert.ok(labels.length && labels.every((l) => ['新出现', '加剧', '持续', '减弱', '零星'].includes(l)), `labels in Chinese: ${labels.slice(0, 5)}`);
  const zh = await clickAt(page, top.centre, '#cl-popup');
  for (const w of ['事件', '预期', '相对风险']) assert.ok(zh.includes(w), `popup has '${w}': ${zh}`);
  assert.equal(Number(await cell(page, 'cl_incidents')), top.incidents);
  await page.screenshot({ path: join(ARTIFACTS, 'clusters-zh.png') });
  await page.click('#btn-lang'); // back to English
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('whole-grid Gi* is a switch away, and back; grids tell their clusters', async () => {
  const page = await env.openPage({ locale: 'en-US' });
  await jumpTo(page, top.centre, 13);
  await page.check('input[name=hsview][value=gistar]');
  await page.waitForFunction(() => window.gw.state.hsView === 'gistar');
  assert.deepEqual(await visibility(page), ['none', 'none']);
  assert.equal(await page.$eval('input[name=colorby][value=hotspot]', (el) => el.checked), true, 'grids coloured by Gi*');
  assert.equal(await page.locator('#lg-clusters').count(), 0);
  assert.ok((await legendText(page)).includes('Hot 99%'), 'the Gi* legend');
  assert.equal(await page.locator('.cl-label').count(), 0);
  await settle(page);
  // with the clusters hidden a click lands on the grid: its cluster count and highest risk
  await clickAt(page, top.centre, '#grid-popup');
  assert.ok(Number(await cell(page, 'cl_count')) >= 1);
  assert.ok(Number(await cell(page, 'cl_maxRR')) >= top.relative_risk - 0.01);
  // and back to the clusters
  await page.check('input[name=hsview][value=clusters]');
  await page.waitForFunction(() => window.gw.state.hsView === 'clusters');
  assert.deepEqual(await visibility(page), ['visible', 'visible']);
  assert.equal(await page.$eval('input[name=colorby][value=count]', (el) => el.checked), true);
  assert.equal(await page.locator('#lg-clusters').count(), 1);
  assert.ok(await page.locator('.cl-label').count() > 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
