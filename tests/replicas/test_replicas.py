#!/usr/bin/env python3
"""test_replicas.py — two stateless `gridwatch serve` replicas on one PostgreSQL/PostGIS database
behind a real nginx (issue 17): writes on one replica reach the other's model, tiles and
/events; Last-Event-ID from one replica resumes on the other; a team assignment has one winner
across replicas; killing a replica under load fails only in-flight requests (nginx retries the
idempotent reads) and an SSE client that reconnects through nginx misses no event; restarting
PostgreSQL under load loses no acknowledged write, /healthz says what is wrong meanwhile, and
the replicas reconnect by themselves.

usage: test_replicas.py GRIDWATCH [--restart]   (needs nginx and a PostgreSQL server reachable
       at GW_TEST_PG_URL, default postgresql:///; --restart also restarts that server, as root)
Prints the measured figures (event delay from a write on one replica to an SSE client of the
other) and exits 0 when every check holds, 1 otherwise, 77 when nginx or PostgreSQL is absent.
Python standard library only."""
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

GW = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/gridwatch"
RESTART = "--restart" in sys.argv
PG = os.environ.get("GW_TEST_PG_URL", "postgresql:///")
DB = f"{PG}gw_replicas_{os.getpid()}"
TMP = tempfile.mkdtemp(prefix="gwrep.")
FAILS = []
procs = {}


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILS.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def request(port, method, path, body=None, token=None, timeout=10, headers=None):
    """(status, body bytes, headers dict); status 0 when the connection failed."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body).encode()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, {k.lower(): v for k, v in r.getheaders()}
    except (OSError, http.client.HTTPException):
        return 0, b"", {}


def run(*args):
    return subprocess.run([GW, *args], check=True, capture_output=True, text=True).stdout


def start_replica(name, port):
    log = open(os.path.join(TMP, f"{name}.log"), "w")
    procs[name] = subprocess.Popen([GW, "serve", DB, "--port", str(port), "--quiet", "--no-wall",
                                    "--anonymous-read", "--threads", "6"],
                                   stdout=log, stderr=log)
    for _ in range(300):
        if request(port, "GET", "/healthz", timeout=1)[0] == 200:
            return
        time.sleep(0.1)
    raise SystemExit(f"replica {name} did not start (see {TMP}/{name}.log)")


def start_nginx(port, upstreams):
    conf = os.path.join(TMP, "nginx.conf")
    ups = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;" for p in upstreams)
    common = ("proxy_pass http://gw; proxy_http_version 1.1; proxy_set_header Connection \"\"; "
              "proxy_set_header Host $http_host;")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
pid {TMP}/nginx.pid;
error_log {TMP}/nginx.error.log;
daemon off;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {TMP}/body; proxy_temp_path {TMP}/proxy; fastcgi_temp_path {TMP}/fcgi;
  uwsgi_temp_path {TMP}/uwsgi; scgi_temp_path {TMP}/scgi;
  upstream gw {{
{ups}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location /events {{ {common} proxy_buffering off; proxy_read_timeout 1h; }}
    location / {{ {common} proxy_connect_timeout 1s; proxy_next_upstream error timeout http_502; }}
  }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    procs["nginx"] = subprocess.Popen([nginx, "-p", TMP, "-c", conf],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if request(port, "GET", "/healthz", timeout=1)[0] == 200:
            return
        time.sleep(0.1)
    raise SystemExit("nginx did not start")


class Sse(threading.Thread):
    """An SSE client that records (seq, type, t) and reconnects with Last-Event-ID."""

    def __init__(self, port, last_id=None, reconnect=True):
        super().__init__(daemon=True)
        self.port, self.last, self.reconnect = port, last_id, reconnect
        self.events, self.connects, self.stop = [], 0, False
        self.ready = threading.Event()

    def run(self):
        while not self.stop:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                h = {"Accept": "text/event-stream"}
                if self.last is not None:
                    h["Last-Event-ID"] = str(self.last)
                c.request("GET", "/events", headers=h)
                r = c.getresponse()
                if r.status != 200:
                    raise OSError(f"status {r.status}")
                self.connects += 1
                self.ready.set()
                ev = {}
                while not self.stop:
                    line = r.fp.readline()
                    if not line:
                        raise OSError("closed")
                    line = line.decode().rstrip("\n")
                    if line.startswith("id: "):
                        ev["id"] = int(line[4:])
                    elif line.startswith("event: "):
                        ev["type"] = line[7:]
                    elif line == "" and "id" in ev:
                        self.events.append((ev["id"], ev.get("type"), time.monotonic()))
                        self.last = ev["id"]
                        ev = {}
                    elif line == "":
                        ev = {}
            except (OSError, http.client.HTTPException, ValueError):
                if not self.reconnect:
                    return
                time.sleep(0.2)

    def seqs(self):
        return [e[0] for e in self.events]

    def wait_for(self, seq, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for e in self.events:
                if e[0] >= seq:
                    return e
            time.sleep(0.002)
        return None


def incident(lon, lat, cat="theft"):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": cat, "severity": 2,
                           "occurred_at": "2025-06-01T10:00:00+08:00"}}


def post_incident(port, token, lon=115.48, lat=35.24):
    st, body, hdrs = request(port, "POST", "/collections/incidents/items", incident(lon, lat),
                             token)
    if st != 201:
        return None, None, st
    return json.loads(body)["id"], int(hdrs.get("gridwatch-change-seq", "0")), st


def first_features(port, layer, n, query=""):
    st, body, _ = request(port, "GET", f"/collections/{layer}/items?limit={n}{query}")
    return json.loads(body)["features"] if st == 200 else []


def test_sync(a, b, token):
    """A write on A: B's items, B's SSE clients and B's tiles follow."""
    sse = Sse(b, reconnect=False)
    sse.start()
    sse.ready.wait(10)
    delays, visible = [], []
    for k in range(20):
        fid, seq, st = post_incident(a, token, 115.40 + 0.001 * k, 35.20)
        t0 = time.monotonic()
        check(fid is not None, f"POST incident on replica A answers 201 (got {st})")
        if fid is None:
            continue
        ev = sse.wait_for(seq)
        if ev:
            delays.append((ev[2] - t0) * 1e3)
        while request(b, "GET", f"/collections/incidents/items/{fid}")[0] != 200:
            if time.monotonic() - t0 > 10:
                break
            time.sleep(0.002)
        visible.append((time.monotonic() - t0) * 1e3)
        time.sleep(0.05)
    sse.stop = True
    check(len(delays) == 20, f"B's SSE client got all 20 events of A's writes ({len(delays)})")
    if delays:
        delays.sort()
        print(f"     event delay A write -> B SSE client: median {delays[len(delays) // 2]:.1f} "
              f"ms, max {delays[-1]:.1f} ms")
    if visible:
        visible.sort()
        print(f"     item visible on B after A's 201: median {visible[len(visible) // 2]:.1f} ms, "
              f"max {visible[-1]:.1f} ms")
        check(visible[-1] < 10000, "every item written on A is readable on B")


def test_last_event_id(a, b, token):
    """An event id issued by A resumes on B."""
    _, seq0, _ = post_incident(a, token)
    ids = [post_incident(a, token)[1] for _ in range(3)]
    sse = Sse(b, last_id=seq0, reconnect=False)
    sse.start()
    got = sse.wait_for(ids[-1], 10)
    sse.stop = True
    seqs = [s for s in sse.seqs() if s <= ids[-1]]
    check(got is not None and all(i in seqs for i in ids),
          f"Last-Event-ID {seq0} from A resumes on B with {ids} (got {seqs[:6]})")
    check(seqs == sorted(seqs) and all(s > seq0 for s in seqs),
          "the resumed events come in order, after the given id")


def test_assign_race(a, b, token):
    """The same team assigned on A and on B at once: one winner."""
    teams = [t["id"] for t in first_features(a, "teams", 40)
             if t["properties"].get("status") == "available"][:10]
    incs = [i["id"] for i in first_features(a, "incidents", 10)]
    wins = []
    for k, team in enumerate(teams):
        res = []

        def go(port, inc):
            res.append(request(port, "POST", "/dispatch/assign",
                               {"incident": inc, "team": team}, token)[0])

        th = [threading.Thread(target=go, args=(p, incs[k % len(incs)])) for p in (a, b)]
        for t in th:
            t.start()
        for t in th:
            t.join()
        wins.append(sum(1 for s in res if 200 <= s < 300))
        check(sorted(res)[-1] == 409 or sum(1 for s in res if 200 <= s < 300) == 1,
              f"team {team}: one of two concurrent assignments wins ({res})")
    check(len(teams) > 0 and all(w == 1 for w in wins),
          f"{len(teams)} teams assigned concurrently on two replicas: one winner each")


def test_cache(a, b, token):
    """A tile B has cached changes after a write on A."""
    lon, lat = 115.5234, 35.2456
    n = 4096
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    path = f"/tiles/incidents/12/{x}/{y}.mvt"
    st0, t0, _ = request(b, "GET", path)
    request(b, "GET", path)
    post_incident(a, token, lon, lat)
    changed, end = False, time.monotonic() + 5
    while not changed and time.monotonic() < end:
        st1, t1, _ = request(b, "GET", path)
        changed = st1 == 200 and t1 != t0
        time.sleep(0.01)
    check(st0 in (200, 204) and changed, "B's cached incidents tile changes after a write on A")


def test_plan_publish(a, b, token):
    """A plan published on A: B serves the new grid version (its model reloaded the grids)."""
    def matched(port):
        st, body, _ = request(port, "GET", "/collections/grids/items?limit=1")
        return json.loads(body).get("numberMatched", -1) if st == 200 else -1

    before = matched(b)
    g = first_features(a, "grids", 1)[0]
    ring = g["geometry"]["coordinates"][0]
    if g["geometry"]["type"] == "MultiPolygon":
        ring = ring[0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    mx = (min(xs) + max(xs)) / 2
    st, body, _ = request(a, "POST", "/plan/drafts", {"name": "replicas"}, token)
    draft = json.loads(body)["id"] if st == 201 else None
    split = {"op": "split", "grid": g["id"], "line": {"type": "LineString", "coordinates": [
        [mx, min(ys) - 0.01], [mx, max(ys) + 0.01]]}}
    st_e = request(a, "POST", f"/plan/drafts/{draft}/edits", split, token)[0]
    st_p, body, _ = request(a, "POST", f"/plan/drafts/{draft}/publish", None, token)
    version = json.loads(body).get("version") if st_p == 200 else None
    end, after = time.monotonic() + 10, before
    while after != before + 1 and time.monotonic() < end:
        after = matched(b)
        time.sleep(0.02)
    st_v, body, _ = request(b, "GET", "/plan/versions")
    vs = json.loads(body) if st_v == 200 else []
    vs = vs if isinstance(vs, list) else vs.get("versions", [])
    published = [v for v in vs if v.get("status") == "published"]
    check(st == 201 and st_e == 200 and st_p == 200,
          f"draft, split and publish on A ({st}, {st_e}, {st_p})")
    check(after == before + 1, f"B serves the published layout: {before} -> {after} grids")
    check(any(v.get("version") == version for v in published),
          f"B lists version {version} as published")


class Load:
    """Readers and a writer through nginx: every read retried once, every write recorded."""

    def __init__(self, port, token):
        self.port, self.token, self.stop = port, token, False
        self.reads = self.read_fail = self.read_retried = 0
        self.acked, self.write_fail = [], 0
        self.threads = [threading.Thread(target=self.reader, daemon=True) for _ in range(3)]
        self.threads.append(threading.Thread(target=self.writer, daemon=True))

    def reader(self):
        paths = ["/collections/incidents/items?limit=20", "/collections/teams/items?limit=20",
                 "/tiles/grids/8/210/102.mvt"]
        k = 0
        while not self.stop:
            p = paths[k % len(paths)]
            k += 1
            st = request(self.port, "GET", p, timeout=5)[0]
            if st != 200 and st != 204:
                self.read_retried += 1
                st = request(self.port, "GET", p, timeout=5)[0]
                if st != 200 and st != 204:
                    self.read_fail += 1
            self.reads += 1

    def writer(self):
        k = 0
        while not self.stop:
            fid, seq, st = post_incident(self.port, self.token, 115.3 + 0.0001 * (k % 1000), 35.3)
            k += 1
            if fid:
                self.acked.append(fid)
            else:
                self.write_fail += 1
                time.sleep(0.05)
            time.sleep(0.01)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop = True
        for t in self.threads:
            t.join(10)


def all_present(port, ids):
    missing = [i for i in ids if request(port, "GET", f"/collections/incidents/items/{i}")[0] != 200]
    return missing


def test_kill(a, b, lb, token):
    """Kill replica A under load through nginx."""
    _, seq0, _ = post_incident(lb, token)
    sse = Sse(lb, last_id=seq0)
    sse.start()
    sse.ready.wait(10)
    load = Load(lb, token)
    load.start()
    time.sleep(2)
    procs["A"].send_signal(signal.SIGKILL)
    procs["A"].wait()
    time.sleep(4)
    load.finish()
    _, last, _ = post_incident(b, token)
    got = sse.wait_for(last, 15)
    sse.stop = True
    print(f"     kill: {load.reads} reads ({load.read_retried} retried, {load.read_fail} failed "
          f"after a retry), {len(load.acked)} writes acknowledged, {load.write_fail} failed; "
          f"SSE connections {sse.connects}")
    check(load.read_fail == 0, "every read through nginx succeeds (after at most one retry)")
    check(load.write_fail <= 3, f"only in-flight writes fail ({load.write_fail})")
    check(not all_present(b, load.acked), "every acknowledged write is in the database")
    seqs = sorted(set(sse.seqs()))
    want = set(range(seq0 + 1, last + 1))
    missed = sorted(want - set(seqs))
    check(got is not None and sse.connects >= 2,
          f"the SSE client reconnected through nginx ({sse.connects} connections)")
    # seqs not sent as events (e.g. a team's position folded into a later one) are not gaps:
    # compare with B's replay of the same range
    replay = Sse(b, last_id=seq0, reconnect=False)
    replay.start()
    replay.wait_for(last, 15)
    replay.stop = True
    missed = sorted(set(replay.seqs()) & want - set(seqs))
    check(not missed, f"the SSE client missed no event across the kill (missed {missed[:5]})")


def test_restart(b, lb, token):
    """Restart PostgreSQL under load: no acknowledged write lost, /healthz tells, replicas heal."""
    load = Load(lb, token)
    load.start()
    time.sleep(1.5)
    ver = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    saw_503 = []

    def probe():
        end = time.monotonic() + 20
        while time.monotonic() < end and not saw_503:
            st, body, _ = request(b, "GET", "/healthz", timeout=2)
            if st == 503:
                saw_503.append(body.decode(errors="replace")[:200])
            time.sleep(0.02)

    pr = threading.Thread(target=probe)
    pr.start()
    subprocess.run(["pg_ctlcluster", ver, "main", "stop", "-m", "fast"], check=True)
    time.sleep(2)
    subprocess.run(["pg_ctlcluster", ver, "main", "start"], check=True)
    pr.join()
    time.sleep(3)
    load.finish()
    print(f"     restart: {len(load.acked)} writes acknowledged, {load.write_fail} refused while "
          f"down; /healthz said: {saw_503[:1]}")
    check(bool(saw_503), "/healthz answers 503 naming the database while PostgreSQL is down")
    check(request(b, "GET", "/healthz")[0] == 200, "/healthz is 200 again after the restart")
    fid, _, st = post_incident(lb, token)
    check(fid is not None, f"writes succeed again after the restart ({st})")
    check(not all_present(b, load.acked), "no acknowledged write was lost")


def main():
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        print("skipped: nginx not installed (Debian: nginx-light)")
        return 77
    if subprocess.run(["pg_isready", "-q"]).returncode != 0:
        print("skipped: no PostgreSQL server (tests/pg/start.sh)")
        return 77
    try:
        run("gen-city", DB, "--scale", "0.02", "--no-truth")
        token = run("token", "create", DB, "--role", "admin", "--name", "replicas").strip().split()[-1]
        a, b, lb = free_port(), free_port(), free_port()
        start_replica("A", a)
        start_replica("B", b)
        start_nginx(lb, [a, b])
        test_sync(a, b, token)
        test_last_event_id(a, b, token)
        test_assign_race(a, b, token)
        test_cache(a, b, token)
        test_plan_publish(a, b, token)
        test_kill(a, b, lb, token)
        if RESTART and os.geteuid() == 0:
            test_restart(b, lb, token)
        elif RESTART:
            print("     (PostgreSQL restart not run: it needs root to restart the cluster)")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["psql", "-qd", "postgres", "-c",
                        f"DROP DATABASE IF EXISTS gw_replicas_{os.getpid()} WITH (FORCE)"],
                       capture_output=True)
        if not FAILS and not os.environ.get("GW_TEST_KEEP"):
            shutil.rmtree(TMP, ignore_errors=True)
        else:
            print(f"logs in {TMP}")
    print(f"{len(FAILS)} failed" if FAILS else "all passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
