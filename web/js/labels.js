// labels.js — the wall's labels and symbols: glyphs and sprite from gridwatch itself (no Internet:
// GET /fonts/{fontstack}/{range}.pbf, /sprite.json …), and the label layers of the style
// (township names at middle zooms, grid names and road names close in, police-room names with
// their icon),
// light text with a dark halo for the wall's dark background, MapLibre's collision thinning
// them.  config.json's "labels" says whether Chinese ideographs come from the server's glyphs
// (default: a wall PC without CJK fonts still shows them) or are drawn with a font of the wall
// PC ("local_ideograph_font": "Microsoft YaHei", which saves the glyph downloads).

export const FONT = ['Noto Sans CJK SC Regular'];
export const FONT_BOLD = ['Noto Sans CJK SC Bold'];
const TEXT = '#e8ecf6';
const HALO = '#141925';

// Style-level properties: where glyphs and the sprite are.
export function labelStyle() {
  return { glyphs: `${location.origin}/fonts/{fontstack}/{range}.pbf`, sprite: `${location.origin}/sprite` };
}

// The Map option for CJK: false (every glyph from the server), or the local font family.
export function localIdeographFont(config) {
  const l = config?.labels?.local_ideograph_font;
  return typeof l === 'string' && l.trim() ? l : false;
}

// The label layers, in drawing order (above the grids and points: labels stay readable).
export function labelLayers() {
  const halo = { 'text-color': TEXT, 'text-halo-color': HALO, 'text-halo-width': 1.6, 'text-halo-blur': 0.4 };
  return [
    // township names: one per grid at zooms 10-13 (the tiles carry township from zoom 10); the
    // big padding lets collision keep about one per township
    { id: 'township-labels', type: 'symbol', source: 'base', 'source-layer': 'grids', minzoom: 10, maxzoom: 13,
      filter: ['has', 'township'],
      layout: { 'text-field': ['get', 'township'], 'text-font': FONT_BOLD, 'text-size': 14, 'text-padding': 110,
        'text-max-width': 8 },
      paint: { ...halo, 'text-opacity': 0.9 } },
    // grid names close in (a grid is then large enough to hold its name)
    { id: 'grid-labels', type: 'symbol', source: 'base', 'source-layer': 'grids', minzoom: 13,
      filter: ['has', 'name'],
      layout: { 'text-field': ['get', 'name'], 'text-font': FONT,
        'text-size': ['interpolate', ['linear'], ['zoom'], 13, 11, 17, 14], 'text-max-width': 7, 'text-padding': 4 },
      paint: { ...halo, 'text-color': '#cfd8ee' } },
    // road names along their lines, close in (the roads source: /tiles/roads/…)
    { id: 'road-labels', type: 'symbol', source: 'roads', 'source-layer': 'roads', minzoom: 13,
      filter: ['has', 'name'],
      layout: { 'symbol-placement': 'line', 'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 11,
        'symbol-spacing': 300 },
      paint: { ...halo, 'text-color': '#d9dfeb' } },
    // police rooms: the icon close in, the name beside it from zoom 11
    { id: 'police-room-labels', type: 'symbol', source: 'base', 'source-layer': 'police_rooms', minzoom: 11,
      filter: ['all', ['!', ['has', 'cluster']], ['has', 'name']],
      layout: { 'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 12,
        'text-variable-anchor': ['left', 'right', 'top', 'bottom'], 'text-radial-offset': 1.1, 'text-justify': 'auto',
        'icon-image': ['step', ['zoom'], '', 14, 'police-room'], 'icon-size': ['interpolate', ['linear'], ['zoom'], 14, 0.8, 17, 1.1],
        'icon-allow-overlap': true, 'text-optional': true, 'symbol-sort-key': 0 },
      paint: { ...halo, 'text-color': '#bcd4ff' } },
  ];
}
