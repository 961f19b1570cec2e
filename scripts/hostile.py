"""Hostile-traffic test against a running server: what unit tests cannot show.

    .venv/bin/python scripts/hostile.py       # `make faults` runs it after scripts/faults.py

It uses the fault test's database (`tracker_faults` on the local Postgres, reset here), loads the
seed, and serves it with gunicorn under production settings (one worker and no Redis: the
worker's own byte-bounded memory cache, the case where a flood hurt most, and its own rate-limit
counters, which are then exact) behind a small reverse proxy that
does what deploy/nginx.conf does: it replaces X-Forwarded-For with the address it received the
connection from. Clients connect from different loopback addresses (127.0.0.x), so the proxy sees
different readers, and the app only sees the proxy.

Checks (each reported; the exit status is 1 if one fails):
  1. cache flood: 2,400 requests to /?utm=N add no cache entries: each worker's memory grows by
     less than 8 MB, and a page cached before the flood is still served from the cache after it;
  2. cache bound: 1,200 distinct *valid* filtered API pages (/api/transfers/?date_from=…, about
     20 KB each) fill the cache only up to its byte budget (HOSTILE_CACHE_MAX_BYTES, 8 MB here):
     the worker grows by less than the budget plus 24 MB of allocator slack;
  3. lock-out through the proxy hop: a stranger's failed logins for an editor's name, one set
     with a forged X-Forwarded-For naming the editor's address, lock out only the stranger; the
     editor, through the same proxy from her own address, signs in;
  4. one search budget: a client's searches spread over /search/, the list filter, the API and a
     download are refused once the search budget is spent, through the proxy;
  5. no response in the run is a 5xx.
Report: stdout and test-artifacts/hostile.json.
"""

import http.client
import json
import os
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler

import faults  # the fault test's database and environment
from harness import (
    ARTIFACTS,
    Browser,
    Server,
    database_name,
    free_port,
    get,
    logger,
    memory_kb,
    report,
    seeded_database,
)

WORKERS = int(os.environ.get("HOSTILE_WORKERS", "1"))
CACHE_MAX_BYTES = int(os.environ.get("HOSTILE_CACHE_MAX_BYTES", str(8 * 1024 * 1024)))
FLOOD_REQUESTS = int(os.environ.get("HOSTILE_FLOOD_REQUESTS", "2400"))
FLOOD_THREADS = 8
SEARCH_BUDGET = 10
EDITOR = "hostile-editor"
EDITOR_ADDRESS = "127.0.0.9"
STRANGER_ADDRESS = "127.0.0.66"
log = logger("hostile")


# --- the proxy: one hop, like deploy/nginx.conf ----------------------------------------------------


class ProxyHandler(BaseHTTPRequestHandler):
    upstream_port = None
    protocol_version = "HTTP/1.1"

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() not in ("x-forwarded-for", "connection", "keep-alive")
        }
        # nginx: proxy_set_header X-Forwarded-For $remote_addr (whatever the client sent is gone).
        headers["X-Forwarded-For"] = self.client_address[0]
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            content = response.read()
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(content)
        finally:
            upstream.close()

    do_GET = do_POST = do_HEAD = _forward

    def log_message(self, *args):
        pass


class ThreadingProxy(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_proxy(upstream_port):
    handler = type("Handler", (ProxyHandler,), {"upstream_port": upstream_port})
    server = ThreadingProxy(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- clients -------------------------------------------------------------------------------------


def fetch(port, path, address="127.0.0.1"):
    return get(port, path, address=address, timeout=30)


def worker_rss(server):
    """Resident memory (bytes) of each gunicorn worker."""
    return {pid: memory_kb(pid, "VmRSS") * 1024 for pid in server.workers()}


def flood(port, paths, statuses):
    lock = threading.Lock()
    queue = list(paths)

    def run(n):
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            status = fetch(port, path, address=f"127.0.1.{n + 1}")[0]
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(FLOOD_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def grown(before, after):
    return {pid: after[pid] - before[pid] for pid in before if pid in after}


def megabytes(value):
    return round(value / 1024 / 1024, 1)


# --- the checks ----------------------------------------------------------------------------------


def check_cache_flood(port, server, results, problems):
    warm = "/agreements/?status=in_force"
    for _ in range(3 * WORKERS):  # every worker renders and caches the real page, and home
        fetch(port, warm)
        fetch(port, "/")
    before = worker_rss(server)
    statuses = {}
    flood(port, [f"/?utm={n}" for n in range(FLOOD_REQUESTS)], statuses)
    after = worker_rss(server)
    growth = grown(before, after)
    hits = [fetch(port, warm)[1].get("X-Cache") for _ in range(2 * WORKERS)]
    results["cache_flood"] = {
        "requests": FLOOD_REQUESTS,
        "statuses": statuses,
        "worker_rss_mb_before": {pid: megabytes(v) for pid, v in before.items()},
        "worker_rss_mb_after": {pid: megabytes(v) for pid, v in after.items()},
        "real_page_after": hits,
    }
    if max(growth.values()) > 8 * 1024 * 1024:
        problems.append(f"cache flood: a worker grew by {megabytes(max(growth.values()))} MB")
    if any(hit != "hit" for hit in hits):
        problems.append(f"cache flood: the page cached before it was evicted ({hits})")


def check_cache_bound(port, server, results, problems):
    before = worker_rss(server)
    statuses = {}
    # Each a valid filter, each a different page: 1,200 days from 2019 on.
    days = [
        f"/api/transfers/?date_from={2019 + n // 336}-{1 + (n % 336) // 28:02d}-{1 + n % 28:02d}"
        f"&utm={n}"  # read by no page: dropped, not a new entry
        for n in range(FLOOD_REQUESTS // 2)
    ]
    flood(port, days, statuses)
    after = worker_rss(server)
    growth = grown(before, after)
    limit = CACHE_MAX_BYTES + 24 * 1024 * 1024
    results["cache_bound"] = {
        "requests": len(days),
        "statuses": statuses,
        "cache_max_bytes_mb": megabytes(CACHE_MAX_BYTES),
        "worker_growth_mb": {pid: megabytes(v) for pid, v in growth.items()},
    }
    if max(growth.values()) > limit:
        problems.append(
            f"cache bound: a worker grew by {megabytes(max(growth.values()))} MB "
            f"(budget {megabytes(CACHE_MAX_BYTES)} MB)"
        )


def login(port, address, password, extra_headers=None):
    return Browser(port, address=address, headers=extra_headers).login(EDITOR, password)


def check_lockout(port, password, results, problems):
    attempts = []
    for n in range(7):
        forged = {"X-Forwarded-For": EDITOR_ADDRESS} if n % 2 else {}
        attempts.append(login(port, STRANGER_ADDRESS, f"guess-{n}", forged)[0])
    editor_status, location = login(port, EDITOR_ADDRESS, password)
    stranger_after = login(port, STRANGER_ADDRESS, password)[0]
    results["lockout"] = {
        "stranger_attempts": attempts,
        "editor_login": editor_status,
        "stranger_with_the_right_password": stranger_after,
    }
    if 429 not in attempts:
        problems.append(f"lock-out: the stranger was never locked out ({attempts})")
    if editor_status != 302 or "/login/" in location:
        problems.append(f"lock-out: the editor could not sign in ({editor_status} {location})")
    if stranger_after != 429:
        problems.append(f"lock-out: the stranger's lock-out did not hold ({stranger_after})")


def check_search_budget(port, results, problems):
    address = "127.0.0.77"
    endpoints = [
        "/search/?q=",
        "/agreements/?q=",
        "/api/agreements/?q=",
        "/agreements/export.csv?q=",
    ]
    statuses = []
    for n in range(SEARCH_BUDGET + 4):
        path = endpoints[n % len(endpoints)] + f"word{n}"
        statuses.append(fetch(port, path, address=address)[0])
    elsewhere = fetch(port, "/search/?q=word", address="127.0.0.78")[0]
    results["search_budget"] = {"budget": SEARCH_BUDGET, "statuses": statuses, "other": elsewhere}
    if statuses[:SEARCH_BUDGET] != [200] * SEARCH_BUDGET or set(statuses[SEARCH_BUDGET:]) != {429}:
        problems.append(f"search budget: expected {SEARCH_BUDGET} × 200 then 429s: {statuses}")
    if elsewhere != 200:
        problems.append(f"search budget: another client was refused too ({elsewhere})")


def main():
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    env = {
        **faults.app_environment(port),
        "RATELIMIT_ENABLED": "1",
        "RATELIMIT_SEARCH_PER_MINUTE": str(SEARCH_BUDGET),
        "RATELIMIT_API_PER_MINUTE": "100000",  # the cache-bound flood goes through the API
        "TRUSTED_PROXY_COUNT": "1",
        "CACHE_MAX_BYTES": str(CACHE_MAX_BYTES),
    }
    env.pop("REDIS_URL", None)
    faults.ensure_pg_running()
    log(f"resetting database {database_name(env['DATABASE_URL'])}; migrating and loading the seed")
    password = seeded_database(env, EDITOR)

    results, problems, server, proxy = {}, [], None, None
    log_path = ARTIFACTS / "hostile-gunicorn.log"
    try:
        server = Server(env, port, log_path, workers=WORKERS)
        proxy = start_proxy(port)
        proxy_port = proxy.server_address[1]
        log(f"gunicorn ({WORKERS} workers) on {port}, behind a proxy on {proxy_port}")
        for name, check in [
            ("cache flood", lambda: check_cache_flood(proxy_port, server, results, problems)),
            ("cache bound", lambda: check_cache_bound(proxy_port, server, results, problems)),
            ("lock-out", lambda: check_lockout(proxy_port, password, results, problems)),
            ("search budget", lambda: check_search_budget(proxy_port, results, problems)),
        ]:  # fmt: skip
            log(name)
            check()
    finally:
        if proxy is not None:
            proxy.shutdown()
        if server is not None:
            server.stop()
    server_log = log_path.read_text(errors="replace")
    errors = server_log.count('"status": 5') + server_log.count("Traceback")
    if errors:
        problems.append(f"{errors} server errors or tracebacks in {log_path}")

    details = {
        "settings": {"workers": WORKERS, "cache_max_bytes": CACHE_MAX_BYTES},
        "results": results,
    }
    lines = [f"{name}: {json.dumps(value)}" for name, value in results.items()]
    return report("Hostile-traffic test", problems, details, lines, "hostile", log_path)


if __name__ == "__main__":
    sys.exit(main())
