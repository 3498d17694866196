// decode_mvt.mjs — the second, independent MVT decoder of the peer tests (@mapbox/vector-tile +
// pbf, what MapLibre itself uses), so a tile is not only judged by GDAL, which our own C tests use.
//
// usage: node decode_mvt.mjs Z-X-Y.pbf                 print each layer's feature count and ids
//        node decode_mvt.mjs Z-X-Y.pbf --against DIR   also compare with DIR/LAYER.geojson, the same
//                                                     bytes read by GDAL's MVT driver (ogr2ogr
//                                                     -oo CLIP=NO -f GeoJSON -t_srs EPSG:4326 ...)
//        node decode_mvt.mjs Z-X-Y.pbf --ids LAYER     print only the "id" property of LAYER's
//                                                     features, one a line (clusters have none)
// The tile coordinates come from the file name (as GDAL takes them).  A gzip'd tile is inflated.
// Per layer: same feature count, and feature by feature (sorted by id; clusters, which carry no
// id, by their count and position) the same id, text id, geometry type and a lon/lat bounding box
// within 1e-7 degrees.  Exit status 0 when everything matches, 1 on a mismatch, 2 on bad usage.
import { readFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';

const TOL = 1e-7;

function usage(msg) {
    console.error(`decode_mvt: ${msg}\nusage: node decode_mvt.mjs Z-X-Y.pbf [--against DIR]`);
    process.exit(2);
}

// Walk the coordinates of a GeoJSON geometry into a [minx, miny, maxx, maxy] box.
function bboxOf(geom) {
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    const walk = (c) => {
        if (typeof c[0] === 'number') {
            b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
            b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
        } else c.forEach(walk);
    };
    if (geom && geom.coordinates) walk(geom.coordinates);
    return b;
}

// One comparable record per feature.  `mvtId` is the MVT feature id (GDAL: the mvt_id field).
function record(mvtId, props, geom) {
    const cluster = props.cluster === true || props.cluster === 1;
    const key = mvtId !== undefined && mvtId !== null
        ? `#${String(mvtId).padStart(12, '0')} id=${props.id ?? ''}`
        : cluster ? `cluster count=${props.count}` : `noid id=${props.id ?? ''}`;
    const type = geom ? geom.type.replace(/^Multi/, '') : 'None';
    return { key, type, bbox: bboxOf(geom) };
}

function sortRecords(recs) {
    return recs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.bbox[0] - b.bbox[0] || a.bbox[1] - b.bbox[1]));
}

const args = process.argv.slice(2);
if (args.length !== 1 && !(args.length === 3 && (args[1] === '--against' || args[1] === '--ids'))) usage('wrong arguments');
const file = args[0];
const m = /^(\d+)-(\d+)-(\d+)\.(pbf|mvt)$/.exec(basename(file));
if (!m) usage(`${file}: name it Z-X-Y.pbf so the tile's coordinates are known`);
const [z, x, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
let bytes = readFileSync(file);
if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);

const tile = new VectorTile(new PbfReader(bytes));
if (args[1] === '--ids') {
    const layer = tile.layers[args[2]];
    for (let i = 0; layer && i < layer.length; i++) {
        const id = layer.feature(i).properties.id;
        if (id !== undefined) console.log(id);
    }
    process.exit(0);
}
const ours = {};
for (const name of Object.keys(tile.layers).sort()) {
    const layer = tile.layers[name];
    const recs = [];
    for (let i = 0; i < layer.length; i++) {
        const f = layer.feature(i);
        const gj = f.toGeoJSON(x, y, z);
        recs.push(record(f.id, f.properties, gj.geometry));
    }
    ours[name] = sortRecords(recs);
    const ids = ours[name].filter((r) => r.key.startsWith('#')).map((r) => r.key.slice(1).replace(/^0+(?=\d)/, ''));
    const clusters = ours[name].filter((r) => r.key.startsWith('cluster'));
    console.log(`${name}: ${layer.length} features (extent ${layer.extent}), ${clusters.length} clusters`);
    if (ids.length) console.log(`  ids: ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? `, … (${ids.length})` : ''}`);
}

if (args[1] === '--against') {
    const dir = args[2];
    let bad = 0;
    const fail = (msg) => { bad++; if (bad <= 20) console.log(`MISMATCH ${basename(file)} ${msg}`); };
    for (const [name, recs] of Object.entries(ours)) {
        const path = join(dir, `${name}.geojson`);
        if (!existsSync(path)) { fail(`${name}: GDAL gave no layer ${name}`); continue; }
        const fc = JSON.parse(readFileSync(path, 'utf8'));
        const theirs = sortRecords(fc.features.map((f) => record(f.properties.mvt_id, f.properties, f.geometry)));
        if (theirs.length !== recs.length) { fail(`${name}: ${recs.length} features here, ${theirs.length} in GDAL`); continue; }
        for (let i = 0; i < recs.length; i++) {
            const a = recs[i], b = theirs[i];
            if (a.key !== b.key) { fail(`${name}[${i}]: '${a.key}' here, '${b.key}' in GDAL`); continue; }
            if (a.type !== b.type) fail(`${name} ${a.key}: ${a.type} here, ${b.type} in GDAL`);
            const d = Math.max(...a.bbox.map((v, k) => Math.abs(v - b.bbox[k])));
            if (!(d <= TOL)) fail(`${name} ${a.key}: bounding boxes differ by ${d} degrees`);
        }
    }
    console.log(`${basename(file)}: ${bad === 0 ? 'same features in both decoders' : `${bad} mismatches`}`);
    process.exit(bad === 0 ? 0 : 1);
}
