// panels.js — the dispatcher panel (click: the grid, police rooms and cameras of the spot and the
// nearest available teams; assign with a dispatcher token kept for the browser session) and the
// planner panel (a sortable table of grids with workload; a row click flies to the grid).
import { t } from './i18n.js';
import { api, rows, flat, num, areaBbox, accountToken, setAccountToken } from './data.js';

function esc(s) { return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }
function dist(m) { return m == null ? '' : m >= 1000 ? `${(m / 1000).toFixed(2)} ${t('km')}` : `${Math.round(m)} ${t('m')}`; }
function mins(s) { return s == null ? '' : `${(s / 60).toFixed(1)} ${t('min')}`; }
function named(o) { if (o == null) return null; if (typeof o !== 'object') return { id: o }; return flat(o); }

// ---- dispatcher -------------------------------------------------------------------------------

export function initDispatcher(gw, map) {
  const panel = document.getElementById('dispatch'), body = document.getElementById('d-body');
  const tokenIn = document.getElementById('d-token'), tokenState = document.getElementById('d-token-state');
  const btn = document.getElementById('btn-dispatch');
  gw.dispatch = { teams: [], last: null };
  let last = null; // {lon, lat, incident}
  btn.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    btn.classList.toggle('on', !panel.hidden);
    map.getCanvas().style.cursor = panel.hidden ? '' : 'crosshair';
  });
  if (accountToken()) tokenState.textContent = t('tokenSaved');
  document.getElementById('d-save').addEventListener('click', () => {
    const tk = tokenIn.value.trim();
    tokenIn.value = '';
    tokenState.textContent = t('tokenSaved');
    // the whole page (map, events, command panel) reads as the new account
    if (tk) setAccountToken(tk);
    else window.dispatchEvent(new Event('gw-token'));
  });

  map.on('click', async (e) => {
    if (panel.hidden) return;
    const { lng: lon, lat } = e.lngLat;
    const hit = map.queryRenderedFeatures(e.point, { layers: ['live-incidents', 'incidents'].filter((l) => map.getLayer(l)) })[0];
    last = { lon, lat, incident: hit?.properties?.id ?? '' };
    map.getSource('pick').setData({ type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: {} });
    body.innerHTML = `<p>${t('loading')}</p>`;
    await lookup(last);
  });

  // the route of the team under the cursor (by=eta answers carry route geometry)
  const showRoute = (tm) => map.getSource('route')?.setData(tm?.route
    ? { type: 'Feature', geometry: tm.route, properties: { team: tm.id } } : { type: 'FeatureCollection', features: [] });
  body.addEventListener('mouseover', (e) => {
    const li = e.target.closest?.('li[data-team-id]');
    if (li) showRoute(gw.dispatch.teams?.find((x) => x.id === li.dataset.teamId));
  });
  body.addEventListener('mouseleave', () => showRoute(null));

  async function lookup(at) {
    const q = `lon=${at.lon.toFixed(7)}&lat=${at.lat.toFixed(7)}`;
    // by road when the city has roads (409 without, 400 when the spot is far from every road): ETAs
    // and routes; otherwise the straight-line distance
    const [loc, eta] = await Promise.all([api(`/dispatch/locate?${q}`), api(`/dispatch/nearest?${q}&k=5&status=available&by=eta&route=true`)]);
    const byEta = eta.ok;
    const near = byEta ? eta : await api(`/dispatch/nearest?${q}&k=5&status=available`);
    showRoute(null);
    gw.state.avail.dispatch = near.ok;
    const h = [];
    if (loc.ok && loc.data) {
      const d = loc.data;
      const g = named(d.grid), room = named(d.police_room ?? d.room), nr = named(d.nearest_police_room ?? d.nearest_room ?? d.police_rooms_nearest?.[0]);
      const cams = rows(d.cameras ?? []).map(named);
      h.push(`<div id="d-grid"><b>${t('grid')}:</b> ${g ? esc(g.name ?? '') + ' <code>' + esc(g.id) + '</code>' : t('none')}</div>`);
      h.push(`<div><b>${t('room')}:</b> ${room ? esc(room.name ?? room.id) + ' ' + dist(num(room.distance_m)) : t('none')}</div>`);
      if (nr && nr.id !== room?.id) h.push(`<div><b>${t('nearestRoom')}:</b> ${esc(nr.name ?? nr.id)} ${dist(num(nr.distance_m, nr.distance))}</div>`);
      h.push(`<div><b>${t('seeing')}:</b> ${num(d.cameras_total) ?? cams.length} ${cams.slice(0, 6).map((c) => '<code>' + esc(c.id) + '</code>').join(' ')}</div>`);
    } else {
      const g = map.queryRenderedFeatures(map.project([at.lon, at.lat]), { layers: ['grids-fill'] })[0];
      h.push(`<div id="d-grid"><b>${t('grid')}:</b> ${g ? esc(g.properties.name) + ' <code>' + esc(g.properties.id) + '</code>' : t('none')}</div>`);
    }
    if (near.ok) {
      const teams = rows(near.data).map((r) => ({ ...flat(r), route: r.route ?? r.properties?.route })).map((p) => ({ id: p.id ?? p.team, name: p.name, status: p.status,
        d: num(p.distance_m, p.distance, p.dist_m, p.meters), stale: !!p.stale, eta: num(p.eta_s), routeM: num(p.route_m), route: p.route }));
      gw.dispatch.teams = teams;
      gw.dispatch.by = byEta ? 'eta' : 'distance';
      h.push(`<h2>${t(byEta ? 'fastestTeams' : 'nearestTeams')}</h2><ol id="d-teams" data-by="${byEta ? 'eta' : 'distance'}">`);
      for (const tm of teams) {
        const how = byEta ? `<span class="eta" data-eta-s="${tm.eta}">${t('eta')} ${mins(tm.eta)}</span> · ${t('byRoad')} ${dist(tm.routeM)}` : dist(tm.d);
        h.push(`<li data-team-id="${esc(tm.id)}">${esc(tm.name ?? tm.id)} <code>${esc(tm.id)}</code> · ${how}${tm.stale ? ' ⚠' : ''} <button data-assign="${esc(tm.id)}">${t('assign')}</button></li>`);
      }
      h.push('</ol>');
      if (!byEta && (eta.status === 400 || eta.status === 422)) h.push(`<p class="note">${t('noRoadNear')}</p>`);
      h.push(`<label>${t('incident')} <input id="d-incident" value="${esc(at.incident)}" size="12"></label><div id="d-result"></div>`);
    } else {
      gw.dispatch.teams = null;
      h.push(`<p class="note" id="d-na">${t('dispatchNA')} (${near.status})</p>`);
    }
    body.innerHTML = h.join('');
    gw.dispatch.last = at;
  }

  body.addEventListener('click', async (e) => {
    const team = e.target?.dataset?.assign;
    if (!team) return;
    const incident = document.getElementById('d-incident')?.value?.trim();
    const out = document.getElementById('d-result');
    const r = await api('/dispatch/assign', { method: 'POST', headers: { 'Content-Type': 'application/json' }, // the account token: data.js
      body: JSON.stringify({ incident, team }) });
    out.textContent = r.ok ? `${t('assigned')}: ${team}` : `${t('failed')} (${r.status}): ${r.data?.detail ?? ''}`;
    out.className = r.ok ? '' : 'note';
    if (r.ok && last) await lookup(last);
  });
  gw.onLanguage = () => { if (last) lookup(last); };
}

// ---- planner ----------------------------------------------------------------------------------

export function initPlanner(gw, map) {
  const panel = document.getElementById('planner'), btn = document.getElementById('btn-planner');
  const tbody = panel.querySelector('tbody'), stateEl = document.getElementById('p-state');
  let grids = null, sortKey = 'count', asc = false, loading = false;
  const MAX_ROWS = 400;

  btn.addEventListener('click', async () => {
    panel.hidden = !panel.hidden;
    btn.classList.toggle('on', !panel.hidden);
    if (!panel.hidden && !grids && !loading) await load();
    render();
  });
  panel.querySelectorAll('th').forEach((th) => th.addEventListener('click', () => {
    if (sortKey === th.dataset.key) asc = !asc; else { sortKey = th.dataset.key; asc = th.dataset.key === 'id' || th.dataset.key === 'name'; }
    render();
  }));
  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr');
    const g = grids?.find((x) => x.id === tr?.dataset.id);
    if (g) map.fitBounds([[g.bbox[0], g.bbox[1]], [g.bbox[2], g.bbox[3]]], { padding: 80, duration: 1500 });
  });

  async function load() {
    loading = true;
    stateEl.textContent = t('loading');
    const out = [];
    let url = '/collections/grids/items?limit=1000';
    while (url) {
      const r = await api(url);
      if (!r.ok) break;
      for (const f of r.data.features || []) {
        const { area, bbox } = areaBbox(f.geometry);
        out.push({ id: String(f.id ?? f.properties?.id), name: f.properties?.name ?? '', population: num(f.properties?.population), area, bbox });
      }
      const next = (r.data.links || []).find((l) => l.rel === 'next');
      url = next ? (() => { const u = new URL(next.href, location.href); return u.pathname + u.search; })() : null;
      stateEl.textContent = `${t('loading')} ${out.length}`;
    }
    grids = out;
    loading = false;
  }

  function render() {
    if (!grids || panel.hidden) return;
    const s = gw.state;
    for (const g of grids) {
      g.count = s.counts ? s.counts.get(g.id) ?? 0 : null;
      g.coverage = s.coverage?.get(g.id) ?? null;
      g.hotspot = s.bins?.get(g.id) ?? null;
    }
    const k = sortKey, dir = asc ? 1 : -1;
    const sorted = [...grids].sort((a, b) => {
      const x = a[k], y = b[k];
      if (x == null && y == null) return 0;
      if (x == null) return 1;
      if (y == null) return -1;
      return (typeof x === 'string' ? x.localeCompare(y) : x - y) * dir;
    });
    panel.querySelectorAll('th').forEach((th) => { th.classList.toggle('sorted', th.dataset.key === k); th.classList.toggle('asc', th.dataset.key === k && asc); });
    const f = (v, d) => (v == null ? '–' : v.toFixed(d));
    tbody.innerHTML = sorted.slice(0, MAX_ROWS).map((g) => `<tr data-id="${esc(g.id)}"><td>${esc(g.id)}</td><td>${esc(g.name)}</td><td>${g.count ?? '–'}</td><td>${g.population ?? '–'}</td><td>${f(g.area, 2)}</td><td>${g.coverage == null ? '–' : (g.coverage * 100).toFixed(1) + '%'}</td><td>${g.hotspot ?? '–'}</td></tr>`).join('');
    stateEl.textContent = `${grids.length} ${t('rows')}${grids.length > MAX_ROWS ? ` (${MAX_ROWS})` : ''}` +
      (s.avail.coverage === false ? ` · ${t('coverage')}: ${t('notAvailable')}` : '') + (s.avail.hotspots === false ? ` · ${t('hotspot')}: ${t('notAvailable')}` : '');
  }
  const prev = gw.onFilters;
  gw.onFilters = () => { prev?.(); render(); };
  gw.planner = { render, rows: () => grids };
}
