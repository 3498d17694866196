// planner.js — the planner mode of the wall page: pick or create a draft of the grid set, edit it
// on the map (split a grid along a drawn line, draw a new shared boundary between two grids,
// merge two grids), and after every edit see the draft's grids, the validation problems (a red
// layer) and the balance figures (draft beside the published layout); publish and roll back.
// Writes need a planner token, entered once and kept for the browser session like the
// dispatcher's.  The drawing is a few MapLibre event handlers (a polyline: click, double-click or
// Enter to finish), small enough that a drawing library would be more code to configure.
import { t } from './i18n.js';
import { api } from './data.js';

const TOKEN_KEY = 'gw.planToken';
const FULL_ZOOM = 12;  // below it only the draft's own grids are fetched (a city is ~13,000 grids)
const CHANGED = '#f08c00', SEL = '#00e5ff', BAD = '#ff1f3d';
const EMPTY = { type: 'FeatureCollection', features: [] };
// the balance rows: the measure in GET …/balance and its label key
const MEASURES = [['incidents', 'incidents'], ['population', 'population'], ['area_km2', 'area']];
const ISSUES = ['invalid', 'overlap', 'gap', 'outside', 'multipart', 'sliver', 'oversize'];

function esc(s) { return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }
function fmt(key, ...v) { let i = 0; return t(key).replace(/%s/g, () => String(v[i++] ?? '')); }
function $(id) { return document.getElementById(id); }

export function initPlanMode(gw, map) {
  const panel = $('planner'), btn = $('btn-planner'), root = $('p-plan');
  if (!panel || !btn || !root) return;
  const st = {
    active: false, draft: null, drafts: [], versions: [], current: null,
    tool: null, picked: [], points: [], cursor: null,
    grids: EMPTY, issues: EMPTY, summary: null, balance: null, diff: null, busy: null, seq: 0,
  };
  gw.plan = st;

  root.innerHTML = `
    <form class="token" id="p-token-form" onsubmit="return false">
      <label><span data-i18n="pl_token">${t('pl_token')}</span> <input type="password" id="p-token" autocomplete="off"></label>
      <button id="p-token-save" data-i18n="saveToken">${t('saveToken')}</button> <span id="p-token-state"></span>
    </form>
    <div class="p-row"><label><span data-i18n="pl_draft">${t('pl_draft')}</span> <select id="p-drafts"></select></label>
      <input id="p-new-name" size="14" placeholder="${esc(t('pl_newName'))}">
      <button id="p-create" data-i18n="pl_create">${t('pl_create')}</button></div>
    <div class="p-row" id="p-tools">
      <button data-tool="split" data-i18n="pl_split">${t('pl_split')}</button>
      <button data-tool="move" data-i18n="pl_move">${t('pl_move')}</button>
      <button data-tool="merge" data-i18n="pl_merge">${t('pl_merge')}</button>
      <button data-tool="cancel" data-i18n="pl_cancel">${t('pl_cancel')}</button></div>
    <div class="hint" id="p-hint"></div>
    <div id="p-msg"></div>
    <h2 data-i18n="pl_validation">${t('pl_validation')}</h2><div id="p-valid"></div>
    <h2 data-i18n="pl_balance">${t('pl_balance')}</h2><table id="p-balance"></table>
    <div class="p-row"><span id="p-version"></span>
      <button id="p-publish" data-i18n="pl_publish">${t('pl_publish')}</button>
      <label><span data-i18n="pl_rollback">${t('pl_rollback')}</span> <select id="p-rb-select"></select></label>
      <button id="p-rollback" data-i18n="pl_doRollback">${t('pl_doRollback')}</button></div>`;

  // ---- token and requests -------------------------------------------------------------------

  const tokenState = $('p-token-state');
  const showToken = () => { tokenState.textContent = sessionStorage.getItem(TOKEN_KEY) ? t('tokenSaved') : ''; };
  showToken();
  $('p-token-save').addEventListener('click', () => {
    const v = $('p-token').value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    $('p-token').value = '';
    showToken();
  });
  const auth = () => { const k = sessionStorage.getItem(TOKEN_KEY); return k ? { Authorization: `Bearer ${k}` } : {}; };
  const get = (path) => api(path, { headers: auth() });
  const post = (path, body) => api(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth() }, body: body == null ? undefined : JSON.stringify(body) });

  function message(text, bad) {
    const el = $('p-msg');
    el.textContent = text || '';
    el.className = bad ? 'note' : 'hint';
  }
  // An API refusal as the panel's message: problem+json detail, else the status.
  function refused(r) {
    const why = r.data && typeof r.data === 'object' ? r.data.detail ?? r.data.title : null;
    message(`${t('pl_error')} (${r.status || '—'}): ${why ?? (r.status === 401 ? t('pl_noToken') : r.error ?? '')}`, true);
  }

  // ---- map layers ---------------------------------------------------------------------------

  function addLayers() {
    if (map.getSource('plan-grids')) return;
    map.addSource('plan-grids', { type: 'geojson', data: EMPTY, promoteId: 'id' });
    map.addSource('plan-issues', { type: 'geojson', data: EMPTY });
    map.addSource('plan-draw', { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'plan-grids-fill', type: 'fill', source: 'plan-grids',
      paint: { 'fill-color': ['case', ['get', 'changed'], CHANGED, '#8899bb'], 'fill-opacity': ['case', ['get', 'changed'], 0.45, 0.06] } });
    map.addLayer({ id: 'plan-grids-line', type: 'line', source: 'plan-grids',
      paint: { 'line-color': ['case', ['get', 'changed'], CHANGED, '#dfe6f5'], 'line-width': ['case', ['get', 'changed'], 2.5, 1] } });
    map.addLayer({ id: 'plan-grids-sel', type: 'line', source: 'plan-grids', filter: ['in', ['get', 'id'], ['literal', []]],
      paint: { 'line-color': SEL, 'line-width': 4 } });
    map.addLayer({ id: 'plan-issues-fill', type: 'fill', source: 'plan-issues', filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': BAD, 'fill-opacity': 0.55 } });
    map.addLayer({ id: 'plan-issues-line', type: 'line', source: 'plan-issues', filter: ['!=', ['geometry-type'], 'Point'],
      paint: { 'line-color': BAD, 'line-width': 3 } });
    map.addLayer({ id: 'plan-issues-point', type: 'circle', source: 'plan-issues', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-color': BAD, 'circle-radius': 7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
    map.addLayer({ id: 'plan-draw-line', type: 'line', source: 'plan-draw', filter: ['==', ['geometry-type'], 'LineString'],
      paint: { 'line-color': SEL, 'line-width': 2.5, 'line-dasharray': [2, 1] } });
    map.addLayer({ id: 'plan-draw-pts', type: 'circle', source: 'plan-draw', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-color': SEL, 'circle-radius': 4.5, 'circle-stroke-color': '#000', 'circle-stroke-width': 1 } });
  }
  const PLAN_LAYERS = ['plan-grids-fill', 'plan-grids-line', 'plan-grids-sel', 'plan-issues-fill', 'plan-issues-line', 'plan-issues-point', 'plan-draw-line', 'plan-draw-pts'];
  function showLayers(on) {
    for (const id of PLAN_LAYERS) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    // the published grids the draft replaced are hidden under the draft's own
    const hide = on && st.draft && st.diff ? [...st.diff.changed, ...st.diff.deleted] : [];
    for (const id of ['grids-fill', 'grids-line'])
      if (map.getLayer(id)) map.setFilter(id, hide.length ? ['!', ['in', ['get', 'id'], ['literal', hide]]] : null);
  }

  // ---- mode, drafts, versions ---------------------------------------------------------------

  btn.addEventListener('click', () => setActive(!panel.hidden)); // panels.js toggled the panel first
  async function setActive(on) {
    st.active = on;
    if (!on) { setTool(null); showLayers(false); return; }
    addLayers();
    showLayers(true);
    await Promise.all([loadDrafts(), loadVersions()]);
    renderTools();
  }

  async function loadDrafts() {
    const r = await get('/plan/drafts');
    if (!r.ok) { refused(r); return; }
    st.drafts = r.data.drafts || [];
    const sel = $('p-drafts');
    const open = st.drafts.filter((d) => d.status === 'open' || d.id === st.draft?.id);
    sel.innerHTML = `<option value="">${esc(t('pl_pick'))}</option>` +
      open.map((d) => `<option value="${d.id}">${esc(d.name)} · #${d.id}${d.status !== 'open' ? ' (' + esc(d.status) + ')' : ''}</option>`).join('');
    sel.value = st.draft ? String(st.draft.id) : '';
  }

  async function loadVersions() {
    const r = await get('/plan/versions');
    if (!r.ok) return;
    st.versions = Array.isArray(r.data) ? r.data : [];
    st.current = st.versions.find((v) => v.current)?.version ?? null;
    const el = $('p-version');
    el.textContent = st.current == null ? '' : fmt('pl_version', st.current);
    el.dataset.version = st.current ?? '';
    $('p-rb-select').innerHTML = st.versions.filter((v) => !v.current)
      .map((v) => `<option value="${v.version}">${v.version} · ${esc(v.name ?? '')} (${v.grids})</option>`).join('');
  }

  $('p-drafts').addEventListener('change', (e) => selectDraft(e.target.value ? +e.target.value : null));
  $('p-create').addEventListener('click', async () => {
    const name = $('p-new-name').value.trim() || `draft ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
    const r = await post('/plan/drafts', { name });
    if (!r.ok) { refused(r); return; }
    $('p-new-name').value = '';
    message(fmt('pl_created', r.data.name, r.data.id));
    st.draft = r.data;
    await loadDrafts();
    await selectDraft(r.data.id);
  });

  async function selectDraft(id) {
    setTool(null);
    if (id == null) {
      st.draft = null; st.diff = null; st.summary = null; st.balance = null;
      map.getSource('plan-grids')?.setData(EMPTY);
      map.getSource('plan-issues')?.setData(EMPTY);
      showLayers(st.active);
      renderTools(); renderValidation(); renderBalance();
      return;
    }
    const r = await get(`/plan/drafts/${id}`);
    if (!r.ok) { refused(r); return; }
    st.draft = r.data;
    $('p-drafts').value = String(id);
    await refresh();
  }

  // ---- after every edit: grids, validation, balance -----------------------------------------

  // Re-fetch what the draft looks like; resolves when the panel shows it (tests wait on st.busy).
  function refresh() {
    const seq = ++st.seq;
    st.busy = (async () => {
      const d = st.draft;
      if (!d) return;
      const [dr, diff] = await Promise.all([get(`/plan/drafts/${d.id}`), get(`/plan/drafts/${d.id}/diff`), loadGrids()]);
      if (seq !== st.seq) return;
      if (dr.ok) st.draft = dr.data;
      st.diff = diff.ok ? diff.data : null;
      showLayers(st.active);
      renderTools();
      $('p-valid').textContent = t('loading');
      $('p-balance').innerHTML = `<tr><td>${t('loading')}</td></tr>`;
      // each shown when it comes: validation takes ~2 s on a whole city, balance ~20 s (it
      // counts a year of incidents per grid of both layouts)
      await Promise.all([
        get(`/plan/drafts/${d.id}/validation`).then((v) => {
          if (seq !== st.seq) return;
          st.issues = v.ok && v.data?.features ? v.data : EMPTY;
          st.summary = v.ok ? v.data?.summary ?? null : null;
          map.getSource('plan-issues')?.setData(st.issues);
          if (!v.ok) refused(v);
          renderValidation();
        }),
        get(`/plan/drafts/${d.id}/balance`).then((b) => {
          if (seq !== st.seq) return;
          st.balance = b.ok ? b.data : null;
          if (!b.ok) refused(b);
          renderBalance();
        })]);
    })();
    return st.busy;
  }

  // The draft's grids in view (all of them from FULL_ZOOM, else only the draft's own).
  async function loadGrids() {
    const d = st.draft;
    if (!d) return;
    const b = map.getBounds();
    const full = map.getZoom() >= FULL_ZOOM;
    const q = full ? `bbox=${[b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(6)).join(',')}` : 'changed=true';
    const r = await get(`/plan/drafts/${d.id}/grids?${q}`);
    if (!r.ok) { refused(r); return; }
    if (st.draft?.id !== d.id) return;
    st.grids = r.data;
    st.full = full;
    map.getSource('plan-grids')?.setData(st.grids);
  }
  let moveTimer = null;
  map.on('moveend', () => {
    if (!st.active || !st.draft) return;
    clearTimeout(moveTimer);
    moveTimer = setTimeout(() => { loadGrids().then(renderTools); }, 150);
  });

  function renderValidation() {
    const el = $('p-valid'), s = st.summary;
    if (!st.draft || !s) { el.textContent = ''; el.dataset.ok = ''; return; }
    const bad = ISSUES.map((k) => [k, st.issues.features.filter((f) => f.properties?.issue === k).length]).filter(([, n]) => n > 0);
    el.dataset.ok = bad.length ? '0' : '1';
    el.dataset.problems = String(st.issues.features.length);
    el.className = bad.length ? 'note' : 'ok';
    el.textContent = bad.length ? `${t('pl_problems')}: ${bad.map(([k, n]) => `${t('pl_issue_' + k)} ${n}`).join(' · ')}` : fmt('pl_noProblems', s.grids);
  }

  function renderBalance() {
    const el = $('p-balance'), b = st.balance;
    if (!st.draft || !b) { el.innerHTML = ''; el.dataset.count = ''; return; }
    const dl = b.draft_layout || {}, bl = b.base_layout || {};
    const f = (x, n = 3) => (typeof x === 'number' && isFinite(x) ? x.toFixed(n) : '–');
    const cell = (cur, pub, key) => {
      const a = cur?.[key], p = pub?.[key];
      const cls = typeof a === 'number' && typeof p === 'number' && Math.abs(a - p) > 5e-4 ? (a < p ? ' class="better"' : ' class="worse"') : '';
      return `<td${cls}>${f(a)}</td><td>${f(p)}</td>`;
    };
    el.dataset.count = String(dl.count ?? '');
    el.dataset.edits = String(st.draft.edits ?? '');
    el.innerHTML = `<thead><tr><th>${t('pl_measure')}</th><th>${t('pl_cvDraft')}</th><th>${t('pl_cvPub')}</th><th>${t('pl_mmDraft')}</th><th>${t('pl_mmPub')}</th></tr></thead><tbody>` +
      `<tr data-measure="count"><td>${t('pl_count')}</td><td colspan="2">${dl.count ?? '–'} / ${bl.count ?? '–'}</td><td colspan="2"></td></tr>` +
      MEASURES.map(([m, label]) => {
        const a = dl.spread?.[m], p = bl.spread?.[m];
        return `<tr data-measure="${m}"><td>${t(label)}</td>${cell(a, p, 'cv')}${cell(a, p, 'max_over_mean')}</tr>`;
      }).join('') + '</tbody>';
  }

  // ---- tools --------------------------------------------------------------------------------

  $('p-tools').addEventListener('click', (e) => {
    const tool = e.target?.dataset?.tool;
    if (!tool) return;
    if (tool === 'cancel') { setTool(null); return; }
    if (!st.draft) { message(t('pl_needDraft'), true); return; }
    if (st.draft.status !== 'open') { message(t('pl_draftPublished'), true); return; }
    setTool(tool);
  });

  function setTool(tool) {
    st.tool = tool; st.picked = []; st.points = []; st.cursor = null;
    if (tool) map.doubleClickZoom.disable(); else map.doubleClickZoom.enable();
    map.getCanvas().style.cursor = tool ? 'crosshair' : '';
    drawSketch();
    renderTools();
  }

  function step() { // what the current tool waits for
    const n = st.picked.length;
    if (st.tool === 'split') return n < 1 ? 'pick' : 'line';
    if (st.tool === 'move') return n < 2 ? 'pick' : 'line';
    if (st.tool === 'merge') return 'pick';
    return null;
  }

  function renderTools() {
    for (const b of document.querySelectorAll('#p-tools button')) b.classList.toggle('on', b.dataset.tool === st.tool);
    const open = st.draft?.status === 'open';
    for (const id of ['p-publish']) $(id).disabled = !open;
    const hints = { split: ['pl_hintSplit', 'pl_hintLine'], move: ['pl_hintMove1', 'pl_hintMove2', 'pl_hintMoveLine'], merge: ['pl_hintMerge1', 'pl_hintMerge2'] };
    let h = '';
    if (st.tool) {
      const list = hints[st.tool];
      h = t(list[Math.min(st.picked.length, list.length - 1)]);
      if (st.picked.length) h = `${t('pl_selected')}: ${st.picked.join(', ')} — ${h}`;
    } else if (st.draft && !st.full) h = t('pl_zoomHint');
    $('p-hint').textContent = h;
    if (map.getLayer('plan-grids-sel')) map.setFilter('plan-grids-sel', ['in', ['get', 'id'], ['literal', st.picked]]);
  }

  function drawSketch() {
    const pts = st.points.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
    const line = [...st.points, ...(st.cursor && st.points.length ? [st.cursor] : [])];
    const fs = line.length >= 2 ? [{ type: 'Feature', geometry: { type: 'LineString', coordinates: line }, properties: {} }, ...pts] : pts;
    map.getSource('plan-draw')?.setData({ type: 'FeatureCollection', features: fs });
  }

  // The grid under a point: the draft's layer, else the published grids (far out, where only
  // the draft's changed grids are loaded).
  function gridAt(point) {
    const layers = ['plan-grids-fill', 'grids-fill'].filter((l) => map.getLayer(l));
    for (const l of layers) {
      const f = map.queryRenderedFeatures(point, { layers: [l] })[0];
      if (f?.properties?.id != null) return String(f.properties.id);
    }
    return null;
  }

  map.on('click', (e) => {
    if (!st.active || !st.tool) return;
    const s = step();
    if (s === 'pick') {
      const id = gridAt(e.point);
      if (!id) return;
      if (st.picked.includes(id)) return;
      st.picked.push(id);
      renderTools();
      if (st.tool === 'merge' && st.picked.length === 2) apply({ op: 'merge', grids: [...st.picked] });
      return;
    }
    // a point of the line; the second click of a double-click lands on the first: skip it
    const last = st.points[st.points.length - 1];
    if (last) {
      const p = map.project(last);
      if (Math.hypot(p.x - e.point.x, p.y - e.point.y) < 4) return;
    }
    st.points.push([e.lngLat.lng, e.lngLat.lat]);
    drawSketch();
  });
  map.on('dblclick', (e) => {
    if (!st.active || step() !== 'line') return;
    e.preventDefault();
    finishLine();
  });
  map.on('mousemove', (e) => {
    if (!st.active || step() !== 'line' || !st.points.length) return;
    st.cursor = [e.lngLat.lng, e.lngLat.lat];
    drawSketch();
  });
  document.addEventListener('keydown', (e) => {
    if (!st.active || !st.tool || /INPUT|SELECT|TEXTAREA/.test(e.target?.tagName ?? '')) return;
    if (e.key === 'Escape') setTool(null);
    else if (e.key === 'Enter' && step() === 'line') finishLine();
    else if (e.key === 'Backspace' && st.points.length) { st.points.pop(); drawSketch(); }
  });

  function finishLine() {
    if (st.points.length < 2) { message(t('pl_needTwoPoints'), true); return; }
    const line = { type: 'LineString', coordinates: st.points.map(([x, y]) => [+x.toFixed(8), +y.toFixed(8)]) };
    if (st.tool === 'split') apply({ op: 'split', grid: st.picked[0], line });
    else apply({ op: 'move_boundary', grids: [...st.picked], line });
  }

  async function apply(edit) {
    const d = st.draft, tool = st.tool, picked = [...st.picked];
    setTool(null); // no clicks count while the edit is on its way
    const r = await post(`/plan/drafts/${d.id}/edits`, edit);
    if (!r.ok) { // keep the tool (and the picked grids of a line edit): try again
      refused(r);
      setTool(tool);
      if (edit.op !== 'merge') { st.picked = picked; renderTools(); }
      return;
    }
    message(`${t('pl_edited')}: ${t({ split: 'pl_split', merge: 'pl_merge', move_boundary: 'pl_move' }[edit.op])} → ${[...(r.data.changed || []), ...(r.data.deleted || [])].join(', ')}`);
    await refresh();
  }

  // ---- publish, roll back -------------------------------------------------------------------

  let revalidate = false;
  function reloadPublished() {
    if (!revalidate) {
      // the published grids changed under tiles the browser may keep for a minute (max-age):
      // from now on tiles are revalidated (ETag: a 304 when nothing changed)
      revalidate = true;
      map.setTransformRequest((url, type) => (type === 'Tile' ? { url, cache: 'no-cache' } : { url }));
    }
    const src = map.getSource('base');
    if (src?.tiles) src.setTiles([...src.tiles]);
  }

  $('p-publish').addEventListener('click', async () => {
    const d = st.draft;
    if (!d) { message(t('pl_needDraft'), true); return; }
    if (!window.confirm(fmt('pl_confirmPublish', d.name))) return;
    const r = await post(`/plan/drafts/${d.id}/publish`);
    if (!r.ok) { refused(r); return; }
    message(fmt('pl_published', r.data.version));
    await loadVersions();
    await selectDraft(null); // the draft is the published grid set now
    await loadDrafts();
    reloadPublished();
  });

  $('p-rollback').addEventListener('click', async () => {
    const n = $('p-rb-select').value;
    if (!n) return;
    if (!window.confirm(fmt('pl_confirmRollback', n))) return;
    const r = await post(`/plan/versions/${n}/rollback`);
    if (!r.ok) { refused(r); return; }
    message(fmt('pl_rolledBack', n, r.data.version));
    await loadVersions();
    if (st.draft) await refresh();
    reloadPublished();
  });

  const prevLang = gw.onLanguage;
  gw.onLanguage = () => {
    prevLang?.();
    $('p-new-name').placeholder = t('pl_newName');
    showToken();
    renderTools(); renderValidation(); renderBalance();
    if (st.current != null) $('p-version').textContent = fmt('pl_version', st.current);
  };
  st.refresh = refresh;
  st.setTool = setTool;
}
