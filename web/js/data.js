// data.js — talking to gridwatch: fetch helpers that never throw, tolerant readers for the
// analysis/dispatch answers (their shapes are still settling), times, areas, and the GCJ-02
// offset for Chinese web basemaps.

// The account of this page: a token kept for the browser session (entered in the dispatcher box,
// or given to a wall as /wall#token=…, which never reaches a server log).  Every request of the
// page to gridwatch carries it, so a scoped account's map, counts and events are its
// jurisdiction's; a request that names its own Authorization (the planner's) keeps it.
export const TOKEN_KEY = 'gw.token';
export function accountToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}
export function setAccountToken(tk) {
  try { if (tk) sessionStorage.setItem(TOKEN_KEY, tk); else sessionStorage.removeItem(TOKEN_KEY); } catch { /* private mode */ }
  window.dispatchEvent(new Event('gw-token'));
}
function ours(url) {
  try { return new URL(url, location.href).origin === location.origin; } catch { return false; }
}
export function withAuth(url, headers = {}) {
  const tk = accountToken();
  if (!tk || !ours(url) || Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) return headers;
  return { ...headers, Authorization: `Bearer ${tk}` };
}
// fetch() with the account's token (same origin only).
export function authFetch(url, opts = {}) {
  return fetch(url, { ...opts, headers: withAuth(url, opts.headers || {}) });
}

// Server-sent events with the account's token.  EventSource cannot send a header, so with a token
// the stream is read through fetch (same event names, ids, Last-Event-ID on reconnect, retry);
// without one the browser's EventSource is used.
export function openEvents(url) {
  return accountToken() ? new FetchEventSource(url) : new EventSource(url);
}
class FetchEventSource {
  constructor(url) {
    this.url = url;
    this.readyState = 0; // CONNECTING, as EventSource
    this.retry = 3000;
    this.lastId = '';
    this.handlers = new Map();
    this.ctl = new AbortController();
    this.onopen = this.onmessage = this.onerror = null;
    this.run();
  }
  addEventListener(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(fn);
  }
  close() { this.readyState = 2; this.ctl.abort(); }
  dispatch(type, data, id) {
    const ev = { type, data, lastEventId: id };
    if (type === 'message') this.onmessage?.(ev);
    for (const fn of this.handlers.get(type) || []) fn(ev);
  }
  async run() {
    while (this.readyState !== 2) {
      try {
        const headers = withAuth(this.url, { Accept: 'text/event-stream', ...(this.lastId ? { 'Last-Event-ID': this.lastId } : {}) });
        const r = await fetch(this.url, { headers, signal: this.ctl.signal, cache: 'no-store' });
        if (!r.ok || !(r.headers.get('Content-Type') || '').includes('text/event-stream')) {
          this.status = r.status;
          this.readyState = 2; // as EventSource: a wrong answer is not retried
          this.onerror?.({ type: 'error' });
          return;
        }
        this.readyState = 1;
        this.onopen?.({ type: 'open' });
        const rd = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '', type = '', data = [];
        for (;;) {
          const { value, done } = await rd.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.search(/\r\n|\r|\n/)) >= 0) {
            if (buf[i] === '\r' && i === buf.length - 1) break; // maybe half of "\r\n"
            const line = buf.slice(0, i);
            buf = buf.slice(i + (buf[i] === '\r' && buf[i + 1] === '\n' ? 2 : 1));
            if (line === '') {
              if (data.length) this.dispatch(type || 'message', data.join('\n'), this.lastId);
              type = '', data = [];
              continue;
            }
            if (line[0] === ':') continue;
            const c = line.indexOf(':');
            const field = c < 0 ? line : line.slice(0, c);
            let v = c < 0 ? '' : line.slice(c + 1);
            if (v[0] === ' ') v = v.slice(1);
            if (field === 'data') data.push(v);
            else if (field === 'event') type = v;
            else if (field === 'id' && !v.includes('\0')) this.lastId = v;
            else if (field === 'retry' && /^\d+$/.test(v)) this.retry = +v;
          }
        }
      } catch { /* a dropped connection: retried below */ }
      if (this.readyState === 2) return;
      this.readyState = 0;
      this.onerror?.({ type: 'error' });
      await new Promise((res) => setTimeout(res, this.retry));
    }
  }
}

export async function api(path, opts = {}) {
  try {
    const r = await fetch(path, { ...opts, headers: withAuth(path, opts.headers || {}) });
    let data = null;
    const type = r.headers.get('Content-Type') || '';
    if (r.status !== 204 && type.includes('json')) data = await r.json().catch(() => null);
    else if (r.status !== 204) data = await r.text().catch(() => null);
    return { status: r.status, ok: r.ok, data, headers: r.headers };
  } catch (e) {
    return { status: 0, ok: false, data: null, error: String(e) };
  }
}

// The rows of an answer: a bare array, or the first array under a usual key.
export function rows(doc) {
  if (Array.isArray(doc)) return doc;
  if (!doc || typeof doc !== 'object') return [];
  for (const k of ['grids', 'teams', 'items', 'results', 'data', 'features', 'cameras'])
    if (Array.isArray(doc[k])) return doc[k];
  return [];
}

// A row as flat properties (GeoJSON features are flattened, their id kept).
export function flat(r) {
  if (r && r.type === 'Feature') return { ...(r.properties || {}), id: r.id ?? r.properties?.id, _geom: r.geometry };
  return r || {};
}

export function gridIdOf(p) { return p.id ?? p.grid ?? p.grid_id ?? p.gridId; }
export function num(...vals) { for (const v of vals) if (typeof v === 'number' && isFinite(v)) return v; return undefined; }

// Hotspot class as a bin -3..3 (cold 99 .. hot 99, 0 not significant), from a number or a label.
export function toBin(v) {
  if (typeof v === 'number') return Math.max(-3, Math.min(3, Math.round(v)));
  if (typeof v !== 'string') return undefined;
  const s = v.toLowerCase();
  const conf = s.includes('99') ? 3 : s.includes('95') ? 2 : s.includes('90') ? 1 : 0;
  if (s.includes('hot')) return conf || 1;
  if (s.includes('cold')) return -(conf || 1);
  return 0;
}

export function iso(ms) { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'); }

// Area (km²) and bbox of a GeoJSON polygon/multipolygon on the sphere.
export function areaBbox(g) {
  const R = 6371008.8, rad = Math.PI / 180;
  let area = 0;
  const bb = [Infinity, Infinity, -Infinity, -Infinity];
  const ring = (c) => {
    let s = 0;
    for (let i = 0; i < c.length; i++) {
      const [x1, y1] = c[i], [x2, y2] = c[(i + 1) % c.length];
      s += (x2 - x1) * rad * (2 + Math.sin(y1 * rad) + Math.sin(y2 * rad));
      if (x1 < bb[0]) bb[0] = x1; if (y1 < bb[1]) bb[1] = y1; if (x1 > bb[2]) bb[2] = x1; if (y1 > bb[3]) bb[3] = y1;
    }
    return Math.abs(s * R * R / 2);
  };
  const poly = (p) => p.forEach((r, i) => { area += i === 0 ? ring(r) : -ring(r); });
  if (g?.type === 'Polygon') poly(g.coordinates);
  else if (g?.type === 'MultiPolygon') g.coordinates.forEach(poly);
  return { area: area / 1e6, bbox: bb };
}

// WGS84 -> GCJ-02 (the published transform); used to find the basemap offset at the centre.
export function wgsToGcj(lon, lat) {
  const a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
  const x = lon - 105, y = lat - 35;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
  dLat += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
  dLat += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
  let dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
  dLon += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
  dLon += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
  const radLat = lat / 180 * PI;
  let magic = Math.sin(radLat);
  magic = 1 - ee * magic * magic;
  const sq = Math.sqrt(magic);
  dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * PI);
  dLon = (dLon * 180) / (a / sq * Math.cos(radLat) * PI);
  return [lon + dLon, lat + dLat];
}

// Register the "gcj://" protocol: a WGS84 XYZ tile is cut out of the GCJ-02 basemap by drawing
// the basemap tiles around it shifted by the offset at `center` (constant over a city to a few
// metres).  template is the basemap's {z}/{x}/{y} URL.
export function registerGcjProtocol(maplibregl, template, center) {
  const [gl, ga] = wgsToGcj(center[0], center[1]);
  const dLon = gl - center[0], dLat = ga - center[1];
  maplibregl.addProtocol('gcj', async (params) => {
    const m = params.url.match(/(\d+)\/(\d+)\/(\d+)$/);
    const z = +m[1], x = +m[2], y = +m[3];
    const n = 2 ** z, size = 256;
    // the basemap's pixel position of this tile's corner, shifted by the GCJ offset
    const lon0 = x / n * 360 - 180 + dLon;
    const latR = Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI + dLat;
    const px = (lon0 + 180) / 360 * n * size;
    const py = (1 - Math.log(Math.tan(Math.PI / 4 + latR * Math.PI / 360)) / Math.PI) / 2 * n * size;
    const tx = Math.floor(px / size), ty = Math.floor(py / size);
    const ox = px - tx * size, oy = py - ty * size;
    const canvas = new OffscreenCanvas(size, size), g = canvas.getContext('2d');
    await Promise.all([[0, 0], [1, 0], [0, 1], [1, 1]].map(async ([i, j]) => {
      const url = template.replace('{z}', z).replace('{x}', (tx + i) % n).replace('{y}', ty + j);
      const r = await fetch(url, { signal: params.signal }).catch(() => null);
      if (!r || !r.ok) return;
      const img = await createImageBitmap(await r.blob());
      g.drawImage(img, i * size - ox, j * size - oy);
    }));
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return { data: await blob.arrayBuffer() };
  });
}
