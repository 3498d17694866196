#!/usr/bin/env python3
"""probe_http.py — a hostile client against a running gridwatch: families of bad input (paths,
query values, tiles, bodies, geometries, headers, methods) plus seeded byte-level mutations of
valid requests.  Every answer must be a 4xx problem+json (or a 2xx/3xx for a mutation that
happens to be valid); a 5xx other than 503 with Retry-After, a dropped connection, or a
/healthz that stops answering is a failure.  Prints one line per family and exits 1 on any
failure.  Issue 15: "the table of classes tried".

usage: probe_http.py BASE_URL TOKEN [--mutations N] [--seed S]
"""
import http.client
import json
import random
import sys
import urllib.parse

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
TOKEN = sys.argv[2] if len(sys.argv) > 2 else ""
MUT = int(sys.argv[sys.argv.index("--mutations") + 1]) if "--mutations" in sys.argv else 2000
SEED = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 15
u = urllib.parse.urlparse(BASE)
rng = random.Random(SEED)
failures = []


def send(method, path, body=None, headers=None, token=True):
    h = {"Connection": "close"}
    if token and TOKEN:
        h["Authorization"] = "Bearer " + TOKEN
    if body is not None:
        h.setdefault("Content-Type", "application/geo+json")
    h.update(headers or {})
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        data = body.encode() if isinstance(body, str) else body
        if data is not None:
            c.putheader("Content-Length", str(len(data)))
        c.endheaders(data)
        r = c.getresponse()
        payload = r.read()
        return r.status, r.getheader("Content-Type") or "", r.getheader("Retry-After"), payload
    except Exception as e:  # a dropped connection is a finding
        return None, "", None, repr(e).encode()
    finally:
        c.close()


def check(family, method, path, body=None, headers=None, token=True, ok_2xx=False):
    st, ctype, retry, payload = send(method, path, body, headers, token)
    bad = None
    if st is None:
        bad = "no answer: " + payload.decode(errors="replace")[:120]
    elif st >= 500 and not (st == 503 and retry):
        bad = "%d %s" % (st, payload[:160])
    elif 400 <= st < 500 and st not in (400, 401, 403, 404, 405, 406, 409, 413, 414, 415, 421,
                                         422, 429, 431):
        bad = "unexpected %d" % st
    elif 400 <= st < 500 and "json" not in ctype and st not in (414, 431):
        if not (st == 400 and "html" in ctype):  # MHD's own answer to a malformed request line
            bad = "%d not problem+json (%s)" % (st, ctype)
    elif st < 400 and not ok_2xx:
        bad = "accepted (%d): %s" % (st, payload[:160])
    if bad:
        failures.append((family, method, path[:120], bad))
    return st


def alive():
    st, _, _, _ = send("GET", "/healthz", token=False)
    return st == 200


def first_ids():
    st, _, _, p = send("GET", "/collections/grids/items?limit=2")
    j = json.loads(p) if st == 200 else {"features": []}
    return [f["id"] for f in j["features"]]


FEAT = ('{"type":"Feature","id":"%s","geometry":{"type":"Point","coordinates":[115.65,35.25]},'
        '"properties":{"category":"theft","severity":2,"occurred_at":"2025-01-05T10:00:00Z"}}')
families = {}


def fam(name):
    def deco(fn):
        families[name] = fn
        return fn
    return deco


@fam("path bytes")
def _(n):
    for p in ["/collections/incidents/items/I1%00x", "/collections/%ff%fe", "/%2e%2e/%2e%2e/etc/passwd",
              "/wall/..%2f..%2fCMakeLists.txt", "/collections/" + "a" * 5000, "/tiles/city/1/2/3.pbf%0a",
              "/collections/incidents/items/%c0%af", "/collections//items", "/\x7f"]:
        check("path bytes", "GET", urllib.parse.quote(p, safe="/%?=&") if "\x7f" in p else p)


@fam("query values")
def _(n):
    vals = ["", "-", "1e309", "nan", "inf", "-0", "9" * 400, "%00", "%ff", "1,2", "[]", "null", "0x10",
            "1e-400", "  1", "１２"]
    for k in ["limit", "offset", "bbox", "datetime", "crs", "bbox-crs", "k", "max_m", "lon", "lat", "z",
              "weights", "value", "from", "to"]:
        for v in vals:
            for route in ["/collections/incidents/items", "/dispatch/nearest?lon=115.6&lat=35.2",
                          "/analysis/hotspots"]:
                sep = "&" if "?" in route else "?"
                st = check("query values", "GET", route + sep + k + "=" + urllib.parse.quote(v, safe="%"),
                           ok_2xx=True)


@fam("tiles")
def _(n):
    for z, x, y in [(-1, 0, 0), (0, 1, 0), (0, 0, 1), (31, 0, 0), (23, 2**23, 0), (5, -1, 3),
                    (99999999999, 0, 0), ("a", 0, 0), (3, "1.5", 2)]:
        for layer in ["city", "heat"]:
            check("tiles", "GET", "/tiles/%s/%s/%s/%s.%s" % (layer, z, x, y,
                                                            "pbf" if layer == "city" else "png"))


@fam("bodies")
def _(n):
    good = FEAT % "PB1"
    bodies = ["", "{", "[]", "null", "1", '"x"', "{" * 5000 + "}" * 5000, '{"type":"Feature"}',
              good[:len(good) // 2], good.replace("Point", "Polygon"), good.replace("115.65", '"115"'),
              good.replace("[115.65,35.25]", "[]"), good.replace("[115.65,35.25]", "[[],[1,2]]"),
              good.replace("[115.65,35.25]", "[1e400,1e400]"), good.replace("[115.65,35.25]", "[35.25,115.65]"),
              good.replace("2025-01-05T10:00:00Z", "2025-02-30T10:00:00Z"),
              good.replace("2025-01-05T10:00:00Z", "0000-01-01T00:00:00Z"),
              good.replace('"severity":2', '"severity":99'),
              good.encode().replace(b"theft", b"th\xff\xfeft"),
              '{"type":"FeatureCollection","features":[' + ",".join([good] * 3) + "]}",
              good.replace('"properties":{', '"properties":{"colour":"red",'),
              good.replace('"id":"PB1"', '"id":' + '"x' * 300 + '"')]
    for b in bodies:
        for path in ["/collections/incidents/items", "/dispatch/positions"]:
            check("bodies", "POST", path, b, ok_2xx=path.endswith("positions") and b == "[]")
    for b in ["{", '{"op":"split"}', '{"op":"nope"}', '{"op":"split","grid":"X","line":{"type":"LineString",'
              '"coordinates":[[1e308,1e308],[-1e308,-1e308]]}}']:
        check("bodies", "POST", "/plan/drafts/1/edits", b)


@fam("headers")
def _(n):
    p = "/collections/incidents/items?limit=1"
    for h in [{"Authorization": "Bearer"}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer " + "x" * 9000},
              {"Host": "evil.example"}, {"Content-Length": "99999999999"}, {"Accept": "image/png"},
              {"If-None-Match": '"' + "a" * 5000 + '"'}, {"Last-Event-ID": "-1"}, {"Last-Event-ID": "9" * 40}]:
        check("headers", "GET", p, headers=h, token="Authorization" not in h, ok_2xx=True)
    check("headers", "POST", "/collections/incidents/items", FEAT % "H1",
          headers={"Content-Type": "text/csv"})


@fam("methods")
def _(n):
    for m in ["PUT", "DELETE", "PATCH", "TRACE", "BREW"]:
        check("methods", m, "/collections")
    check("methods", "DELETE", "/collections/grids/items/" + (first_ids() or ["X"])[0])


@fam("mutations")
def _(n):
    """Seeded byte-level mutations of valid requests (flip, insert, delete, duplicate)."""
    gids = first_ids() or ["X"]
    seeds = [("GET", "/collections/incidents/items?bbox=115.5,35.1,115.8,35.4&limit=5", None),
             ("GET", "/dispatch/nearest?lon=115.65&lat=35.25&k=3", None),
             ("GET", "/tiles/city/12/3412/1626.pbf", None),
             ("POST", "/collections/incidents/items", FEAT % "M"),
             ("PATCH", "/collections/grids/items/" + gids[0], '{"properties":{"worker":"Li"}}'),
             ("POST", "/dispatch/positions", '{"positions":[{"team":"T1","lon":115.6,"lat":35.2,'
                                             '"at":"2025-01-05T10:00:00Z"}]}')]
    alphabet = b'{}[]",:0123456789.-eE\x00\xff\\/ %&=?aZ'
    for i in range(n):
        m, path, body = seeds[i % len(seeds)]
        target = bytearray((body if body is not None and i % 2 else path).encode())
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(target) + 1)
            if op == 0 and target:
                target[min(pos, len(target) - 1)] = rng.choice(alphabet)
            elif op == 1:
                target[pos:pos] = bytes([rng.choice(alphabet)])
            elif op == 2 and target:
                del target[min(pos, len(target) - 1)]
            else:
                target[pos:pos] = target[pos:pos + rng.randint(1, 8)] * rng.randint(1, 50)
        if body is not None and i % 2:
            check("mutations", m, path, bytes(target), ok_2xx=True)
        else:
            p = bytes(target).decode("latin-1")
            p = "".join(ch if 33 <= ord(ch) < 127 else "%%%02X" % ord(ch) for ch in p)
            if not p.startswith("/"):
                p = "/" + p
            check("mutations", m, p, body.encode() if body else None, ok_2xx=True)


total = 0
for name, fn in families.items():
    before = len(failures)
    fn(MUT)
    up = alive()
    if not up:
        failures.append((name, "-", "/healthz", "server stopped answering"))
    print("%-14s %s" % (name, "ok" if len(failures) == before else "%d findings" % (len(failures) - before)))
    if not up:
        break
for f in failures[:40]:
    print("FINDING %s: %s %s -> %s" % f)
print("%d findings" % len(failures))
sys.exit(1 if failures else 0)
