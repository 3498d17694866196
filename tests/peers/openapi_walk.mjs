// openapi_walk.mjs — a client that knows gridwatch only from its /openapi.json: swagger-parser
// validates the document, then every documented operation is called with the documented example
// parameters (path and query) and request body, and must answer the documented success status
// with the documented content type; a JSON body is checked against the documented schema (ajv).
// An operation whose only security is a bearer token is also called without one: it must answer
// the documented 401 problem (its body checked against the Problem schema).  Writes run after
// the reads (POST /plan/drafts before them: the examples name draft 1), the publish and
// rollback after the other writes, deletes last.
// usage: node openapi_walk.mjs BASE_URL TOKEN   (exit 0: all passed, 1: a failure)
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error("usage: node openapi_walk.mjs BASE_URL TOKEN");
  process.exit(2);
}
let pass = 0, fail = 0, skip = 0;
const bad = (m) => { fail++; console.log("FAIL: " + m); };

// Operations the walk does not call with a token, and why (each is still called without one).
const NOT_CALLED = {
  // a request body the document cannot give one example for (a feature of each collection, a
  // layout file, an edit of a draft whose grids it does not know): the HTTP tests cover them
  "POST /plan/drafts/{id}/import": "needs a layout file (tests/http/test_plan_http.c uploads them)",
};
// Operations whose documented answer to the example is not a success, and why.
const EXPECT = {
  // grid boundaries change only through a plan draft
  "POST /collections/grids/items": 409,
  "PUT /collections/grids/items/{featureId}": 409,
  "DELETE /collections/grids/items/{featureId}": 409,
};

const raw = await (await fetch(base + "/openapi.json")).json();
try {
  await SwaggerParser.validate(structuredClone(raw));
  pass++;
} catch (e) {
  bad("swagger-parser: " + e.message);
}
const doc = await SwaggerParser.dereference(structuredClone(raw));
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(raw, "oas");

const baseType = (t) => (t || "").split(";")[0].trim().toLowerCase();

// The schema of a documented body as ajv sees it: a $ref into the raw document, or inline.
function validator(rawMedia) {
  const s = rawMedia && rawMedia.schema;
  if (!s) return null;
  if (s.$ref) return ajv.getSchema("oas" + s.$ref);
  return ajv.compile(s);
}

function url(path, op) {
  let p = path;
  const q = new URLSearchParams();
  for (const prm of op.parameters || []) {
    if (prm.example === undefined) continue;
    const v = Array.isArray(prm.example) ? prm.example.join(",") : String(prm.example);
    if (prm.in === "path") p = p.replace("{" + prm.name + "}", encodeURIComponent(v));
    else if (prm.in === "query") q.set(prm.name, v);
  }
  const qs = q.toString();
  return base + p + (qs ? "?" + qs : "");
}

async function call(method, u, op, withToken) {
  const headers = {};
  if (withToken) headers.Authorization = "Bearer " + token;
  let body;
  const rb = op.requestBody && op.requestBody.content;
  if (rb) {
    const [type, media] = Object.entries(rb)[0];
    headers["Content-Type"] = type;
    body = media.example !== undefined ? JSON.stringify(media.example) : undefined;
  }
  const ac = new AbortController();
  const res = await fetch(u, { method: method.toUpperCase(), headers, body, signal: ac.signal });
  const type = res.headers.get("content-type");
  let text = null;
  if (baseType(type) === "text/event-stream") ac.abort(); // a stream: the headers say enough
  else text = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type, text };
}

function needsToken(op) {
  const sec = op.security || doc.security || [];
  return sec.length > 0 && !sec.some((s) => Object.keys(s).length === 0);
}

async function check(method, path, op, rawOp) {
  const name = `${method.toUpperCase()} ${path}`;
  const u = url(path, op);
  const route = op["x-gridwatch-route"];
  if (needsToken(op)) { // the documented 401 without a token
    const r = await call(method, u, op, false);
    const problem = ajv.getSchema("oas#/components/schemas/Problem");
    if (r.status === 401 && baseType(r.type) === "application/problem+json" && op.responses["401"] &&
        problem(JSON.parse(r.text.toString())))
      pass++;
    else bad(`${name} without a token: ${r.status} ${r.type}, documented ${op.responses["401"] ? "401" : "no 401"}`);
  }
  if (NOT_CALLED[route]) {
    skip++;
    return;
  }
  const r = await call(method, u, op, needsToken(op));
  const status = String(r.status), resp = op.responses[status];
  if (EXPECT[name]) {
    const problem = ajv.getSchema("oas#/components/schemas/Problem");
    if (r.status === EXPECT[name] && resp && baseType(r.type) === "application/problem+json" &&
        problem(JSON.parse(r.text.toString())))
      pass++;
    else bad(`${name}: ${r.status} ${r.type}, expected the documented ${EXPECT[name]} problem`);
    return;
  }
  if (!/^2/.test(status) || !resp) {
    const doc2xx = Object.keys(op.responses).filter((s) => /^2/.test(s)).join(" or ");
    bad(`${name} (${u}): ${r.status}, documented ${doc2xx}: ${r.text ? r.text.toString().slice(0, 300) : ""}`);
    return;
  }
  const want = resp.content ? Object.keys(resp.content)[0] : null;
  if (!want && r.type && r.text && r.text.length) {
    bad(`${name}: a ${r.type} body where the document says none`);
    return;
  }
  if (want && want !== "*/*" && baseType(r.type) !== baseType(want)) {
    bad(`${name}: content type ${r.type}, documented ${want}`);
    return;
  }
  if (want && /json/.test(want) && r.text) {
    let body;
    try {
      body = JSON.parse(r.text.toString());
    } catch (e) {
      bad(`${name}: not JSON: ${e.message}`);
      return;
    }
    const v = validator(rawOp.responses[status].content[want]);
    if (v && !v(body)) {
      bad(`${name}: the body does not match the documented schema: ${ajv.errorsText(v.errors)}`);
      return;
    }
  }
  pass++;
  // an HTML page where one is documented (f=html, then Accept: text/html without f)
  if (resp.content && resp.content["text/html"] && want !== "text/html") {
    const uh = new URL(u);
    uh.searchParams.set("f", "html");
    const h = await call(method, uh.href, op, needsToken(op));
    const text = h.text ? h.text.toString() : "";
    if (h.status === 200 && baseType(h.type) === "text/html" && /^<!doctype html>/i.test(text)) pass++;
    else bad(`${name} (f=html): ${h.status} ${h.type}, documented text/html: ${text.slice(0, 200)}`);
  }
}

// reads first (after the creating POSTs without path parameters), writes after, deletes last
const all = [];
for (const [path, item] of Object.entries(doc.paths))
  for (const [method, op] of Object.entries(item)) {
    const rank = method === "get" ? 1 : method === "delete" ? 4 : path === "/plan/drafts" ? 0 : path.endsWith("/publish") ? 3 : path.endsWith("/rollback") ? 3.5 : 2;
    all.push({ rank, path, method, op, rawOp: raw.paths[path][method] });
  }
all.sort((a, b) => a.rank - b.rank);
for (const { path, method, op, rawOp } of all) {
  try {
    await check(method, path, op, rawOp);
  } catch (e) {
    bad(`${method.toUpperCase()} ${path}: ${e.message}`);
  }
}
console.log(`openapi walk: ${pass} passed, ${fail} failed, ${skip} not called with a token (see NOT_CALLED)`);
process.exit(fail ? 1 : 0);
