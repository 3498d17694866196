// command.js — the command panel of the four-level command (issue 18): the account's jurisdictions
// (GET /jurisdictions lists only those within the token's scope; the default is the token's own,
// told by GET /analysis/response), the map fitted to the selected one's grids, its overdue
// incidents (GET /incidents/overdue, every 15 s and on incident.transition events), the flow of a
// clicked incident as a timeline (GET /incidents/{id}/transitions) and its response figures
// (GET /analysis/response, all time).  Every request carries the page's account token (data.js).
import { t, getLanguage } from './i18n.js';
import { api, areaBbox } from './data.js';

const REFRESH_MS = 15000;
const LEVEL_KEYS = { 1: 'lv_1', 2: 'lv_2', 3: 'lv_3', 4: 'lv_4' };

function esc(s) { return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }
// a path contains p when p equals it or starts with it and "/" ("" contains everything)
export function within(p, scope) { return !scope || p === scope || p.startsWith(scope + '/'); }
function gridPath(props) { return ['prefecture', 'county', 'township', 'village'].map((k) => props?.[k]).filter((v) => v != null && v !== '').join('/'); }
// tree order: parts compared one by one, a parent before its children
function byParts(a, b) {
  const x = a.split('/'), y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

// an ISO 8601 time in the browser's time zone, the page's language
function when(iso) {
  const d = new Date(iso);
  if (!iso || isNaN(d)) return iso ?? '';
  return d.toLocaleString(getLanguage() === 'zh-CN' ? 'zh-CN' : 'en-GB', { hour12: false });
}

export function stateLabel(s) { return s ? t('st_' + s) : '–'; }
export function actionLabel(a) { return a ? t('ac_' + a) : '–'; }
export function levelLabel(l) { return LEVEL_KEYS[l] ? t(LEVEL_KEYS[l]) : String(l ?? '–'); }

// A duration in the two largest units (e.g. "2 h 5 min", "2小时5分").
export function human(sec) {
  if (sec == null || !isFinite(sec)) return '–';
  let s = Math.max(0, Math.round(sec));
  const units = [['u_d', 86400], ['u_h', 3600], ['u_min', 60], ['u_s', 1]];
  const parts = [];
  for (const [k, n] of units) {
    if (parts.length) { if (Math.floor(s / n)) parts.push([Math.floor(s / n), k]); break; }
    if (s >= n || k === 'u_s') { parts.push([Math.floor(s / n), k]); s %= n; }
  }
  const sep = t('u_sep');
  return parts.map(([v, k]) => `${v}${sep}${t(k)}`).join(' ');
}

export function initCommand(gw, map) {
  const $ = (s) => document.querySelector(s);
  const panel = $('#command'), btn = $('#btn-command'), sel = $('#c-juris'), stateEl = $('#c-state');
  const cmd = { scope: null, juris: [], selected: null, overdue: null, flow: null, figures: null, grids: null, errors: {} };
  gw.command = cmd;
  let timer = 0, pending = 0;

  btn.addEventListener('click', async () => {
    panel.hidden = !panel.hidden;
    btn.classList.toggle('on', !panel.hidden);
    clearInterval(timer);
    if (panel.hidden) return;
    timer = setInterval(() => loadOverdue(), REFRESH_MS);
    if (cmd.scope === null) await load();
  });
  // a new token: another account, other jurisdictions
  window.addEventListener('gw-token', () => { cmd.scope = null; cmd.grids = null; cmd.flow = null; if (!panel.hidden) load(); });
  sel.addEventListener('change', () => select(sel.value, true));

  // The token's jurisdiction ("" = unscoped), its jurisdictions and the figures; then the default.
  async function load() {
    pending++;
    stateEl.textContent = t('loading');
    const [resp, jur] = await Promise.all([api('/analysis/response?grids=false'), api('/jurisdictions')]);
    cmd.errors = {};
    cmd.juris = jur.ok ? [...(jur.data?.jurisdictions || [])].sort((a, b) => byParts(a.path, b.path)) : [];
    if (!jur.ok) cmd.errors.juris = jur.status;
    if (resp.ok) { cmd.scope = resp.data?.jurisdiction ?? ''; cmd.figures = resp.data; }
    else {
      // without the figures: the first listed path when it holds every other below a
      // prefecture (a prefecture's account of a one-prefecture city sees the same as "all")
      cmd.errors.figures = resp.status;
      cmd.figures = null;
      const top = cmd.juris[0];
      cmd.scope = top && top.level > 1 && cmd.juris.every((j) => within(j.path, top.path)) ? top.path : '';
    }
    stateEl.textContent = '';
    renderSelect();
    await select(cmd.scope, true);
    pending--;
  }

  function renderSelect() {
    const opts = [];
    if (!cmd.scope) opts.push(`<option value="">${esc(t('cm_all'))}</option>`);
    for (const j of cmd.juris) {
      const pad = '\u00a0\u00a0'.repeat(Math.max(0, j.level - 1));
      opts.push(`<option value="${esc(j.path)}" data-level="${j.level}">${pad}${esc(j.name)} · ${esc(levelLabel(j.level))}</option>`);
    }
    sel.innerHTML = opts.join('');
    if (cmd.selected != null) sel.value = cmd.selected;
  }

  async function select(path, fit) {
    cmd.selected = path;
    sel.value = path;
    renderFigures();
    const jobs = [loadOverdue()];
    if (fit) jobs.push(fitTo(path));
    await Promise.all(jobs);
  }

  // The grids of the token (paged), each with its path and bbox, read once per token.
  async function loadGrids() {
    if (cmd.grids) return cmd.grids;
    const out = [];
    let url = '/collections/grids/items?limit=1000';
    while (url) {
      const r = await api(url);
      if (!r.ok) break;
      for (const f of r.data.features || []) out.push({ path: gridPath(f.properties), bbox: areaBbox(f.geometry).bbox });
      const next = (r.data.links || []).find((l) => l.rel === 'next');
      url = next ? (() => { const u = new URL(next.href, location.href); return u.pathname + u.search; })() : null;
    }
    cmd.grids = out;
    return out;
  }

  async function fitTo(path) {
    const grids = await loadGrids();
    const bb = [Infinity, Infinity, -Infinity, -Infinity];
    for (const g of grids) {
      if (!within(g.path, path) || !isFinite(g.bbox[0])) continue;
      bb[0] = Math.min(bb[0], g.bbox[0]); bb[1] = Math.min(bb[1], g.bbox[1]);
      bb[2] = Math.max(bb[2], g.bbox[2]); bb[3] = Math.max(bb[3], g.bbox[3]);
    }
    if (!isFinite(bb[0])) { if (!path && gw.state.bounds) map.fitBounds(gw.state.bounds, { padding: 40, duration: 0 }); return; }
    cmd.fitted = { path, bbox: bb };
    map.fitBounds([[bb[0], bb[1]], [bb[2], bb[3]]], { padding: { top: 60, bottom: 40, left: 260, right: 420 }, duration: 800 });
  }

  async function loadOverdue() {
    const path = cmd.selected ?? '';
    const r = await api(`/incidents/overdue?limit=200${path ? '&jurisdiction=' + encodeURIComponent(path) : ''}`);
    if (path !== (cmd.selected ?? '')) return; // another jurisdiction was picked meanwhile
    cmd.overdue = r.ok ? r.data : null;
    cmd.errors.overdue = r.ok ? undefined : r.status;
    cmd.overdueAt = Date.now();
    renderOverdue();
  }

  function renderOverdue() {
    const el = $('#c-overdue');
    if (!cmd.overdue) { el.innerHTML = cmd.errors.overdue ? `<p class="note">${t('cm_unavailable')} (${cmd.errors.overdue})</p>` : ''; return; }
    const list = cmd.overdue.incidents || [];
    const h = [`<div class="hint" id="c-overdue-count">${t('cm_overdueCount').replace('%s', list.length)}</div>`];
    if (list.length) {
      h.push(`<table id="c-overdue-table"><thead><tr><th>${t('id')}</th><th>${t('cm_state')}</th><th>${t('cm_level')}</th><th>${t('cm_expected')}</th><th>${t('cm_overdueBy')}</th></tr></thead><tbody>`);
      for (const o of list)
        h.push(`<tr data-id="${esc(o.id)}"><td><code>${esc(o.id)}</code></td><td>${esc(stateLabel(o.state))}</td><td>${esc(levelLabel(o.level))}</td><td>${esc(actionLabel(o.expected_action))}</td><td class="c-late">${esc(human(o.overdue_s))}</td></tr>`);
      h.push('</tbody></table>');
    }
    el.innerHTML = h.join('');
  }

  $('#c-overdue').addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr) showIncident(tr.dataset.id, true);
  });

  // Fly to an incident (its point from the items route) and show its flow.
  async function showIncident(id, fly) {
    const jobs = [loadFlow(id)];
    if (fly) jobs.push((async () => {
      const r = await api(`/collections/incidents/items/${encodeURIComponent(id)}`);
      const c = r.ok && r.data?.geometry?.type === 'Point' ? r.data.geometry.coordinates : null;
      if (!c) return;
      map.getSource('pick').setData({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} });
      map.flyTo({ center: c, zoom: Math.max(map.getZoom(), 15), duration: 1000 });
    })());
    await Promise.all(jobs);
  }
  cmd.show = showIncident;

  async function loadFlow(id) {
    const r = await api(`/incidents/${encodeURIComponent(id)}/transitions`);
    cmd.flow = r.ok ? r.data : { incident: id, error: r.status, detail: r.data?.detail };
    renderFlow();
  }

  function renderFlow() {
    const el = $('#c-flow'), f = cmd.flow;
    if (!f) { el.innerHTML = `<p class="hint">${t('cm_clickIncident')}</p>`; return; }
    if (f.error) { el.innerHTML = `<p class="note">${t('cm_noFlow')} <code>${esc(f.incident)}</code> (${f.error})</p>`; return; }
    const steps = f.transitions || [];
    const h = [`<div id="c-flow-head"><b>${t('incident')}</b> <code id="c-flow-id">${esc(f.incident)}</code> · ${esc(f.jurisdiction || '')}</div>`];
    h.push(`<div class="c-now">${t('cm_now')}: <span class="c-hi" id="c-flow-state">${esc(stateLabel(f.state))}</span>`);
    h.push(`<span class="c-levels" id="c-flow-levels">${[1, 2, 3, 4].map((l) => `<span class="c-lv${l === f.level ? ' c-hi' : ''}" data-level="${l}">${esc(levelLabel(l))}</span>`).join('')}</span>`);
    if (f.deadline) h.push(` · ${t('cm_deadline')} ${esc(when(f.deadline))}`);
    h.push('</div><ol class="c-timeline" id="c-timeline">');
    if (steps.length) // where it started: the first step's origin
      h.push(`<li class="c-start" data-state="${esc(steps[0].from_state)}"><span class="c-st">${esc(stateLabel(steps[0].from_state))}</span> · ${esc(levelLabel(steps[0].from_level))}</li>`);
    steps.forEach((s, i) => {
      const last = i === steps.length - 1;
      const lv = s.from_level === s.to_level ? levelLabel(s.to_level) : `${levelLabel(s.from_level)} → ${levelLabel(s.to_level)}`;
      h.push(`<li data-seq="${esc(s.seq)}" data-action="${esc(s.action)}" data-state="${esc(s.to_state)}" data-level="${esc(s.to_level)}"${last ? ' class="c-current"' : ''}>`,
        `<div><span class="c-act">${esc(actionLabel(s.action))}</span> → <span class="c-st${last ? ' c-hi' : ''}">${esc(stateLabel(s.to_state))}</span> · <span class="c-lvl${last ? ' c-hi' : ''}">${esc(lv)}</span></div>`,
        `<div class="hint">${esc(when(s.at))} · ${t('cm_actor')} ${esc(s.actor ?? '–')}${s.actor_jurisdiction ? ' (' + esc(s.actor_jurisdiction) + ')' : ''}${s.assignee ? ' · ' + t('cm_assignee') + ' ' + esc(s.assignee) : ''}</div>`,
        s.note ? `<div class="c-note">${esc(s.note)}</div>` : '', '</li>');
    });
    if (!steps.length) h.push(`<li class="c-current"><span class="c-st c-hi">${esc(stateLabel(f.state))}</span> · ${esc(levelLabel(f.level))} <span class="hint">${t('cm_noSteps')}</span></li>`);
    h.push('</ol>');
    el.innerHTML = h.join('');
  }

  // The selected jurisdiction's row of the figures (the token's own: the total).
  function renderFigures() {
    const el = $('#c-figures'), d = cmd.figures;
    if (!d) { el.innerHTML = cmd.errors.figures ? `<p class="note">${t('cm_unavailable')} (${cmd.errors.figures})</p>` : ''; return; }
    const path = cmd.selected ?? '';
    const row = path === (d.jurisdiction ?? '') ? d.total : (d.jurisdictions || []).find((j) => j.path === path);
    // small shares keep two significant digits (1 escalation of 2634 incidents is not 0.0 %)
    const pct = (v) => (v == null ? '–' : v === 0 ? '0%' : v >= 0.01 ? `${(v * 100).toFixed(1)}%` : `${(v * 100).toPrecision(2)}%`);
    const cells = [['incidents', 'cm_incidents', row ? String(row.incidents) : '0'], ['overdue', 'cm_overdueShare', pct(row?.overdue_share)],
      ['escalation', 'cm_escalation', pct(row?.escalation_rate)], ['accept', 'cm_toAccept', human(row?.time_to_accept_s?.median)],
      ['close', 'cm_toClose', human(row?.time_to_close_s?.median)]];
    el.innerHTML = `<table id="c-figures-table"><tbody>${cells.map(([k, l, v]) => `<tr data-k="${k}"><th>${t(l)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`;
  }

  // the map: a click on an incident shows its flow
  map.on('click', (e) => {
    if (panel.hidden) return;
    const layers = ['live-incidents', 'incidents'].filter((l) => map.getLayer(l));
    const box = [[e.point.x - 4, e.point.y - 4], [e.point.x + 4, e.point.y + 4]];
    const hit = map.queryRenderedFeatures(box, { layers })[0];
    const id = hit?.properties?.id;
    if (id != null) showIncident(String(id), false);
  });

  // a transition anywhere: the list again (soon, once), the shown flow when it is that incident
  let evTimer = 0;
  gw.onTransition = (d) => {
    if (panel.hidden) return;
    clearTimeout(evTimer);
    evTimer = setTimeout(loadOverdue, 300);
    if (cmd.flow && String(d?.id) === String(cmd.flow.incident)) loadFlow(cmd.flow.incident);
  };

  const prev = gw.onLanguage;
  gw.onLanguage = () => {
    prev?.();
    if (cmd.scope === null) return;
    renderSelect(); renderOverdue(); renderFlow(); renderFigures();
  };
  cmd.busy = () => pending > 0;
  renderFlow();
}
