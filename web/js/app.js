// app.js — the map wall: MapLibre over gridwatch's own vector tiles, grids coloured by incident
// count / camera coverage / hotspot class, incidents (server clusters at low zoom), cameras and
// view wedges, police rooms and teams; filters that every incident layer and analysis fetch
// follows; live updates from /events; the legend; wall mode.  Panels live in panels.js, the hot
// spot clusters (the default hotspot view) in clusters.js, the command panel in command.js.
import * as maplibregl from '/wall/vendor/maplibre-gl.mjs';
import { setLanguage, pickLanguage, getLanguage, t, categoryLabel } from './i18n.js';
import { api, rows, flat, gridIdOf, num, toBin, iso, registerGcjProtocol, authFetch, openEvents, withAuth, accountToken, setAccountToken } from './data.js';
import { initDispatcher, initPlanner } from './panels.js';
import { initCommand } from './command.js';
import { initPlanMode } from './planner.js';
import { createTeamLayer } from './teamlayer.js';
import { clusterLayers, initClusters } from './clusters.js';
import { labelStyle, labelLayers, localIdeographFont } from './labels.js';

const CATS = { theft: '#e41a1c', dispute: '#ff7f00', traffic: '#ffd92f', fraud: '#984ea3', burglary: '#a65628',
  assault: '#f781bf', drugs: '#4daf4a', vandalism: '#377eb8' };
const OTHER = '#bbbbbb';
const TEAM = { available: '#1a9850', busy: '#f46d43', offline: '#888888' };
const HOT = { 3: '#d62f27', 2: '#ed7551', 1: '#fab984', 0: '#ffffbf', '-1': '#c0ccbe', '-2': '#849eba', '-3': '#4575b5' };
const HOT_KEYS = { 3: 'hot99', 2: 'hot95', 1: 'hot90', 0: 'ns', '-1': 'cold90', '-2': 'cold95', '-3': 'cold99' };
const COUNT_RAMP = ['#ffffcc', '#fed976', '#fd8d3c', '#e31a1c', '#800026'];
const COV_RAMP = ['#d73027', '#fee08b', '#1a9850'];
const NODATA = '#5a6680';
const BLIND = '#ff4fd8';
const DAY = 86400e3;

const state = {
  colorBy: 'count', win: '30d', custom: null, play: null, cats: new Set(Object.keys(CATS)), minSev: 1,
  anchor: Date.now(), extent: null, bounds: null,
  counts: null, countsFrom: null, countMax: 0, coverage: null, bins: null, // Map gridId -> value
  avail: { hotspots: null, coverage: null, dispatch: null, events: null, clusters: null }, hsView: 'clusters',
  gridIds: new Set(), live: new Map(), liveTeams: new Map(), hasBlind: false, config: {},
};
const gw = { state, t, ready: null, events: [] };
window.gw = gw;

function $(s) { return document.querySelector(s); }

// ---- time window -> query ---------------------------------------------------------------------

function windowRange() {
  const a = state.anchor;
  if (state.play) return [state.play.start, state.play.start + 7 * DAY - 1000];
  switch (state.win) {
    case '24h': return [a - DAY, null];
    case '7d': return [a - 7 * DAY, null];
    case '30d': return [a - 30 * DAY, null];
    case 'year': return [a - 365 * DAY, null];
    case 'custom': return state.custom || [a - 30 * DAY, null];
  }
  return [a - 30 * DAY, null];
}

export function filterQuery() {
  const [lo, hi] = windowRange();
  const q = new URLSearchParams();
  q.set('datetime', `${iso(lo)}/${hi == null ? '..' : iso(hi)}`);
  if (state.cats.size === 1) q.set('category', [...state.cats][0]);
  return q;
}

// ---- style -----------------------------------------------------------------------------------

function catColor() {
  const m = ['match', ['get', 'category']];
  for (const [c, col] of Object.entries(CATS)) m.push(c, col);
  m.push(OTHER);
  return m;
}

function gridFill() {
  if (state.colorBy === 'count') {
    if (!state.counts) return NODATA;
    const stops = ['interpolate', ['linear'], ['coalesce', ['feature-state', 'count'], 0]];
    countStops().forEach((v, i) => stops.push(v, COUNT_RAMP[i]));
    return stops;
  }
  if (state.colorBy === 'coverage') {
    if (!state.coverage) return NODATA;
    return ['case', ['==', ['typeof', ['feature-state', 'cov']], 'number'],
      ['interpolate', ['linear'], ['feature-state', 'cov'], 0, COV_RAMP[0], 0.5, COV_RAMP[1], 1, COV_RAMP[2]], NODATA];
  }
  if (!state.bins) return NODATA;
  const m = ['match', ['coalesce', ['feature-state', 'bin'], 99]];
  for (const b of [3, 2, 1, 0, -1, -2, -3]) m.push(b, HOT[b]);
  m.push(NODATA);
  return m;
}

// Ramp stops at 0 and the 25/50/75/100 % quantiles of the non-zero counts (skewed data would
// otherwise paint every grid but the busiest pale), strictly increasing.
function countStops() {
  const v = [...(state.counts?.values() || [])].filter((x) => x > 0).sort((a, b) => a - b);
  const q = (f) => (v.length ? v[Math.min(v.length - 1, Math.floor(f * (v.length - 1)))] : 0);
  const out = [0];
  for (const f of [0.25, 0.5, 0.75, 1]) out.push(Math.max(q(f), out[out.length - 1] + 1));
  return out;
}

function incidentFilter(cluster) {
  if (cluster) return ['==', ['get', 'cluster'], true];
  const f = ['all', ['!', ['has', 'cluster']], ['>=', ['coalesce', ['get', 'severity'], 5], state.minSev]];
  if (state.cats.size < Object.keys(CATS).length)
    f.push(['in', ['coalesce', ['get', 'category'], ''], ['literal', [...state.cats]]]);
  return f;
}

// A cluster's count of the selected categories (the server counts per category: count_<c>).
function clusterCount() {
  if (state.cats.size === Object.keys(CATS).length) return ['coalesce', ['get', 'count'], 1];
  const s = ['+', 0];
  for (const c of state.cats) s.push(['coalesce', ['get', 'count_' + c], 0]);
  return s;
}

function buildStyle(cityTj, incTj) {
  const sources = {
    base: { type: 'vector', tiles: cityTj.tiles, bounds: cityTj.bounds, minzoom: cityTj.minzoom ?? 0, maxzoom: cityTj.maxzoom ?? 18, promoteId: 'id' },
    inc: { type: 'vector', tiles: [incTiles(incTj.tiles[0])], bounds: incTj.bounds, minzoom: 0, maxzoom: incTj.maxzoom ?? 18, promoteId: 'id' },
    live: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    pick: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    route: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } }, // the hovered team's road route
    // the road layer as gridwatch draws it (major roads from zoom 8, every road from 12)
    roads: { type: 'vector', tiles: [`${location.origin}/tiles/roads/{z}/{x}/{y}.mvt`], bounds: cityTj.bounds, minzoom: 8, maxzoom: 16 },
  };
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': '#1b2130' } }];
  const bm = state.config.basemap;
  if (bm && bm.tiles) {
    const tiles = bm.gcj02 ? ['gcj://basemap/{z}/{x}/{y}'] : [].concat(bm.tiles);
    sources.basemap = { type: 'raster', tiles, tileSize: 256, attribution: bm.attribution || '' };
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.8 } });
  }
  const notCluster = ['!', ['has', 'cluster']];
  layers.push(
    { id: 'grids-fill', type: 'fill', source: 'base', 'source-layer': 'grids', paint: { 'fill-color': gridFill(), 'fill-opacity': 0.55 } },
    { id: 'grids-line', type: 'line', source: 'base', 'source-layer': 'grids', paint: { 'line-color': '#c8d2ea', 'line-opacity': 0.6, 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.4, 14, 1.6] } },
    { id: 'roads', type: 'line', source: 'roads', 'source-layer': 'roads', layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#8d96ad', 'line-opacity': 0.7, 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.4, 16, 3] } });
  layers.push(...clusterLayers(state.hsView === 'clusters'));
  // camera blind spots (parts of grids no camera sees), hatched; tiles without the layer draw nothing
  layers.push({ id: 'blind-spots', type: 'fill', source: 'base', 'source-layer': 'blind_spots', minzoom: 13, paint: { 'fill-pattern': 'hatch', 'fill-opacity': 0.9 } },
    { id: 'blind-spots-line', type: 'line', source: 'base', 'source-layer': 'blind_spots', minzoom: 13, paint: { 'line-color': BLIND, 'line-width': 1, 'line-dasharray': [2, 2] } });
  layers.push(
    { id: 'heatmap', type: 'heatmap', source: 'inc', 'source-layer': 'incidents', maxzoom: 16, layout: { visibility: 'none' },
      paint: { 'heatmap-weight': ['interpolate', ['linear'], clusterCount(), 0, 0, 50, 1], 'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 8, 12, 15, 30], 'heatmap-opacity': 0.75 } },
    { id: 'camera-views', type: 'fill', source: 'base', 'source-layer': 'camera_views', minzoom: 15,
      paint: { 'fill-color': ['match', ['get', 'status'], 'offline', '#777777', '#f0a020'], 'fill-opacity': 0.22, 'fill-outline-color': '#c07010' } },
    { id: 'cameras', type: 'circle', source: 'base', 'source-layer': 'cameras', minzoom: 13, filter: notCluster,
      paint: { 'circle-color': ['match', ['get', 'status'], 'offline', '#8a8a8a', '#f0c040'], 'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 1.5, 17, 4] } },
    { id: 'incident-clusters', type: 'circle', source: 'inc', 'source-layer': 'incidents', filter: incidentFilter(true),
      paint: { 'circle-color': '#d7301f', 'circle-opacity': 0.6, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 0.5,
        'circle-radius': ['interpolate', ['linear'], clusterCount(), 0, 0, 1, 2, 10, 4, 100, 8, 1000, 14, 10000, 22] } },
    { id: 'incidents', type: 'circle', source: 'inc', 'source-layer': 'incidents', filter: incidentFilter(false),
      paint: { 'circle-color': catColor(), 'circle-radius': ['interpolate', ['linear'], ['zoom'], 9, 1.5, 16, 6], 'circle-stroke-color': '#111', 'circle-stroke-width': 0.5 } },
    { id: 'police-rooms', type: 'circle', source: 'base', 'source-layer': 'police_rooms', filter: notCluster,
      paint: { 'circle-color': '#1f5fbf', 'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 4, 15, 8], 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } },
    { id: 'teams', type: 'circle', source: 'base', 'source-layer': 'teams', filter: notCluster,
      paint: { 'circle-color': teamColor(), 'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 3.5, 15, 7], 'circle-stroke-color': '#000', 'circle-stroke-width': 1,
        'circle-opacity': liveHidden(), 'circle-stroke-opacity': liveHidden() } },
    { id: 'live-highlight', type: 'circle', source: 'live', filter: ['==', ['get', 'fresh'], true],
      paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': 22, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 } },
    { id: 'live-incidents', type: 'circle', source: 'live',
      paint: { 'circle-color': catColor(), 'circle-radius': ['interpolate', ['linear'], ['zoom'], 9, 4, 16, 8], 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5 } },
    { id: 'route', type: 'line', source: 'route', layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#00e5ff', 'line-width': 4, 'line-opacity': 0.9 } },
    { id: 'pick', type: 'circle', source: 'pick', paint: { 'circle-radius': 9, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#00e5ff', 'circle-stroke-width': 3 } });
  layers.push(...labelLayers());
  return { version: 8, name: 'gridwatch wall', ...labelStyle(), sources, layers };
}

// 0 for a tile feature whose live copy is drawn (it moved since the tiles were cut), else 1
function liveHidden() { return ['case', ['boolean', ['feature-state', 'live'], false], 0, 1]; }
function teamColor() { return ['match', ['get', 'status'], 'available', TEAM.available, 'busy', TEAM.busy, 'offline', TEAM.offline, '#000000']; }

function incTiles(template) {
  const base = template.split('?')[0];
  return `${base}?${filterQuery().toString()}`;
}

// ---- analysis -------------------------------------------------------------------------------

async function loadCounts() {
  const q = filterQuery();
  const r = await api(`/analysis/hotspots?${q}`);
  state.avail.hotspots = r.ok;
  if (r.ok) {
    state.counts = new Map(); state.bins = new Map();
    for (const row of rows(r.data)) {
      const p = flat(row), id = gridIdOf(p);
      if (id == null) continue;
      const c = num(p.count, p.incidents, p.n);
      if (c !== undefined) state.counts.set(id, c);
      const b = toBin(p.class ?? p.gi_bin ?? p.bin ?? p.hotspot ?? p.category_class);
      if (b !== undefined) state.bins.set(id, b);
    }
    if (!state.bins.size) state.bins = null;
    state.countsFrom = 'hotspots';
  } else {
    state.bins = null;
    await countInPage(q);
  }
  state.countMax = state.counts ? Math.max(0, ...state.counts.values()) : 0;
}

// Without the hotspot service: count the window's incidents per grid from the items (capped).
async function countInPage(q) {
  const counts = new Map();
  let url = `/collections/incidents/items?limit=10000&${q}`;
  let seen = 0;
  while (url && seen < 100000) {
    const r = await api(url);
    if (!r.ok) { state.counts = null; return; }
    for (const f of r.data.features || []) {
      const p = f.properties || {};
      if ((p.severity ?? 5) < state.minSev || !state.cats.has(p.category)) continue;
      if (p.grid) counts.set(p.grid, (counts.get(p.grid) || 0) + 1);
    }
    seen += (r.data.features || []).length;
    const next = (r.data.links || []).find((l) => l.rel === 'next');
    url = next ? new URL(next.href, location.href).pathname + new URL(next.href, location.href).search : null;
  }
  state.counts = counts;
  state.countsFrom = 'page';
}

// Coverage is computed when the server starts (503 until then): the page asks again, and when it
// arrives reloads the tiles, whose blind spots and coverage fields were empty before.
let coverageRetry = 0;
async function loadCoverage() {
  const r = await api('/analysis/coverage');
  state.avail.coverage = r.ok;
  if (r.status === 503 && !coverageRetry) {
    const after = Math.min(Math.max(+r.headers?.get('Retry-After') || 5, 1), 30);
    coverageRetry = setTimeout(async () => {
      coverageRetry = 0;
      await loadCoverage();
      if (state.avail.coverage) { gw.coverageLate = Date.now(); reloadTiles(); applyGridStates(); }
    }, after * 1000);
  }
  if (!r.ok) { state.coverage = null; return; }
  state.coverage = new Map();
  for (const row of rows(r.data)) {
    const p = flat(row), id = gridIdOf(p);
    const v = num(p.ratio, p.coverage, p.coverage_ratio, p.covered_ratio);
    if (id != null && v !== undefined) state.coverage.set(id, v);
  }
}

function applyGridStates() {
  const map = gw.map;
  map.removeFeatureState({ source: 'base', sourceLayer: 'grids' });
  const ids = new Set([...(state.counts?.keys() || []), ...(state.coverage?.keys() || []), ...(state.bins?.keys() || [])]);
  for (const id of ids)
    map.setFeatureState({ source: 'base', sourceLayer: 'grids', id }, {
      count: state.counts?.get(id) ?? 0, cov: state.coverage?.get(id), bin: state.bins?.get(id) });
  map.setPaintProperty('grids-fill', 'fill-color', gridFill());
  renderLegend();
}

let reloadTimer = null;
export function refreshData(delay = 0) {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(async () => {
    const map = gw.map;
    map.getSource('inc').setTiles([incTiles(gw.incTemplate)]);
    for (const id of ['incidents', 'incident-clusters']) map.setFilter(id, incidentFilter(id === 'incident-clusters'));
    map.setPaintProperty('incident-clusters', 'circle-radius', ['interpolate', ['linear'], clusterCount(), 0, 0, 1, 2, 10, 4, 100, 8, 1000, 14, 10000, 22]);
    map.setPaintProperty('heatmap', 'heatmap-weight', ['interpolate', ['linear'], clusterCount(), 0, 0, 50, 1]);
    await loadCounts();
    applyGridStates();
    gw.onFilters?.();
  }, delay);
}

// ---- legend ---------------------------------------------------------------------------------

function row(color, label, dot) { return `<div class="lg-row"><span class="sw${dot ? ' dot' : ''}" style="background:${color}"></span>${label}</div>`; }
function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }

function renderLegend() {
  const h = [];
  const vis = (id) => gw.map?.getLayer(id) && gw.map.getLayoutProperty(id, 'visibility') !== 'none';
  h.push(`<h2>${t('grids')} · ${t({ count: 'byCount', coverage: 'byCoverage', hotspot: 'byHotspot' }[state.colorBy])}</h2>`);
  if (state.colorBy === 'count') {
    if (state.counts) {
      h.push(`<div class="ramp" style="background:linear-gradient(90deg,${COUNT_RAMP.join(',')})"></div><div class="ramp-l">${countStops().map((v) => `<span>${v}</span>`).join('')}</div>`);
      if (state.countsFrom === 'page') h.push(`<div class="note">${t('countedInPage')}</div>`);
    } else h.push(`<div class="note" id="lg-na">${t('byCount')}: ${t('notAvailable')}</div>`);
  } else if (state.colorBy === 'coverage') {
    if (state.coverage) h.push(`<div class="ramp" style="background:linear-gradient(90deg,${COV_RAMP.join(',')})"></div><div class="ramp-l"><span>0%</span><span>50%</span><span>100%</span></div>`);
    else h.push(`<div class="note" id="lg-na">${t('byCoverage')}: ${t('notAvailable')}</div>`);
  } else {
    if (state.bins) for (const b of [3, 2, 1, 0, -1, -2, -3]) h.push(row(HOT[b], t(HOT_KEYS[b])));
    else h.push(`<div class="note" id="lg-na">${t('byHotspot')}: ${t('notAvailable')}</div>`);
  }
  h.push(row(NODATA, t('noData')));
  if (gw.clusters) h.push(gw.clusters.legend());
  h.push(`<h2>${t('incidents')}</h2>`);
  for (const c of Object.keys(CATS)) if (state.cats.has(c)) h.push(row(CATS[c], categoryLabel(c), true));
  h.push(row(OTHER, categoryLabel('other'), true));
  h.push(row('#d7301f', `${t('clusters')} (${t('zoomIn')})`, true));
  if (vis('heatmap')) h.push(`<div class="lg-row">${t('heatmap')}</div><div class="ramp" style="background:linear-gradient(90deg,rgba(33,102,172,0),#67a9cf,#d1e5f0,#fddbc7,#ef8a62,#b2182b)"></div>`);
  h.push(`<h2>${t('cameras')}</h2>`, row('#f0c040', t('online'), true), row('#8a8a8a', t('camOffline'), true), row('#f0a020', t('views')));
  if (state.hasBlind) h.push(row(`repeating-linear-gradient(135deg,${BLIND} 0 2px,transparent 2px 6px)`, t('blindSpots')));
  h.push(`<h2>${t('rooms')}</h2>`, row('#1f5fbf', t('rooms'), true));
  h.push(`<h2>${t('teams')}</h2>`);
  for (const s of ['available', 'busy', 'offline']) h.push(row(TEAM[s], t(s), true));
  if (state.config.basemap?.gcj02) h.push(`<div class="note">${t('gcjNote')}</div>`);
  $('#legend-body').innerHTML = h.join('');
}

// ---- controls -------------------------------------------------------------------------------

const TOGGLES = [['grids', ['grids-fill', 'grids-line', 'township-labels', 'grid-labels'], true], ['heatmap', ['heatmap'], false],
  ['incidents', ['incidents', 'incident-clusters', 'live-incidents', 'live-highlight'], true],
  ['cameras', ['cameras', 'camera-views', 'blind-spots', 'blind-spots-line'], true], ['rooms', ['police-rooms', 'police-room-labels'], true], ['teams', ['teams', 'live-teams'], true]];

function initControls() {
  const map = gw.map;
  for (const r of document.querySelectorAll('input[name=colorby]'))
    r.addEventListener('change', () => { state.colorBy = r.value; applyGridStates(); });
  const wins = document.querySelectorAll('#window button');
  const mark = () => wins.forEach((b) => b.classList.toggle('on', !state.play && b.dataset.win === state.win));
  wins.forEach((b) => b.addEventListener('click', () => {
    stopPlay();
    state.win = b.dataset.win;
    $('#custom').hidden = state.win !== 'custom';
    mark();
    if (state.win !== 'custom') refreshData();
  }));
  mark();
  $('#c-apply').addEventListener('click', () => {
    const f = Date.parse($('#c-from').value), to = Date.parse($('#c-to').value);
    if (!isFinite(f)) return;
    state.custom = [f, isFinite(to) ? to + DAY - 1000 : null];
    refreshData();
  });
  $('#play').addEventListener('click', () => (state.play ? stopPlay() : startPlay()));
  const cats = $('#cats');
  cats.innerHTML = Object.keys(CATS).map((c) => `<label><input type="checkbox" value="${c}" checked> <span class="sw dot" style="background:${CATS[c]}"></span> <span data-cat="${c}">${categoryLabel(c)}</span></label>`).join('');
  cats.addEventListener('change', (e) => {
    if (e.target.checked) state.cats.add(e.target.value); else state.cats.delete(e.target.value);
    refreshData(200);
  });
  $('#severity').addEventListener('change', (e) => { state.minSev = +e.target.value; refreshData(100); });
  $('#toggles').innerHTML = TOGGLES.map(([k, , on]) => `<label><input type="checkbox" value="${k}" ${on ? 'checked' : ''}> <span data-i18n="${k}">${t(k)}</span></label>`).join('');
  $('#toggles').addEventListener('change', (e) => {
    const tg = TOGGLES.find((x) => x[0] === e.target.value);
    for (const id of tg[1]) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', e.target.checked ? 'visible' : 'none');
    renderLegend();
  });
  $('#btn-lang').addEventListener('click', () => { setLanguage(getLanguage() === 'zh-CN' ? 'en' : 'zh-CN'); relabel(); });
  $('#btn-wall').addEventListener('click', () => enterWall(true));
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') exitWall(); });
}

function relabel() {
  for (const el of document.querySelectorAll('[data-cat]')) el.textContent = categoryLabel(el.dataset.cat);
  showAsOf();
  renderLegend();
  gw.clusters?.relabel();
  gw.onLanguage?.();
}

function showAsOf() {
  const [lo, hi] = windowRange();
  const d = (ms) => new Date(ms).toISOString().slice(0, 10);
  $('#asof').textContent = `${d(lo)} – ${hi == null ? d(state.anchor) : d(hi)}`;
  $('#play-week').textContent = state.play ? d(state.play.start) : '';
}

function startPlay() {
  const [s, e] = state.extent || [state.anchor - 365 * DAY, state.anchor];
  state.play = { start: s, end: e, timer: null };
  $('#play').textContent = t('pause');
  const step = () => {
    refreshData();
    showAsOf();
    state.play.start += 7 * DAY;
    if (state.play.start > state.play.end) state.play.start = s;
  };
  step();
  state.play.timer = setInterval(step, 1500);
}

function stopPlay() {
  if (!state.play) return;
  clearInterval(state.play.timer);
  state.play = null;
  $('#play').textContent = t('play');
  refreshData();
}

// ---- wall mode ------------------------------------------------------------------------------

let wallTimer = null;
function enterWall(fullscreen) {
  document.body.classList.add('wall');
  if (fullscreen && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  const views = state.config.views?.length ? state.config.views : [{ center: 'extent' }];
  const period = 1000 * (+state.config.rotate_seconds > 0 ? +state.config.rotate_seconds : 30);
  const move = Math.min(4000, period / 3); // the camera move takes at most a third of a view's time
  let i = 0;
  const show = () => {
    const v = views[i++ % views.length], map = gw.map;
    gw.wallView = v;
    // the legend covers the right of the screen: keep the city clear of it
    const legend = $('#legend').getBoundingClientRect();
    const pad = { top: 120, bottom: 40, left: 40, right: Math.min(legend.width + 80, map.getContainer().clientWidth / 2) };
    if (v.center === 'extent' || (!v.center && v.zoom == null)) map.fitBounds(state.bounds, { padding: pad, pitch: v.pitch ?? 0, bearing: v.bearing ?? 0, duration: move });
    else map.flyTo({ center: Array.isArray(v.center) ? v.center : map.getCenter(), zoom: v.zoom ?? map.getZoom(), pitch: v.pitch ?? 0, bearing: v.bearing ?? 0, duration: move });
  };
  show();
  clearInterval(wallTimer);
  if (views.length > 1) wallTimer = setInterval(show, period);
}

function exitWall() {
  document.body.classList.remove('wall');
  clearInterval(wallTimer);
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
}

// ---- live events ----------------------------------------------------------------------------

let esBackoff = 1000;
function setLive(on, key) {
  const el = $('#live');
  el.classList.toggle('off', !on);
  el.dataset.i18n = on ? 'live' : key || 'liveOff';
  el.textContent = t(el.dataset.i18n);
}

function connectEvents() {
  const es = openEvents('/events');
  gw.es = es;
  const handler = (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch { return; }
    handleEvent(ev.type, d);
  };
  es.onopen = () => { esBackoff = 1000; state.avail.events = true; setLive(true); };
  es.onmessage = handler;
  // gridwatch's event names (api/events.h)
  for (const n of ['incident.created', 'incident.updated', 'incident.deleted', 'incident.bulk',
    'team.moved', 'team.assigned', 'team.released', 'team.created', 'team.updated', 'team.deleted', 'team.bulk',
    'grid.changed', 'camera.changed', 'police_room.changed'])
    es.addEventListener(n, handler);
  // a step of an incident's flow: not a change of the map, the command panel's business
  es.addEventListener('incident.transition', (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch { return; }
    gw.events.push({ type: ev.type, d });
    if (gw.events.length > 200) gw.events.shift();
    gw.onTransition?.(d);
  });
  // the server lost this page's place in its event window (the page was stalled): what changed
  // in between is only in the tiles and the API now
  es.addEventListener('reset', () => {
    gw.resets = (gw.resets || 0) + 1;
    gw.resetAt = Date.now();
    reloadTiles();
    refreshCountsSoon(true);
    teamSince = lastEventAt ? lastEventAt - 5000 : null;
    staleTeam(undefined);
  });
  es.onerror = async () => {
    setLive(false);
    if (es.readyState !== EventSource.CLOSED) return; // the browser retries by itself
    es.close();
    const probe = new AbortController();
    const r = await authFetch('/events', { signal: probe.signal }).catch(() => null);
    probe.abort();
    if (r && r.status === 404) { state.avail.events = false; setLive(false, 'liveNA'); setTimeout(connectEvents, 30000); return; }
    setTimeout(connectEvents, esBackoff);
    esBackoff = Math.min(esBackoff * 2, 15000);
  };
}

function layerOf(type, d) {
  const s = String(d.layer ?? d.collection ?? d.kind ?? d.entity ?? type ?? '');
  if (s.includes('incident')) return 'incidents';
  if (s.includes('team')) return 'teams';
  if (s.includes('grid')) return 'grids';
  if (s.includes('coverage') || s.includes('hotspot') || s.includes('analysis')) return 'analysis';
  return String(type).includes('incident') ? 'incidents' : String(type).includes('team') ? 'teams' : s;
}

function handleEvent(type, d) {
  if (Array.isArray(d)) { d.forEach((x) => handleEvent(type, x)); return; }
  if (!d || typeof d !== 'object') return;
  for (const k of ['changes', 'events', 'items']) if (Array.isArray(d[k])) { d[k].forEach((x) => handleEvent(type, x)); return; }
  gw.events.push({ type, d });
  lastEventAt = Date.now();
  if (gw.events.length > 200) gw.events.shift();
  const layer = layerOf(type, d);
  const f = d.feature ?? (d.type === 'Feature' ? d : d.data?.type === 'Feature' ? d.data : null);
  // a flat event ({id, lon, lat, status, …}) carries its properties at the top level
  const top = {};
  if (!f && !d.properties) for (const [k, v] of Object.entries(d)) if (!['op', 'action', 'event', 'layer', 'collection', 'kind', 'entity', 'seq', 'lon', 'lat', 'x', 'y', 'geometry', 'type'].includes(k) && typeof v !== 'object') top[k] = v;
  const props = { ...top, ...(d.properties || {}), ...(f?.properties || {}) };
  const id = f?.id ?? props.id ?? d.id ?? d.fid;
  let coords = f?.geometry?.coordinates ?? d.geometry?.coordinates;
  const lon = num(d.lon, props.lon, d.x), lat = num(d.lat, props.lat, d.y);
  if (!coords && lon !== undefined && lat !== undefined) coords = [lon, lat];
  // gridwatch's events carry the change's bbox, not the feature: an insert's box is the point,
  // a move's box spans the old and the new place (teams: the new place is fetched, see pollTeams)
  const boxOnly = !coords && Array.isArray(d.bbox) && d.bbox.length >= 4;
  const spans = boxOnly && (d.bbox[0] !== d.bbox[2] || d.bbox[1] !== d.bbox[3]);
  if (boxOnly && !spans) coords = [d.bbox[0], d.bbox[1]];
  const op = `${type ?? ''} ${d.op ?? d.action ?? d.event ?? ''}`;
  if (op.includes('bulk') || op.includes('import') || op.includes('clear')) { reloadTiles(); refreshCountsSoon(true); return; }
  if (layer === 'incidents') {
    if (op.includes('delete')) { state.live.delete(id); }
    else if (spans && id != null) { // moved: the new place only the API knows (not the box's centre)
      fillProps('incidents', id, state.live, pushLive, true);
    } else if (coords) {
      if (props.category === undefined && id != null) fillProps('incidents', id, state.live, pushLive);
      const fresh = !state.live.has(id);
      state.live.set(id, { type: 'Feature', id: undefined, geometry: { type: 'Point', coordinates: coords }, properties: { ...props, id, fresh } });
      if (state.live.size > 500) state.live.delete(state.live.keys().next().value);
      if (fresh) {
        toast(`${t('newIncident')}: ${categoryLabel(props.category ?? 'other')} ${id ?? ''}`);
        setTimeout(() => { const g = state.live.get(id); if (g) { g.properties.fresh = false; pushLive(); } }, 5000);
      }
    }
    pushLive();
    refreshCountsSoon();
  } else if (layer === 'teams' && id != null) {
    if (op.includes('delete')) { state.liveTeams.delete(id); pushTeams(id); }
    else if (boxOnly || !coords || props.status === undefined) staleTeam(id); // where and what it is now: from the API
    else { // a feed that sends the team itself
      state.liveTeams.set(id, { type: 'Feature', id, geometry: { type: 'Point', coordinates: coords }, properties: { ...state.liveTeams.get(id)?.properties, ...props, id } });
      pushTeams(id);
    }
  } else if (layer === 'grids' || layer === 'analysis') {
    refreshCountsSoon(true);
    reloadTilesSoon(); // the clusters and the grids' cluster fields follow the grids
  } else if (type === 'camera.changed' || type === 'police_room.changed') {
    reloadTilesSoon(); // the coverage fields and blind spots of the grids around it changed
    refreshCountsSoon(true);
  }
}

// Complete a live feature from the API (events name the feature, the item has its fields).
const filling = new Set();
async function fillProps(layer, id, into, push, create = false) {
  const key = `${layer}/${id}`;
  if (filling.has(key)) return;
  filling.add(key);
  const r = await api(`/collections/${layer}/items/${encodeURIComponent(id)}`);
  filling.delete(key);
  const f = into.get(id) ?? (create && r.data?.geometry?.type === 'Point' ? { type: 'Feature', properties: { id, fresh: false } } : null);
  if (!r.ok || !f || !r.data?.properties) return;
  into.set(id, { ...f, properties: { ...f.properties, ...r.data.properties, id }, geometry: r.data.geometry?.type === 'Point' ? r.data.geometry : f.geometry });
  push(id);
}

// Reload the vector tiles.  The browser keeps tiles for a minute (max-age=60), so for a while
// after a reload tile requests revalidate (cache: 'no-cache', answered 304 when the ETag still
// holds) instead of taking the copy from before the change; see transformRequest in main().
let revalidateUntil = 0, reloadSoonTimer = 0, lastEventAt = 0;
function reloadTiles() {
  revalidateUntil = Date.now() + 30000;
  for (const id of ['base', 'inc']) { const src = gw.map.getSource(id); src.setTiles([...src.tiles]); }
}
function reloadTilesSoon() {
  clearTimeout(reloadSoonTimer);
  reloadSoonTimer = setTimeout(reloadTiles, 2000); // the server recomputes the grids' coverage first
}
// Every tile request of ours carries the account's token (its jurisdiction's tiles; the server
// answers Vary: Authorization, so a copy of another account's tile is never reused).
function transformRequest(url, kind) {
  const headers = withAuth(url);
  const h = headers.Authorization ? { headers } : {};
  return kind === 'Tile' && Date.now() < revalidateUntil && url.startsWith(location.origin) ? { url, cache: 'no-cache', ...h } : { url, ...h };
}

// Teams named by events are fetched in one request per TEAM_POLL_MS (a wall needs no more): the
// teams updated since the last poll (?datetime=, the server's clock less an overlap), which are
// the moved ones at tens of moves a second; a named team not among them (its position was
// reported with an older time, or only its status changed) is fetched alone, a few per poll.
const staleTeams = new Set();
let teamPoll = 0, teamSince = null, teamPolling = false;
function staleTeam(id) {
  if (id !== undefined) staleTeams.add(String(id));
  if (!teamPoll && !teamPolling) teamPoll = setTimeout(pollTeams, TEAM_POLL_MS);
}
async function pollTeams() {
  teamPoll = 0;
  teamPolling = true;
  try {
    if (!teamSince) teamSince = await serverTime('/healthz', -5000);
    let url = `/collections/teams/items?limit=10000&datetime=${encodeURIComponent(iso(teamSince))}/..`, pages = 0, next = null;
    while (url && pages++ < 5) {
      const r = await authFetch(url).catch(() => null);
      if (!r || !r.ok) break;
      next = serverDate(r, -2000);
      const doc = await r.json().catch(() => null);
      for (const f of doc?.features || []) applyTeam(f);
      const nl = (doc?.links || []).find((l) => l.rel === 'next');
      url = nl ? new URL(nl.href, location.href).pathname + new URL(nl.href, location.href).search : null;
    }
    if (next) teamSince = next;
    let alone = 0;
    for (const id of [...staleTeams]) {
      if (alone++ >= 8) break;
      const r = await api(`/collections/teams/items/${encodeURIComponent(id)}`);
      if (r.ok && r.data?.type === 'Feature') applyTeam(r.data); else staleTeams.delete(id);
    }
  } finally {
    teamPolling = false;
    if (staleTeams.size && !teamPoll) teamPoll = setTimeout(pollTeams, TEAM_POLL_MS);
  }
}
function applyTeam(f) {
  const id = String(f.id ?? f.properties?.id);
  staleTeams.delete(id);
  if (f.geometry?.type !== 'Point') return;
  state.liveTeams.set(id, { type: 'Feature', id, geometry: f.geometry, properties: { ...f.properties, id } });
  pushTeams(id);
}
// The server's clock (its Date header) plus `delta` ms, from a response or a request to `path`.
function serverDate(r, delta) { const d = Date.parse(r.headers.get('Date') || ''); return isFinite(d) ? d + delta : null; }
async function serverTime(path, delta) {
  const r = await authFetch(path).catch(() => null);
  return (r && serverDate(r, delta)) || Date.now() + delta;
}

// Live teams: a city's fleet reports tens of positions a second.  Moves are collected and handed
// to the team layer (teamlayer.js: drawn by the page, no tile worker) every teamFlushMs(); the
// tile copy of a moved team is hidden by feature state (a filter change would re-parse every
// tile of the city source).  Events carry the team's new position;
// the poll above is for feeds that do not.
// How often: every flush is a redraw of the whole map, so the interval follows what a redraw
// costs on this machine (frameCost): 2.5 redraws' time, between 100 ms (a GPU draws the wall in
// a few ms) and 500 ms (software GL takes 130-400 ms at 1080p), i.e. at most about 40 % of the
// time goes on redrawing for team moves, and a move is drawn within a second (the wait for the
// flush, up to 500 ms, plus one redraw).
const TEAM_POLL_MS = 1000;
const teamDirty = new Set(), teamHidden = new Set();
let teamTimer = 0, lastFlush = -1e9;
function teamFlushMs() { return Math.round(Math.min(500, Math.max(100, 2.5 * frameCost.ms))); }
gw.teamFlushMs = teamFlushMs;
function pushTeams(id) {
  if (id !== undefined) teamDirty.add(id);
  // a move after a quiet spell goes out at once; under a stream of moves, one batch per interval
  if (!teamTimer) teamTimer = setTimeout(flushTeams, Math.max(0, lastFlush + teamFlushMs() - performance.now()));
}

// The time of a frame in which the map drew (ms, a moving average): measured while the map draws
// (a requestAnimationFrame loop that stops after some frames without drawing).
const frameCost = { ms: 16, n: 0 };
gw.frameCost = frameCost;
function watchFrames(map) {
  let drew = false, last = 0, quiet = 0, running = false;
  const tick = (t) => {
    if (last && drew) {
      const d = Math.min(t - last, 1000);
      frameCost.ms += (d - frameCost.ms) * (frameCost.n++ < 10 ? 0.5 : 0.1);
    }
    quiet = drew ? 0 : quiet + 1;
    drew = false, last = t;
    if (quiet < 10) requestAnimationFrame(tick);
    else running = false, last = 0;
  };
  map.on('render', () => {
    drew = true;
    // from this frame's start (the timeline's time in a frame callback) to the next frame's
    if (!running) { running = true; quiet = 0; last = document.timeline?.currentTime ?? performance.now(); requestAnimationFrame(tick); }
  });
}
function flushTeams() {
  teamTimer = 0;
  lastFlush = performance.now();
  const map = gw.map, layer = gw.teamLayer;
  for (const id of teamDirty) {
    const f = state.liveTeams.get(id);
    if (f) layer.set(id, f.geometry.coordinates[0], f.geometry.coordinates[1], f.properties.status);
    else layer.remove(id);
    const hide = !!f;
    if (hide !== teamHidden.has(id)) {
      map.setFeatureState({ source: 'base', sourceLayer: 'teams', id: String(id) }, { live: hide });
      if (hide) teamHidden.add(id); else teamHidden.delete(id);
    }
  }
  teamDirty.clear();
}

let liveFrame = 0;
function pushLive() {
  if (liveFrame) return;
  liveFrame = requestAnimationFrame(() => {
    liveFrame = 0;
    gw.map.getSource('live').setData({ type: 'FeatureCollection', features: [...state.live.values()] });
  });
}

let countTimer = null;
function refreshCountsSoon(coverage) {
  clearTimeout(countTimer);
  countTimer = setTimeout(async () => {
    gw.clusters?.load(); // a new incident counts in its cluster (the server updates it in place)
    await loadCounts();
    if (coverage) await loadCoverage();
    applyGridStates();
  }, 3000);
}

function toast(text) {
  const el = $('#toast');
  el.textContent = text;
  el.style.display = 'block';
  clearTimeout(el._t);
  el._t = setTimeout(() => { el.style.display = 'none'; }, 4000);
}
gw.toast = toast;
gw.handleEvent = handleEvent; // also for tests: feed an event as /events would

// A 12-pixel diagonal hatch (the blind-spot fill): one line per tile, transparent between.
function hatch(color) {
  const n = 12, data = new Uint8Array(n * n * 4);
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const d = Math.min((x + y) % n, n - ((x + y) % n));
    if (d > 1) continue;
    const o = (y * n + x) * 4;
    data.set([r, g, b, d === 0 ? 255 : 140], o);
  }
  return { width: n, height: n, data };
}

// ---- start ----------------------------------------------------------------------------------

// ---- the account's jurisdiction ------------------------------------------------------------

// A wall opened as /wall#token=… reads as that account; the token moves to the session at once
// (it never goes to the server in a URL) and leaves the address bar.
function takeTokenFromHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const tk = h.get('token');
  if (!tk) return;
  setAccountToken(tk.trim());
  h.delete('token');
  const rest = h.toString();
  history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
}

// The token's own jurisdiction (GET /jurisdictions "scope"): shown in the bar, and the map opens
// on its envelope.  Unscoped (or no token): the city.
async function loadScope(fit) {
  const el = $('#scope');
  const r = accountToken() ? await api('/jurisdictions') : null;
  const sc = r?.ok ? r.data?.scope : null;
  state.scope = sc && sc.path ? sc : null;
  el.hidden = !state.scope;
  if (state.scope) {
    el.textContent = `${t('cm_jurisdiction')}: ${state.scope.path.split('/').pop()}`;
    el.title = state.scope.path;
    el.dataset.path = state.scope.path;
  } else {
    delete el.dataset.path;
  }
  if (r && !r.ok) el.hidden = false, el.textContent = `${t('cm_jurisdiction')}: ${r.status === 401 ? t('tokenBad') : t('cm_unavailable')}`;
  const bb = state.scope?.bbox;
  if (fit && gw.map) {
    if (bb) gw.map.fitBounds([[bb[0], bb[1]], [bb[2], bb[3]]], { padding: 60, duration: 0, maxZoom: 16 });
    else gw.map.fitBounds(state.bounds, { padding: 40, duration: 0 });
  }
}

// Another account (the dispatcher box, or a wall's #token=): everything the map shows is read again
// as that account.
async function onAccount() {
  gw.es?.close();
  connectEvents();
  await loadScope(true);
  reloadTiles();
  const live = [...state.liveTeams.keys()]; // moves seen as the other account
  state.liveTeams.clear();
  for (const id of live) pushTeams(id);
  state.live.clear();
  pushLive();
  await Promise.all([loadCounts(), loadCoverage(), gw.clusters?.load?.()]);
  applyGridStates();
}

async function main() {
  setLanguage(pickLanguage());
  takeTokenFromHash();
  const params = new URLSearchParams(location.search);
  const cfg = await api('/wall/config.json');
  state.config = cfg.ok && cfg.data && typeof cfg.data === 'object' ? cfg.data : {};
  if (params.get('basemap')) state.config.basemap = { tiles: [params.get('basemap')], gcj02: params.get('gcj02') === '1' };
  const [city, inc, coll] = await Promise.all([api('/tiles/city.json'), api('/tiles/incidents.json'), api('/collections/incidents')]);
  if (!city.ok || !inc.ok) {
    document.body.insertAdjacentHTML('beforeend', `<div class="panel" style="top:50%;left:30%">vector tiles unavailable (${city.status})</div>`);
    throw new Error('tiles unavailable');
  }
  state.hasBlind = (city.data.vector_layers || []).some((l) => l.id === 'blind_spots');
  const ti = coll.data?.extent?.temporal?.interval?.[0];
  if (ti && ti[1]) {
    const end = Date.parse(ti[1]), start = Date.parse(ti[0]);
    if (isFinite(end) && end < Date.now()) state.anchor = end;
    if (isFinite(start) && isFinite(end)) state.extent = [start, end];
  }
  const b = city.data.bounds;
  state.bounds = [[b[0], b[1]], [b[2], b[3]]];
  gw.incTemplate = inc.data.tiles[0];
  if (state.config.basemap?.gcj02) registerGcjProtocol(maplibregl, [].concat(state.config.basemap.tiles)[0], [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]);
  const map = new maplibregl.Map({ container: 'map', style: buildStyle(city.data, inc.data), bounds: state.bounds, transformRequest,
    fitBoundsOptions: { padding: 40 }, attributionControl: false, hash: params.has('hash'),
    localIdeographFontFamily: params.has('localfont') ? params.get('localfont') || false : localIdeographFont(state.config) });
  gw.map = map;
  map.on('styleimagemissing', (e) => { if (e.id === 'hatch' && !map.hasImage('hatch')) map.addImage('hatch', hatch(BLIND)); });
  map.addControl(new maplibregl.NavigationControl(), 'bottom-left');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
  await new Promise((res) => map.once('load', res));
  // the live teams (moved since the page opened) above the tile copies, below the live incidents
  gw.teamLayer = createTeamLayer('live-teams', { ...TEAM, other: '#000000' });
  map.addLayer(gw.teamLayer, 'live-highlight');
  // where the last drawn frame showed a live team: lon/lat, and x/y in the page's CSS pixels
  // (tests, benchmarks)
  gw.teamDrawn = (id) => {
    const d = gw.teamLayer.drawn(String(id));
    if (!d) return null;
    const p = map.project([d.lon, d.lat]), box = map.getContainer().getBoundingClientRect();
    return { ...d, x: box.left + p.x, y: box.top + p.y };
  };
  watchFrames(map);
  initControls();
  showAsOf();
  renderLegend();
  gw.onFilters = showAsOf;
  gw.renderLegend = renderLegend;
  initClusters(gw, map);
  await Promise.all([loadCounts(), loadCoverage(), gw.clusters.ready]);
  applyGridStates();
  initDispatcher(gw, map);
  initPlanner(gw, map);
  initPlanMode(gw, map);
  initCommand(gw, map);
  connectEvents();
  await loadScope(true);
  window.addEventListener('gw-token', () => { gw.accountChanged = onAccount(); });
  window.addEventListener('hashchange', takeTokenFromHash);
  if (params.get('mode') === 'wall') enterWall(false);
}

gw.ready = main();
gw.ready.catch((e) => console.warn('gridwatch wall failed to start:', e));
