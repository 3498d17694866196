// bench_wall.mjs — is the map wall still smooth under a live city?  Opens the wall (wall mode,
// rotating views) in headless Chromium against `gridwatch serve DB`, drives RATE team position
// updates per second through POST /dispatch/positions for DURATION seconds, and measures in the
// page and over the Chrome DevTools Protocol:
//   frames   requestAnimationFrame deltas (a frame > 50 ms is counted as dropped), long tasks;
//   memory   JS heap used (CDP Performance.getMetrics) every 10 s, DOM nodes, renderer+GPU RSS;
//   lag      POST of a position -> the team drawn at its new place (the live team layer's last
//            drawn frame), sampled.
// Prints a minute-by-minute table and a verdict.  Run through bench/bench_wall.sh.
// env: GW_BIN, DB (served as is), DURATION (s, 600), RATE (moves/s, 50), VIEWPORT (1920x1080),
//      MODE (wall | page), GW_CHROMIUM, TRACE_FILE (a DevTools trace of the last 10 s, optional),
//      PROFILE (1: a main-thread CPU profile of seconds 20-40, its top functions printed).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { startCity } from '../tests/browser/lib.mjs';

const DURATION = +(process.env.DURATION || 600);
const RATE = +(process.env.RATE ?? 50);
const [VW, VH] = (process.env.VIEWPORT || '1920x1080').split('x').map(Number);
const MODE = process.env.MODE || 'wall';
const DB = process.env.DB;
if (!DB) { console.error('bench_wall.mjs: set DB (run bench/bench_wall.sh)'); process.exit(2); }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (a, p) => { if (!a.length) return 0; const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))]; };
const mb = (b) => b / 1048576;

// RSS and CPU time (s) of this process's Chromium renderer and GPU processes (their heaps, GL
// buffers, workers; the CPU the page costs, whatever else runs on the machine).
function chromeStats() {
  const kids = (pid) => {
    let out = [];
    try {
      for (const t of readdirSync(`/proc/${pid}/task`))
        for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean)) out.push(+c, ...kids(+c));
    } catch { /* gone */ }
    return out;
  };
  let rss = 0, cpu = 0;
  for (const pid of kids(process.pid)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/--type=(renderer|gpu-process)/.test(cmd)) continue;
      rss += +readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1] * 4096;
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpu += (+st[11] + +st[12]) / 100; // utime + stime, in USER_HZ (100 on Linux)
    } catch { /* gone */ }
  }
  return { rss, cpu };
}

// In the page before it loads: a rAF loop recording frame deltas, and a long-task observer.
function probe() {
  window.__bench = { frames: [], still: [], drew: [], long: [], lags: [], drawing: false };
  let last = performance.now();
  const tick = (t) => {
    window.__bench.frames.push(t - last);
    window.__bench.still.push(!window.gw?.map?.isMoving?.());
    window.__bench.drew.push(window.__bench.drawing); // the map drew in the frame this one ends
    window.__bench.drawing = false;
    last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.long.push(e.duration); })
      .observe({ type: 'longtask', buffered: true });
  } catch { /* no long task API */ }
}

async function teamsOf(base) {
  const out = [];
  let url = `${base}/collections/teams/items?limit=10000`;
  while (url && out.length < 100000) {
    const d = await (await fetch(url)).json();
    for (const f of d.features || []) out.push({ id: f.id, c: f.geometry.coordinates });
    const next = (d.links || []).find((l) => l.rel === 'next');
    url = next ? new URL(next.href, base).href : null;
  }
  return out;
}

// The lag of one move, started in the page and left running: POST a position inside the view,
// then note when the page has the move (state) and when the team is drawn there.  Results go to
// window.__bench.lags: { post, state, drawn } ms after the POST was sent, or { err }.
function lagProbe([id, token]) {
  const map = window.gw.map;
  const c = map.getCenter(), b = map.getBounds();
  const to = [+(c.lng + (b.getEast() - c.lng) * (Math.random() * 0.4 - 0.2)).toFixed(6), +(c.lat + (b.getNorth() - c.lat) * (Math.random() * 0.4 - 0.2)).toFixed(6)];
  const near = (p) => p && Math.abs(p[0] - to[0]) < 1e-5 && Math.abs(p[1] - to[1]) < 1e-5;
  const t0 = performance.now(), out = {};
  // tiles of each source still loading (a move waits behind them in the one tile worker)
  const pending = () => Object.entries(map.style.tileManagers || {}).map(([k, tm]) => [k, tm._inViewTiles?.getAllTiles?.().filter((t) => t.state !== 'loaded' && t.state !== 'errored').length ?? -1])
    .filter(([, n]) => n).map(([k, n]) => `${k}:${n}`).join(' ');
  out.pending = pending();
  fetch('/dispatch/positions', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify([{ id, lon: to[0], lat: to[1] }]) }).then((r) => {
    out.post = performance.now() - t0;
    if (!r.ok) { window.__bench.lags.push({ err: r.status }); return; }
    const check = () => {
      if (out.state === undefined && near(window.gw.state.liveTeams.get(id)?.geometry.coordinates)) out.state = performance.now() - t0;
      const d = out.state !== undefined && window.gw.teamDrawn(id);
      if (d && near([d.lon, d.lat])) {
        out.drawn = performance.now() - t0;
        out.pendingDrawn = pending();
        window.__bench.lags.push(out);
      } else if (performance.now() - t0 > 30000) window.__bench.lags.push({ err: out.state === undefined ? 'no event in 30 s' : 'not drawn in 30 s', ...out });
      else requestAnimationFrame(check);
    };
    check();
  }).catch((e) => window.__bench.lags.push({ err: String(e) }));
}

async function main() {
  const env = await startCity({ db: DB, threads: 2 });
  const { base, token } = env;
  let stopping = false;
  const cleanup = async () => { if (!stopping) { stopping = true; await env.stop(); } };
  process.on('SIGINT', () => cleanup().then(() => process.exit(130)));
  try {
    const teams = await teamsOf(base);
    if (teams.length < 20) throw new Error(`only ${teams.length} teams in ${DB}`);
    const probeTeams = teams.splice(-8).map((t) => String(t.id)); // the lag probe's own teams
    for (let i = teams.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [teams[i], teams[j]] = [teams[j], teams[i]]; }

    const ctx = await env.browser.newContext({ viewport: { width: VW, height: VH }, locale: 'zh-CN' });
    await ctx.addInitScript(probe);
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/wall/${MODE === 'wall' ? '?mode=wall' : ''}`, { waitUntil: 'load' });
    await page.evaluate(() => window.gw.ready);
    await page.waitForFunction(() => window.gw.es?.readyState === 1, null, { timeout: 30000 }).catch(() => errors.push('no /events connection'));
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.evaluate(() => {
      window.gw.map.on('render', () => { window.__bench.drawing = true; });
      window.gw.map.on('moveend', () => { window.__bench.movedAt = performance.now(); });
    });
    // the floor: what one redraw of the loaded wall costs here with nothing changed (again at
    // the end, when the fleet is live but the moves have stopped: the same scene without the load)
    const redrawStart = await page.evaluate(redrawCost);
    await page.evaluate(() => { for (const k of ['frames', 'still', 'drew', 'long']) window.__bench[k].length = 0; });

    // the load: RATE moves per second, round robin over the shuffled fleet, each a short hop
    // at most MAX_INFLIGHT POSTs outstanding: a server that falls behind is reported (skipped), not buried
    const MAX_INFLIGHT = 32;
    const sent = { ok: 0, err: 0, skipped: 0, inflight: 0, ms: [] };
    let next = 0, due = 0;
    const t0 = Date.now();
    const driver = setInterval(() => {
      const want = Math.floor(((Date.now() - t0) / 1000) * RATE);
      for (; due < want; due++) {
        if (sent.inflight >= MAX_INFLIGHT) { sent.skipped++; continue; }
        const tm = teams[next++ % teams.length];
        tm.c = [tm.c[0] + (Math.random() - 0.5) * 0.004, tm.c[1] + (Math.random() - 0.5) * 0.004];
        const s = Date.now();
        sent.inflight++;
        fetch(`${base}/dispatch/positions`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify([{ id: tm.id, lon: +tm.c[0].toFixed(6), lat: +tm.c[1].toFixed(6) }]) })
          .then((r) => { r.ok ? sent.ok++ : sent.err++; sent.ms.push(Date.now() - s); return r.arrayBuffer(); })
          .catch(() => sent.err++).finally(() => sent.inflight--);
      }
    }, 20);

    const minutes = [];
    let cur = null, probeIdx = 0, lastProbe = 0, trace = null, prof = 0, lastCpu = chromeStats().cpu;
    const lagRows = [];
    // a sample every 10 s of the clock (a jammed page makes samples late, not the run longer)
    for (let tick = 1; Date.now() - t0 < DURATION * 1000; tick++) {
      await sleep(Math.min(t0 + tick * 10000, t0 + DURATION * 1000) - Date.now());
      if (TRACE_FILE() && !trace && Date.now() - t0 + 10000 >= DURATION * 1000) {
        trace = []; cdp.on('Tracing.dataCollected', (d) => trace.push(...d.value));
        await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline.frame,v8.execute', transferMode: 'ReportEvents' });
      }
      const el = Date.now() - t0;
      if (process.env.PROFILE === '1' && !prof && el >= 20000) { prof = 1; await cdp.send('Profiler.enable'); await cdp.send('Profiler.start'); }
      if (prof === 1 && el >= 40000) { prof = 2; printProfile((await cdp.send('Profiler.stop')).profile); }
      const b = await page.evaluate(() => ({ frames: window.__bench.frames.splice(0), still: window.__bench.still.splice(0), drew: window.__bench.drew.splice(0),
        long: window.__bench.long.splice(0), lags: window.__bench.lags.splice(0), dom: document.getElementsByTagName('*').length, live: window.gw.state.liveTeams.size }));
      const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
      // a late last sample (a slow page) counts in the run's last minute
      const minute = Math.min(Math.max(0, Math.floor((Date.now() - t0 - 1) / 60000)), Math.ceil(DURATION / 60) - 1);
      if (!cur || cur.minute !== minute) { cur = { minute, frames: [], stillDrop: 0, jank: 0, draws: [], long: [], heap: [], nodes: [], dom: 0, rss: [], lag: [], live: 0, sent: 0 }; minutes.push(cur); }
      for (let i = 0; i < b.frames.length; i++) {
        cur.frames.push(b.frames[i]);
        if (b.still[i] && b.frames[i] > 50) cur.stillDrop++;
        if (!b.drew[i] && b.frames[i] > 50) cur.jank++; // a slow frame the map did not draw in: the page's own
        if (b.drew[i] && b.still[i]) cur.draws.push(b.frames[i]);
      }
      cur.long.push(...b.long);
      cur.heap.push(mb(m.JSHeapUsedSize)); cur.nodes.push(m.Nodes); cur.dom = b.dom; const cs = chromeStats(); cur.rss.push(mb(cs.rss)); cur.cpu1 = cs.cpu; cur.cpu0 ??= lastCpu; lastCpu = cs.cpu; cur.live = b.live;
      cur.sent = sent.ok + sent.err + sent.inflight;
      for (const r of b.lags) { lagRows.push(r); cur.lag.push(r.err === undefined ? r.drawn : NaN); }
      // a lag sample at most every 20 s, when the camera is still and came to rest less than 12 s
      // ago (the wall's views stay 30 s: the sample is not cut short by the next view change)
      if (Date.now() - lastProbe >= 19000 && Date.now() - t0 < DURATION * 1000 - 30000 &&
          await page.evaluate(() => !window.gw.map.isMoving() && (window.__bench.movedAt === undefined || performance.now() - window.__bench.movedAt < 12000)) && (lastProbe = Date.now()))
        await page.evaluate(lagProbe, [probeTeams[probeIdx++ % probeTeams.length], token]);
    }
    clearInterval(driver);
    while (sent.inflight) await sleep(50);
    await sleep(2000);
    const redrawEnd = await page.evaluate(redrawCost);
    const redrawIdle = redrawEnd; // the same scene as under load, the moves stopped
    if (trace) {
      const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
      await cdp.send('Tracing.end');
      await done;
      writeFileSync(TRACE_FILE(), JSON.stringify({ traceEvents: trace }));
    }

    // the table
    const rows = [];
    const line = (...c) => rows.push(c.map((x, i) => String(x).padStart(i ? 9 : 6)).join(' '));
    line('minute', 'frames', 'dropped', 'still', 'no draw', 'draws', 'draw ms', 'p99 ms', 'max ms', 'longtask', 'heap MB', 'DOM', 'RSS MB', 'CPU s', 'lag ms', 'moves', 'teams');
    let prevSent = 0;
    const all = { frames: 0, dropped: 0, still: 0, jank: 0, draws: [], long: 0, lag: [] };
    for (const m of minutes) {
      const dropped = m.frames.filter((d) => d > 50).length;
      all.frames += m.frames.length; all.dropped += dropped; all.still += m.stillDrop; all.jank += m.jank; all.draws.push(...m.draws); all.long += m.long.length; all.lag.push(...m.lag);
      const lagOk = m.lag.filter((x) => !isNaN(x));
      line(m.minute + 1, m.frames.length, dropped, m.stillDrop, m.jank, m.draws.length, pct(m.draws, 0.5).toFixed(0), pct(m.frames, 0.99).toFixed(1), Math.max(0, ...m.frames).toFixed(0), m.long.length,
        `${Math.min(...m.heap).toFixed(1)}-${Math.max(...m.heap).toFixed(1)}`, m.dom, Math.max(...m.rss).toFixed(0), (m.cpu1 - m.cpu0).toFixed(1),
        lagOk.length ? pct(lagOk, 0.5).toFixed(0) + (lagOk.length < m.lag.length ? '+fail' : '') : (m.lag.length ? 'fail' : '-'), m.sent - prevSent, m.live);
      prevSent = m.sent;
    }
    console.log(`map wall under load: ${MODE} mode ${VW}x${VH}, ${teams.length + 8} teams, ${RATE} moves/s for ${DURATION} s (${sent.ok} POSTs ok, ${sent.err} failed, ${sent.skipped} skipped with ${MAX_INFLIGHT} in flight, POST p50 ${pct(sent.ms, 0.5)} ms p99 ${pct(sent.ms, 0.99)} ms)`);
    console.log('dropped = frames over 50 ms, still = of those while the camera was not moving (the wall\'s view changes are animated),');
    console.log('no draw = of those, frames in which the map did not draw (the page\'s own JavaScript), draws / draw ms = frames with the camera still');
    console.log(`in which the map drew, and their median time; one redraw of the wall with nothing changed costs ${redrawStart.toFixed(0)} ms here before the load`);
    console.log(`and ${redrawEnd.toFixed(0)} ms after it (the renderer's floor);`);
    console.log('CPU s = CPU time of the renderer and GPU processes in the minute (of the 120 s two cores give);');
    console.log('heap MB = min-max of the 10 s samples (CDP JSHeapUsedSize); lag = POST -> team drawn at its new place, median of the minute\'s samples');
    console.log(rows.join('\n'));
    if (process.env.LAGS === '1') for (const r of lagRows) console.log('lag sample', JSON.stringify(r));
    const heapLo = minutes.map((m) => Math.min(...m.heap));
    const growth = minutes.length > 3 ? heapLo[heapLo.length - 1] - Math.min(...heapLo.slice(1, 3)) : 0;
    const okLag = all.lag.filter((x) => !isNaN(x));
    const steady = growth < 10;
    // the page's part: no slow frame of its own; a redraw costs no more than the idle wall's (1.5x:
    // the renderer's floor, the one part of a frame a faster GPU changes); a move drawn within a second
    const drawMs = pct(all.draws, 0.5);
    const smooth = all.jank <= all.frames * 0.001 && (drawMs <= 50 || drawMs <= 1.5 * redrawIdle);
    const prompt = okLagP95() <= 1000;
    function okLagP95() { return pct(all.lag.filter((x) => !isNaN(x)), 0.95); }
    const flushMs = await page.evaluate(() => window.gw.teamFlushMs());
    console.log(`verdict: ${smooth && steady && prompt && !errors.length ? 'PASS' : 'FAIL'} — ${all.dropped} of ${all.frames} frames over 50 ms (${(100 * all.dropped / Math.max(1, all.frames)).toFixed(2)} %; ${all.still} with the camera still; ` +
      `${all.jank} in which the map did not draw), ${all.draws.length} redraws with the camera still at a median ${drawMs.toFixed(0)} ms against ${redrawIdle.toFixed(0)} ms idle, team flush every ${flushMs} ms, ` +
      `${all.long} long tasks, heap (minute minimum) ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB from minute 2-3 to the end, ` +
      `lag p50 ${pct(okLag, 0.5).toFixed(0)} ms p95 ${pct(okLag, 0.95).toFixed(0)} ms (${all.lag.length - okLag.length} of ${all.lag.length} samples failed)` +
      (errors.length ? `, page errors: ${errors.slice(0, 3).join('; ')}` : ''));
    await ctx.close();
  } finally {
    await cleanup();
  }
}

// In the page: the median time of 12 redraws of the map with nothing changed (from the frame that
// asks for one to the frame after it drew), after the first view's tiles are in.
async function redrawCost() {
  const m = window.gw.map, d = [];
  const end = performance.now() + 60000;
  while (!(m.loaded() && m.areTilesLoaded() && !m.isMoving()) && performance.now() < end) await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 12; i++) {
    await new Promise((r) => requestAnimationFrame(r));
    const t0 = performance.now();
    m.triggerRepaint();
    await new Promise((r) => m.once('render', r));
    await new Promise((r) => requestAnimationFrame(r));
    d.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  d.sort((a, b) => a - b);
  return d[6];
}

// The functions with the most self time in a CDP profile, and the total sampled.
function printProfile(p) {
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) || 0) + (p.timeDeltas[i + 1] ?? 0));
  const self = new Map();
  let total = 0;
  for (const n of p.nodes) {
    const ms = (dt.get(n.id) || 0) / 1000;
    total += ms;
    const f = n.callFrame, key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    self.set(key, (self.get(key) || 0) + ms);
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log(`main-thread profile, ${(total / 1000).toFixed(1)} s sampled:`);
  for (const [k, ms] of top) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${k}`);
}

function TRACE_FILE() { return process.env.TRACE_FILE || ''; }

main().catch((e) => { console.error(e); process.exit(1); });
