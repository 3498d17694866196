// check_geojson.mjs — validate GeoJSON documents with @mapbox/geojsonhint (an independent RFC 7946
// checker: structure, member types, positions, ring closure, the right-hand rule of polygon rings,
// duplicate members), for the peer tests of our /collections/{layer}/items output.
//
// usage: node check_geojson.mjs FILE.json...
// Prints "FILE: N features, K problems" and the first problems of each file; exit status 0 when
// no file has a problem, 1 otherwise, 2 on bad usage.  The coordinate precision warning is off:
// we write 7 decimals on purpose (issue 3; RFC 7946 leaves the precision to the producer).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const geojsonhint = require('@mapbox/geojsonhint');

const files = process.argv.slice(2);
if (files.length === 0) {
    console.error('usage: node check_geojson.mjs FILE.json...');
    process.exit(2);
}
let bad = 0;
for (const file of files) {
    const text = readFileSync(file, 'utf8');
    // String input: geojsonhint also reports duplicate members and gives line numbers.
    const problems = geojsonhint.hint(text, { precisionWarning: false });
    let n = '?';
    try {
        const doc = JSON.parse(text);
        n = Array.isArray(doc.features) ? doc.features.length : doc.type === 'Feature' ? 1 : 0;
    } catch {
        /* geojsonhint has reported the syntax error */
    }
    console.log(`${file}: ${n} features, ${problems.length} problems`);
    for (const p of problems.slice(0, 5)) console.log(`  line ${p.line ?? '?'}: ${p.message}`);
    if (problems.length) bad++;
}
process.exit(bad ? 1 : 0);
