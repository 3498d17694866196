// teamlayer.js — the live teams, drawn by the page itself (a MapLibre custom layer): a position
// that arrives goes into one GPU buffer and is on screen at the next redraw.  A GeoJSON source
// would send each batch of moves to the tile worker and re-cut the tiles they touch, which queues
// behind the city's vector tiles whenever the wall changes view (moves then showed up to 30 s
// late).  Circles coloured by status, sized by zoom like the tile layer's, with a white rim.
//
//   const layer = createTeamLayer('live-teams', { available: '#…', busy: '#…', offline: '#…' });
//   map.addLayer(layer, beforeId);  layer.set(id, lon, lat, status);  layer.remove(id);
//   layer.drawn(id) -> { lon, lat, status } as of the last frame drawn, or undefined.

const STATUSES = ['available', 'busy', 'offline', 'other'];
const VERT = `
attribute vec2 a_pos;
attribute float a_status;
uniform mat4 u_matrix;
uniform float u_size;
uniform vec4 u_colors[4];
varying vec4 v_color;
void main() {
  gl_Position = u_matrix * vec4(a_pos, 0.0, 1.0);
  gl_PointSize = u_size;
  v_color = u_colors[int(a_status + 0.5)];
}`;
const FRAG = `
precision mediump float;
uniform float u_px;   // one pixel, in units of the radius
uniform float u_rim;  // the rim's width in pixels
varying vec4 v_color;
void main() {
  float r = length(gl_PointCoord * 2.0 - 1.0);
  if (r > 1.0) discard;
  float px = u_px;
  vec3 c = r > 1.0 - u_rim * px ? vec3(1.0) : v_color.rgb;
  float a = 1.0 - smoothstep(1.0 - px, 1.0, r);  // antialiased edge
  gl_FragColor = vec4(c * a, a);                 // premultiplied, as MapLibre blends
}`;

function rgba(hex) {
  const v = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return [...v, 1];
}

// Web Mercator in [0, 1] (MapLibre's world space for custom layers).
function merc(lon, lat) {
  const s = Math.sin((Math.max(-85.05113, Math.min(85.05113, lat)) * Math.PI) / 180);
  return [0.5 + lon / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

export function createTeamLayer(id, colors, { radius = [[8, 3.5], [15, 7]], rim = 1.5 } = {}) {
  let cap = 1024, n = 0, seq = 0, drawnSeq = 0, dirty = false;
  let xy = new Float32Array(cap * 2), st = new Float32Array(cap);
  const slot = new Map(), ids = [], info = [], setSeq = [];
  let origin = null; // positions are kept relative to the first team's (float32 keeps mm there)
  let map = null, gl = null, prog = null, buf = null, sbuf = null, loc = null;

  function grow() {
    cap *= 2;
    const a = new Float32Array(cap * 2), b = new Float32Array(cap);
    a.set(xy), b.set(st);
    xy = a, st = b;
  }
  function compile(type, src) {
    const s = gl.createShader(type);
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`team layer shader: ${gl.getShaderInfoLog(s)}`);
    return s;
  }
  function sizeAt(z) {
    const [[z0, r0], [z1, r1]] = radius;
    const t = Math.max(0, Math.min(1, (z - z0) / (z1 - z0)));
    return r0 + t * (r1 - r0);
  }

  const layer = {
    id, type: 'custom', renderingMode: '2d',
    onAdd(m, context) {
      map = m, gl = context;
      prog = gl.createProgram();
      gl.attachShader(prog, compile(gl.VERTEX_SHADER, VERT));
      gl.attachShader(prog, compile(gl.FRAGMENT_SHADER, FRAG));
      gl.linkProgram(prog);
      if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`team layer program: ${gl.getProgramInfoLog(prog)}`);
      loc = {
        pos: gl.getAttribLocation(prog, 'a_pos'), status: gl.getAttribLocation(prog, 'a_status'),
        matrix: gl.getUniformLocation(prog, 'u_matrix'), size: gl.getUniformLocation(prog, 'u_size'),
        rim: gl.getUniformLocation(prog, 'u_rim'), px: gl.getUniformLocation(prog, 'u_px'), colors: gl.getUniformLocation(prog, 'u_colors'),
      };
      buf = gl.createBuffer(), sbuf = gl.createBuffer();
      dirty = true;
    },
    onRemove() {
      if (gl) { gl.deleteBuffer(buf); gl.deleteBuffer(sbuf); gl.deleteProgram(prog); }
      map = gl = null;
    },
    render(context, opts) {
      if (!n || !origin) { drawnSeq = seq; return; }
      if (dirty) {
        gl.bindBuffer(gl.ARRAY_BUFFER, buf);
        gl.bufferData(gl.ARRAY_BUFFER, xy.subarray(0, n * 2), gl.DYNAMIC_DRAW);
        gl.bindBuffer(gl.ARRAY_BUFFER, sbuf);
        gl.bufferData(gl.ARRAY_BUFFER, st.subarray(0, n), gl.DYNAMIC_DRAW);
        dirty = false;
      }
      // the camera's matrix for mercator [0, 1] (MapLibre 5+: defaultProjectionData.mainMatrix, in
      // double precision), moved to the origin, then to float32
      const m = opts.defaultProjectionData.mainMatrix;
      const t = new Float32Array(16);
      for (let i = 0; i < 12; i++) t[i] = m[i];
      for (let r = 0; r < 4; r++) t[12 + r] = m[r] * origin[0] + m[4 + r] * origin[1] + m[12 + r];
      const dpr = map.getPixelRatio?.() || window.devicePixelRatio || 1;
      const size = 2 * (sizeAt(map.getZoom()) + rim) * dpr;
      gl.useProgram(prog);
      gl.uniformMatrix4fv(loc.matrix, false, t);
      gl.uniform1f(loc.size, size);
      gl.uniform1f(loc.rim, rim * dpr);
      gl.uniform1f(loc.px, 2 / size);
      gl.uniform4fv(loc.colors, new Float32Array(STATUSES.flatMap((s) => rgba(colors[s] || colors.other || '#000000'))));
      gl.bindBuffer(gl.ARRAY_BUFFER, buf);
      gl.enableVertexAttribArray(loc.pos);
      gl.vertexAttribPointer(loc.pos, 2, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, sbuf);
      gl.enableVertexAttribArray(loc.status);
      gl.vertexAttribPointer(loc.status, 1, gl.FLOAT, false, 0, 0);
      gl.drawArrays(gl.POINTS, 0, n);
      gl.disableVertexAttribArray(loc.pos);
      gl.disableVertexAttribArray(loc.status);
      drawnSeq = seq;
    },

    // A team's position and status; the map redraws at its next frame.
    set(tid, lon, lat, status) {
      if (!Number.isFinite(lon) || !Number.isFinite(lat)) return;
      const p = merc(lon, lat);
      if (!origin) origin = p;
      let k = slot.get(tid);
      if (k === undefined) {
        if (n === cap) grow();
        k = n++;
        slot.set(tid, k);
        ids[k] = tid;
      }
      xy[2 * k] = p[0] - origin[0], xy[2 * k + 1] = p[1] - origin[1];
      const si = STATUSES.indexOf(status);
      st[k] = si < 0 ? 3 : si;
      info[k] = { lon, lat, status };
      setSeq[k] = ++seq;
      dirty = true;
      map?.triggerRepaint();
    },
    remove(tid) {
      const k = slot.get(tid);
      if (k === undefined) return;
      const last = --n;
      if (k !== last) { // the last team takes the freed place
        xy[2 * k] = xy[2 * last], xy[2 * k + 1] = xy[2 * last + 1], st[k] = st[last];
        ids[k] = ids[last], info[k] = info[last], setSeq[k] = setSeq[last];
        slot.set(ids[k], k);
      }
      slot.delete(tid);
      ids.length = info.length = setSeq.length = n;
      seq++;
      dirty = true;
      map?.triggerRepaint();
    },
    has(tid) { return slot.has(tid); },
    get size() { return n; },
    // What the last drawn frame showed for a team (undefined: not drawn yet, or not a live team).
    drawn(tid) {
      const k = slot.get(tid);
      return k !== undefined && setSeq[k] <= drawnSeq ? { ...info[k] } : undefined;
    },
  };
  return layer;
}
