// clusters.js — the hot spot clusters on the wall (the default hotspot view): their circles from
// the city tiles' hotspot_clusters layer, filled and outlined by trend, each labelled with its
// trend in the page's language, a click showing incidents, expected, relative risk, p, trend and
// whether it is new this month; a click on a grid shows the clusters touching it.  Whole-grid
// Gi* stays a choice (the hotspot view switch), which hides the clusters and colours the grids.
import * as maplibregl from '/wall/vendor/maplibre-gl.mjs';
import { t } from './i18n.js';
import { api } from './data.js';

export const TREND = { new: '#ff4fd8', intensifying: '#ff3b30', persistent: '#ff9f1a', diminishing: '#4fa3ff', sporadic: '#d0d0d0' };
const TRENDS = Object.keys(TREND);
const LABELS = 80; // labels for the first clusters by rank (DOM markers: a few dozen stay cheap)

function esc(s) { return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }
function trendColor() { return ['match', ['get', 'trend'], ...TRENDS.flatMap((k) => [k, TREND[k]]), '#ffffff']; }

// The style layers (over the grids, under the points); hidden when `visible` is false.
export function clusterLayers(visible) {
  const layout = { visibility: visible ? 'visible' : 'none' };
  return [
    { id: 'hotspot-clusters-fill', type: 'fill', source: 'base', 'source-layer': 'hotspot_clusters', layout,
      paint: { 'fill-color': trendColor(), 'fill-opacity': ['match', ['get', 'trend'], 'sporadic', 0.15, 'diminishing', 0.2, 0.33] } },
    { id: 'hotspot-clusters-line', type: 'line', source: 'base', 'source-layer': 'hotspot_clusters', layout: { ...layout },
      paint: { 'line-color': trendColor(), 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.5, 14, 3.5] } },
  ];
}

export function initClusters(gw, map) {
  const state = gw.state;
  state.hsView = state.hsView || 'clusters';
  const markers = [];
  let list = [], popup = null;

  function visible() { return state.hsView === 'clusters'; }

  async function load() {
    const r = await api('/analysis/hotspots/clusters');
    state.avail.clusters = r.ok;
    list = r.ok ? (r.data.features || []).filter((f) => f.properties?.centre) : [];
    draw();
  }

  function draw() {
    for (const m of markers) m.remove();
    markers.length = 0;
    if (!visible()) return;
    for (const f of list.slice(0, LABELS)) {
      const p = f.properties, el = document.createElement('div');
      el.className = 'cl-label';
      el.dataset.rank = p.rank;
      el.dataset.trend = p.trend;
      el.style.borderColor = TREND[p.trend] || '#fff';
      el.textContent = t('trend_' + p.trend);
      markers.push(new maplibregl.Marker({ element: el, anchor: 'bottom' }).setLngLat(p.centre).addTo(map));
    }
  }

  function legend() {
    if (!visible()) return '';
    const h = [`<h2 id="lg-clusters">${t('hotspotClusters')}</h2>`];
    if (state.avail.clusters === false) h.push(`<div class="note">${t('hotspotClusters')}: ${t('notAvailable')}</div>`);
    for (const k of TRENDS)
      h.push(`<div class="lg-row" data-trend="${k}"><span class="sw" style="background:${TREND[k]}55;border:2px solid ${TREND[k]}"></span>${t('trend_' + k)}</div>`);
    return h.join('');
  }

  function setView(v) {
    state.hsView = v === 'gistar' ? 'gistar' : 'clusters';
    for (const id of ['hotspot-clusters-fill', 'hotspot-clusters-line'])
      if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible() ? 'visible' : 'none');
    const radio = document.querySelector(`input[name=hsview][value=${state.hsView}]`);
    if (radio) radio.checked = true;
    // whole-grid Gi* is the grids' hotspot colouring; the clusters view gives the grids back their count
    const want = state.hsView === 'gistar' ? 'hotspot' : state.colorBy === 'hotspot' ? 'count' : null;
    const cb = want && document.querySelector(`input[name=colorby][value=${want}]`);
    if (cb && !cb.checked) { cb.checked = true; cb.dispatchEvent(new Event('change', { bubbles: true })); }
    popup?.remove();
    draw();
    gw.renderLegend?.();
  }

  function row(k, v) { return `<tr><th>${t(k)}</th><td data-k="${k}">${esc(v)}</td></tr>`; }
  function fmt(v, d) { const x = Number(v); return Number.isFinite(x) ? x.toFixed(d) : '–'; }

  function show(lngLat, html) {
    popup?.remove();
    popup = new maplibregl.Popup({ closeButton: true, maxWidth: '320px', className: 'gw-popup' }).setLngLat(lngLat).setHTML(html).addTo(map);
  }

  map.on('click', (e) => {
    if (!document.getElementById('dispatch').hidden || gw.plan?.active) return; // their clicks
    const layers = ['hotspot-clusters-fill'].filter((l) => map.getLayer(l) && visible());
    const c = layers.length ? map.queryRenderedFeatures(e.point, { layers })[0] : null;
    if (c) {
      const p = c.properties;
      show(e.lngLat, `<div id="cl-popup" data-rank="${esc(p.rank)}"><b>${t('hotspotClusters')} #${esc(p.rank)}</b>` +
        `<span class="cl-trend" style="color:${TREND[p.trend] || '#fff'}"> ${esc(t('trend_' + p.trend))}</span><table>` +
        row('cl_incidents', fmt(p.incidents, 0)) + row('cl_expected', fmt(p.expected, 1)) + row('cl_rr', fmt(p.relative_risk, 2)) +
        row('cl_p', p.p) + row('cl_trend', t('trend_' + p.trend)) + row('cl_recent', t(p.recent === true || p.recent === 'true' ? 'yes' : 'no')) +
        '</table></div>');
      return;
    }
    const g = map.getLayer('grids-fill') ? map.queryRenderedFeatures(e.point, { layers: ['grids-fill'] })[0] : null;
    if (!g) { popup?.remove(); return; }
    const p = g.properties;
    show(e.lngLat, `<div id="grid-popup" data-id="${esc(p.id)}"><b>${t('grid')} ${esc(p.name ?? '')}</b> <code>${esc(p.id)}</code><table>` +
      row('cl_count', p.clusters ?? 0) + row('cl_maxRR', p.cluster_rr != null ? fmt(p.cluster_rr, 2) : '–') + '</table></div>');
  });

  document.getElementById('hsview')?.addEventListener('change', (e) => setView(e.target.value));
  gw.clusters = { load, setView, legend, relabel: () => { draw(); popup?.remove(); }, list: () => list, ready: load() };
  return gw.clusters;
}
