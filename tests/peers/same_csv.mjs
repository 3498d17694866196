// same_csv.mjs — are two CSV exports of a layer (gridwatch export, before and after a round trip
// through another program) the same rows?  Text fields must be equal; numbers in the geometry
// columns (X, Y or WKT) may differ by 1e-6 degrees (GeoJSON output is rounded to 7 decimals),
// and a polygon ring may start at another vertex or run the other way (GeoJSON output follows
// the right-hand rule, the store keeps the rings as they came).
//
// usage: node same_csv.mjs A.csv B.csv   exit status 0 when the same, 1 otherwise (first
//                                       differences printed), 2 on bad usage.
import { readFileSync } from 'node:fs';

const TOL = 1e-6;
if (process.argv.length !== 4) {
    console.error('usage: node same_csv.mjs A.csv B.csv');
    process.exit(2);
}

const NUM = /-?[0-9.]+(e-?[0-9]+)?/g;
const near = (p, q) => Math.abs(p[0] - q[0]) <= TOL && Math.abs(p[1] - q[1]) <= TOL;

// The rings (innermost parenthesised coordinate lists) of a WKT, as arrays of [x, y].
function rings(wkt) {
    return [...wkt.matchAll(/\(([^()]*)\)/g)].map((m) =>
        m[1].split(',').map((pt) => pt.trim().split(/\s+/).map(Number)));
}

// Same closed ring up to its starting vertex and direction?
function sameRing(r, s) {
    if (r.length !== s.length) return false;
    const n = r.length - 1; // the closing vertex repeats the first
    if (n < 1) return near(r[0], s[0]);
    for (let start = 0; start < n; start++) {
        if (!near(r[0], s[start])) continue;
        let fwd = true, back = true;
        for (let k = 0; k < n && (fwd || back); k++) {
            if (!near(r[k], s[(start + k) % n])) fwd = false;
            if (!near(r[k], s[(start - k + n) % n])) back = false;
        }
        if (fwd || back) return true;
    }
    return false;
}

function sameGeometry(x, y) {
    const shape = (t) => t.replace(NUM, '0');
    if (shape(x) !== shape(y)) return false;
    if (!x.includes('(')) { // X or Y column
        return Math.abs(Number(x) - Number(y)) <= TOL;
    }
    const rx = rings(x), ry = rings(y);
    return rx.length === ry.length && rx.every((r, k) => sameRing(r, ry[k]));
}

// RFC 4180 rows (quoted fields with "" escapes and embedded newlines).
function parse(text) {
    const rows = [];
    let row = [], field = '', q = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (q) {
            if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
            else if (c === '"') q = false;
            else field += c;
        } else if (c === '"') q = true;
        else if (c === ',') { row.push(field); field = ''; }
        else if (c === '\n' || c === '\r') {
            if (c === '\r' && text[i + 1] === '\n') i++;
            row.push(field); rows.push(row); row = []; field = '';
        } else field += c;
    }
    if (field !== '' || row.length) { row.push(field); rows.push(row); }
    return rows;
}

const [a, b] = process.argv.slice(2).map((f) => parse(readFileSync(f, 'utf8')));
const geomCols = new Set(['X', 'Y', 'WKT']);
let bad = 0;
const fail = (m) => { if (++bad <= 10) console.log(m); };
if (a.length !== b.length) fail(`${a.length - 1} rows vs ${b.length - 1} rows`);
else if (a[0].join(',') !== b[0].join(',')) fail(`columns differ: ${a[0]} vs ${b[0]}`);
else {
    const head = a[0];
    for (let r = 1; r < a.length; r++) {
        for (let c = 0; c < head.length; c++) {
            const x = a[r][c] ?? '', y = b[r][c] ?? '';
            if (x === y) continue;
            if (geomCols.has(head[c]) && sameGeometry(x, y)) continue;
            fail(`row ${r} column ${head[c]}: '${x.slice(0, 80)}' vs '${y.slice(0, 80)}'`);
        }
    }
}
console.log(bad ? `${bad} differences` : `same ${a.length - 1} rows`);
process.exit(bad ? 1 : 0);
