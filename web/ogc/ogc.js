// ogc.js — the small map of gridwatch's OGC API – Features HTML pages (api/routes/ogc_html.c):
// the page's features (the JSON data block #gw-data, the same GeoJSON the JSON alternate gives)
// over a plain background (and the grids of gridwatch's vector tiles when open to the page), with the MapLibre GL JS the wall uses, served by gridwatch itself (no
// CDN, no tiles from the internet: it works offline).  window.gwOgc.ready resolves once the
// features have been drawn, for the browser tests.
import * as maplibregl from '/wall/vendor/maplibre-gl.mjs';

const COLOR = '#c0392b';

function bounds(geojson) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  const feats = geojson.type === 'FeatureCollection' ? geojson.features : [geojson];
  for (const f of feats) if (f && f.geometry && f.geometry.coordinates) walk(f.geometry.coordinates);
  return Number.isFinite(b[0]) ? b : null;
}

function draw() {
  const el = document.getElementById('map');
  const block = document.getElementById('gw-data');
  if (!el || !block) return Promise.resolve(null);
  const data = JSON.parse(block.textContent);
  const box = bounds(data);
  // the grids of gridwatch's own vector tiles as the background, when the server lets the page
  // fetch them without a token (data-grids is set then)
  const grids = el.dataset.grids;
  const gridSource = grids ? { grids: { type: 'vector', tiles: [grids], minzoom: 8, maxzoom: 16 } } : {};
  const gridLayers = grids ? [
    { id: 'grids-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.6 } },
    { id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids', paint: { 'line-color': '#9aa6b8', 'line-width': 0.8 } },
  ] : [];
  const map = new maplibregl.Map({
    container: el,
    style: {
      version: 8,
      sources: { features: { type: 'geojson', data }, ...gridSource },
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } },
        ...gridLayers,
        { id: 'features-fill', type: 'fill', source: 'features', filter: ['==', ['geometry-type'], 'Polygon'],
          paint: { 'fill-color': COLOR, 'fill-opacity': 0.15 } },
        { id: 'features-line', type: 'line', source: 'features',
          filter: ['any', ['==', ['geometry-type'], 'Polygon'], ['==', ['geometry-type'], 'LineString']],
          paint: { 'line-color': COLOR, 'line-width': 1.5 } },
        { id: 'features-point', type: 'circle', source: 'features', filter: ['==', ['geometry-type'], 'Point'],
          paint: { 'circle-color': COLOR, 'circle-radius': 5, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } },
      ],
    },
    bounds: box && (box[2] - box[0] > 1e-6 || box[3] - box[1] > 1e-6) ? [[box[0], box[1]], [box[2], box[3]]] : undefined,
    center: box ? [box[0], box[1]] : [0, 0],
    zoom: box ? 14 : 1,
    fitBoundsOptions: { padding: 24, maxZoom: 17 },
    attributionControl: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.gwOgc.map = map;
  return new Promise((resolve) => map.once('idle', () => resolve(map)));
}

window.gwOgc = { map: null, ready: null };
window.gwOgc.ready = draw();
