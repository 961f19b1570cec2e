"""Database fault test: restart Postgres in the middle of a load run and check that the app copes.

    .venv/bin/python scripts/faults.py        # or: make faults

Needs the local Postgres server on 127.0.0.1:5432 and the right to stop and start it
(`pg_ctlcluster`). It creates (or resets) its own database, `tracker_faults`, loads the seed, runs
gunicorn with production settings on a free loopback port, and then, for about 30 seconds, sends
mixed GET requests from 16 threads while another thread saves agreements (each with two timeline
events) through the admin. About 8 seconds in, Postgres is stopped for 5 seconds.

It passes when:
  (a) no response is a 5xx other than 503, and every page request gets a 200 or a 503 (that
      the 503 is the friendly page with Retry-After and no traceback, tests/test_resilience.py
      shows);
  (b) 503s (and any other failures) happen only between the stop and a few seconds after
      Postgres accepts connections again;
  (c) the app recovers by itself within 5 s of that moment, and every request after succeeds;
  (d) every admin save is either complete (agreement and all its events) or absent, never half
      saved; a save reported as successful is complete.
The report goes to stdout and test-artifacts/faults.json; the exit status is 1 if a check failed.

Environment: FAULTS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/tracker_faults),
FAULTS_PG_CLUSTER (default "<the only version in /etc/postgresql> main"), FAULTS_DURATION (30),
FAULTS_STOP_AT (8), FAULTS_DOWNTIME (5), FAULTS_THREADS (16), FAULTS_WORKERS (3).
"""

import http.client
import os
import random
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from harness import (
    ARTIFACTS,
    ROOT,
    Browser,
    Server,
    database_name,
    form_fields,
    free_port,
    get,
    logger,
    production_env,
    report,
    seeded_database,
    with_database,
)

DATABASE_URL = os.environ.get(
    "FAULTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tracker_faults"
)
DURATION = float(os.environ.get("FAULTS_DURATION", "30"))
STOP_AT = float(os.environ.get("FAULTS_STOP_AT", "8"))
DOWNTIME = float(os.environ.get("FAULTS_DOWNTIME", "5"))
THREADS = int(os.environ.get("FAULTS_THREADS", "16"))
WORKERS = int(os.environ.get("FAULTS_WORKERS", "3"))
RECOVERY_LIMIT = 5.0  # seconds after Postgres accepts connections
REQUEST_TIMEOUT = 15.0
ADMIN_USER = "faults-admin"
EVENTS_PER_SAVE = 2
log = logger("faults")


# --- Postgres ------------------------------------------------------------------------------------


def pg_cluster():
    configured = os.environ.get("FAULTS_PG_CLUSTER")
    if configured:
        return configured.split()
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir() if p.is_dir())
    if len(versions) != 1:
        sys.exit(f"Set FAULTS_PG_CLUSTER (e.g. '15 main'): found versions {versions}")
    return [versions[0], "main"]


def pg_command(action, *extra):
    return ["pg_ctlcluster", "--skip-systemctl-redirect", *pg_cluster(), action, *extra]


def pg_ctl(action, *extra):
    return subprocess.run(pg_command(action, *extra), capture_output=True, text=True, timeout=120)


def pg_accepts_connections(url=None, timeout=1):
    try:
        with psycopg.connect(
            url or with_database(DATABASE_URL, "postgres"), connect_timeout=timeout
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def ensure_pg_running():
    if not pg_accepts_connections():
        log("Postgres is not accepting connections: starting it")
        pg_ctl("start")
        deadline = time.monotonic() + 60
        while not pg_accepts_connections() and time.monotonic() < deadline:
            time.sleep(0.2)


def app_environment(port):
    """Production settings on the fault test's database (hostile.py uses it too)."""
    env = {**production_env(os.environ, port), "DATABASE_URL": DATABASE_URL}
    env.pop("DATABASE_REPLICA_URL", None)  # only the restarted server serves
    return env


# --- the run -------------------------------------------------------------------------------------


class Recorder:
    def __init__(self, t0):
        self.t0 = t0
        self.lock = threading.Lock()
        self.requests = []
        self.saves = []
        self.marks = {}
        self.setup_error = None

    def now(self):
        return time.monotonic() - self.t0

    def mark(self, name):
        with self.lock:
            self.marks[name] = round(self.now(), 3)
        log(f"{name} at t={self.marks[name]:.2f}s")


def fetch_paths(conn_url):
    """Public pages to load, from what the seed put in the database."""
    with psycopg.connect(conn_url) as conn:
        slugs = [
            r[0]
            for r in conn.execute(
                "SELECT slug FROM agreements_agreement WHERE publication_state = 'published' "
                "ORDER BY slug LIMIT 10"
            )
        ]
        statuses = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT status FROM agreements_agreement "
                "WHERE publication_state = 'published'"
            )
        ]
        countries = [
            r[0].lower()
            for r in conn.execute(
                "SELECT DISTINCT c.code FROM agreements_country c JOIN agreements_agreement a "
                "ON a.receiving_country_id = c.id WHERE a.publication_state = 'published' "
                "ORDER BY 1 LIMIT 10"
            )
        ]
        pair = conn.execute(
            "SELECT id FROM agreements_country WHERE code IN ('US', 'SV') ORDER BY code DESC"
        ).fetchall()
    if not (slugs and statuses and countries and len(pair) == 2):
        sys.exit("The seed data is missing: no published agreements or countries")
    return {
        "home": ["/"],
        "list": [f"/agreements/?status={s}" for s in statuses],
        "agreement": [f"/agreements/{s}/" for s in slugs],
        "country": [f"/countries/{c}/" for c in countries],
        "api": ["/api/agreements/"],
    }, (pair[0][0], pair[1][0])


def load_worker(port, paths, rec, stop, seed):
    rng = random.Random(seed)
    kinds = list(paths)
    while not stop.is_set():
        kind = rng.choice(kinds)
        path = rng.choice(paths[kind])
        started = rec.now()
        entry = {"t": round(started, 3), "kind": kind, "path": path}
        try:
            entry["status"] = get(port, path, timeout=REQUEST_TIMEOUT)[0]
        except (OSError, http.client.HTTPException) as error:
            entry.update(status=None, error=type(error).__name__)
        entry["end"] = round(rec.now(), 3)
        with rec.lock:
            rec.requests.append(entry)


def admin_login(browser, password):
    status, location = browser.login(ADMIN_USER, password)
    return status == 302 and "/login/" not in location


def save_form_template(browser):
    status, _, html = browser.request("GET", "/admin/agreements/agreement/add/")
    if status != 200:
        raise RuntimeError(f"the admin add form answered {status}")
    fields = form_fields(html, "agreement_form")
    names = {name for name, _ in fields}
    for required in ("csrfmiddlewaretoken", "events-TOTAL_FORMS", "transfers-TOTAL_FORMS"):
        if required not in names:
            raise RuntimeError(f"the admin add form has no {required} field: {sorted(names)}")
    return fields


def admin_saver(port, password, countries, run_id, rec, stop):
    """Save new agreements (each with its events) through the admin, one after the other."""
    browser = Browser(port)
    try:
        if not admin_login(browser, password):
            raise RuntimeError("could not log in to the admin before the run")
        template = save_form_template(browser)
    except (RuntimeError, OSError, http.client.HTTPException) as error:
        rec.setup_error = f"admin saver: {error}"
        log(rec.setup_error)
        return
    number = 0
    while not stop.is_set():
        number += 1
        marker = f"faults-{run_id}-{number:04d}"
        fields = {name: value for name, value in template if not name.startswith("events-")}
        fields.update(
            {
                "title": f"Fault test {run_id} save {number}",
                "slug": marker,
                "sending_country": str(countries[0]),
                "receiving_country": str(countries[1]),
                "publication_state": "draft",  # drafts need no sources
                "summary": "Saved by scripts/faults.py while Postgres restarts.",
                "_save": "Save",
            }
        )
        for name, value in template:  # the events' management form, then two new events
            if name.startswith("events-") and not name.split("-")[1].isdigit():
                fields[name] = value
        fields["events-TOTAL_FORMS"] = str(EVENTS_PER_SAVE)
        for i in range(EVENTS_PER_SAVE):
            fields.update(
                {
                    f"events-{i}-date": f"2025-0{i + 1}-15",
                    f"events-{i}-date_precision": "day",
                    f"events-{i}-kind": "other",
                    f"events-{i}-description": f"{marker}-event-{i}",
                    f"events-{i}-agreement": "",
                    f"events-{i}-id": "",
                }
            )
        started = rec.now()
        entry = {"t": round(started, 3), "marker": marker}
        try:
            status, headers, body = browser.request(
                "POST", "/admin/agreements/agreement/add/", fields
            )
            location = headers.get("Location", "")
            entry.update(status=status, location=location)
            if status == 302 and location.rstrip("/").endswith("/admin/agreements/agreement"):
                entry["outcome"] = "ok"
            elif status == 302 and "/login/" in location:
                entry["outcome"] = "failed"  # the session was lost: log in again
                admin_login(browser, password)
            elif status == 200:
                entry["outcome"] = "rejected"  # the form refused the data: a script bug
                errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', body, re.S)
                entry["errors"] = [re.sub(r"<[^>]+>", " ", e).strip() for e in errors][:5]
            else:
                entry["outcome"] = "failed"
        except (OSError, http.client.HTTPException) as error:
            entry.update(status=None, error=type(error).__name__, outcome="failed")
        entry["end"] = round(rec.now(), 3)
        with rec.lock:
            rec.saves.append(entry)
        time.sleep(0.1)


def fault(rec, stop):
    """Stop Postgres at STOP_AT, start it DOWNTIME seconds later, note when it answers again."""
    time.sleep(max(0.0, STOP_AT - rec.now()))
    rec.mark("pg_stop_begin")
    result = pg_ctl("stop", "-m", "fast")
    rec.mark("pg_stopped")
    if result.returncode != 0:
        log(f"pg_ctlcluster stop failed: {result.stderr.strip()}")
    time.sleep(DOWNTIME)
    rec.mark("pg_start_begin")
    # pg_ctlcluster returns only once the server is up: poll meanwhile, to see the moment.
    starting = subprocess.Popen(pg_command("start"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not pg_accepts_connections(DATABASE_URL, timeout=1):
        if time.monotonic() > deadline:
            log("Postgres did not come back within 60 s")
            break
        time.sleep(0.05)
    else:
        rec.mark("pg_ready")
    if starting.wait(timeout=120) != 0:
        log(f"pg_ctlcluster start failed: {starting.stderr.read().decode().strip()}")


def check_saves(saves):
    """Look up every attempted save in the database."""
    by_marker = {}
    with psycopg.connect(DATABASE_URL) as conn:
        for save in saves:
            row = conn.execute(
                "SELECT id FROM agreements_agreement WHERE slug = %s", [save["marker"]]
            ).fetchone()
            events = conn.execute(
                "SELECT count(*) FROM agreements_agreementevent WHERE description LIKE %s",
                [save["marker"] + "-event-%"],
            ).fetchone()[0]
            by_marker[save["marker"]] = {"agreement": row is not None, "events": events}
    return by_marker


def analyse(rec):
    marks = rec.marks
    stop_at = marks.get("pg_stop_begin")
    ready_at = marks.get("pg_ready")
    requests, saves = rec.requests, rec.saves
    problems = [rec.setup_error] if rec.setup_error else []

    def failed(entry):
        return entry.get("status") != 200

    # (a) no 5xx but 503. (That a 503 is the friendly page with Retry-After and no traceback,
    # and that production never shows the debug page, tests/test_resilience.py and
    # tests/test_settings.py prove.)
    statuses = {}
    for entry in requests:
        key = str(entry.get("status") or entry.get("error"))
        statuses[key] = statuses.get(key, 0) + 1
    bad_5xx = [e for e in requests + saves if (e.get("status") or 0) >= 500 and e["status"] != 503]
    unexpected = [e for e in requests if e.get("status") not in (200, 503)]
    if bad_5xx:
        problems.append(f"(a) {len(bad_5xx)} responses were 5xx other than 503: {bad_5xx[:3]}")
    if unexpected:
        problems.append(f"(a) {len(unexpected)} requests got neither 200 nor 503: {unexpected[:3]}")

    if stop_at is None or ready_at is None:
        problems.append("the fault was not injected completely (see the marks)")
        return problems, {}

    # (b) failures only from the stop until RECOVERY_LIMIT after Postgres is back.
    window_end = ready_at + RECOVERY_LIMIT
    failures = [e for e in requests if failed(e)] + [e for e in saves if e["outcome"] != "ok"]
    outside = [e for e in failures if e["end"] < stop_at or e["t"] > window_end]
    if outside:
        problems.append(f"(b) {len(outside)} failures outside the outage window: {outside[:3]}")
    during = [e for e in requests if e["end"] >= stop_at and e["t"] <= ready_at]
    if not any(e.get("status") == 503 for e in during):
        problems.append("(b) no 503 during the outage: was Postgres really stopped?")

    # (c) recovery: the last failure, and the first second of traffic that fully succeeded.
    last_failure_end = max((e["end"] for e in failures), default=stop_at)
    recovery = round(last_failure_end - ready_at, 3)
    after = [e for e in requests if e["t"] >= ready_at]
    first_clean_second = None
    second = 0
    while ready_at + second < rec.now():
        bucket = [e for e in after if ready_at + second <= e["t"] < ready_at + second + 1]
        if bucket and not any(failed(e) for e in bucket):
            first_clean_second = second
            break
        second += 1
    if recovery > RECOVERY_LIMIT:
        problems.append(f"(c) the last failure ended {recovery} s after Postgres was back")
    if first_clean_second is None or first_clean_second >= RECOVERY_LIMIT:
        problems.append(f"(c) no fully successful second within {RECOVERY_LIMIT} s of recovery")
    # The first page served after the restart began (negative: before this script's probe).
    restart = marks["pg_start_begin"]
    first_ok = min(
        (e["end"] for e in requests if e["end"] > restart and not failed(e)), default=None
    )
    late = [e for e in requests if e["t"] > last_failure_end and failed(e)]
    if late:
        problems.append(f"(c) {len(late)} requests failed after recovery")
    if not [e for e in after if not failed(e)]:
        problems.append("(c) no successful request after Postgres came back")

    # (d) admin saves: complete or absent, and complete when reported saved.
    stored = check_saves(saves)
    half, lost, rejected = [], [], []
    for save in saves:
        found = stored[save["marker"]]
        complete = found["agreement"] and found["events"] == EVENTS_PER_SAVE
        absent = not found["agreement"] and found["events"] == 0
        save["stored"] = "complete" if complete else "absent" if absent else "partial"
        if not (complete or absent):
            half.append(save)
        if save["outcome"] == "ok" and not complete:
            lost.append(save)
        if save["outcome"] == "rejected":
            rejected.append(save)
    if half:
        problems.append(f"(d) {len(half)} admin saves were half-saved: {half[:3]}")
    if lost:
        problems.append(f"(d) {len(lost)} saves reported successful are not stored completely")
    if rejected:
        problems.append(f"(d) the admin refused {len(rejected)} saves: {rejected[0].get('errors')}")
    ok_saves = [s for s in saves if s["outcome"] == "ok"]
    saved_before = any(s["t"] < stop_at for s in ok_saves)
    saved_after = any(s["t"] > ready_at for s in ok_saves)
    if not (saved_before and saved_after):
        problems.append("(d) admin saves did not succeed both before and after the outage")

    outage = [e for e in requests if e["end"] >= stop_at and e["t"] <= window_end]
    failed_saves = [s for s in saves if s["outcome"] != "ok"]
    numbers = {
        "postgres_down_seconds": round(ready_at - stop_at, 3),
        # Negative: the app got through before this script's own probe did.
        "recovery_seconds_after_postgres_ready": recovery,
        "first_200_seconds_after_postgres_ready": (
            None if first_ok is None else round(first_ok - ready_at, 3)
        ),
        "first_fully_successful_second_after_ready": first_clean_second,
        "requests_total": len(requests),
        "requests_in_outage_window": len(outage),
        "responses_by_status": statuses,
        "http_503": statuses.get("503", 0),
        "other_failures": sum(v for k, v in statuses.items() if k not in ("200", "503")),
        "admin_saves": {
            "attempted": len(saves),
            "ok": len(ok_saves),
            "failed": len(failed_saves),
            "failed_but_committed": sum(1 for s in failed_saves if s["stored"] == "complete"),
            "failed_and_absent": sum(1 for s in failed_saves if s["stored"] == "absent"),
            "half_saved": len(half),
            "failed_by_status": {
                k: sum(1 for s in failed_saves if str(s.get("status") or s.get("error")) == k)
                for k in {str(s.get("status") or s.get("error")) for s in failed_saves}
            },
        },
    }
    return problems, numbers


def main():
    ARTIFACTS.mkdir(exist_ok=True)
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    port = free_port()
    env = app_environment(port)
    server = None
    gunicorn_log_path = ARTIFACTS / "faults-gunicorn.log"
    try:
        ensure_pg_running()
        log(f"resetting database {database_name(DATABASE_URL)}; migrating and loading the seed")
        password = seeded_database(env, ADMIN_USER)
        paths, countries = fetch_paths(DATABASE_URL)

        log(f"starting gunicorn ({WORKERS} workers) on 127.0.0.1:{port}")
        server = Server(env, port, gunicorn_log_path, workers=WORKERS, timeout=30)
        rec = Recorder(time.monotonic())
        stop = threading.Event()
        threads = [
            threading.Thread(target=load_worker, args=(port, paths, rec, stop, n), daemon=True)
            for n in range(THREADS)
        ]
        threads.append(
            threading.Thread(
                target=admin_saver,
                args=(port, password, countries, run_id, rec, stop),
                daemon=True,
            )
        )
        fault_thread = threading.Thread(target=fault, args=(rec, stop), daemon=True)
        log(f"load: {THREADS} threads for {DURATION:.0f} s; Postgres stops at {STOP_AT:.0f} s")
        for thread in [*threads, fault_thread]:
            thread.start()
        time.sleep(DURATION)
        fault_thread.join(timeout=90)
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
        rec.mark("load_end")
    finally:
        if server is not None:
            server.stop()
        ensure_pg_running()

    problems, numbers = analyse(rec)
    gunicorn_output = gunicorn_log_path.read_text(errors="replace")
    # Informational: server-side logs (never response bodies) of the run.
    app_log = {
        "worker_timeouts": gunicorn_output.count("WORKER TIMEOUT"),
        "tracebacks": gunicorn_output.count("Traceback"),
        "database_unavailable_warnings": gunicorn_output.count('"database unavailable"'),
    }
    details = {
        "settings": {
            "duration": DURATION,
            "stop_at": STOP_AT,
            "downtime": DOWNTIME,
            "threads": THREADS,
            "workers": WORKERS,
            "gunicorn_conf": (ROOT / "gunicorn.conf.py").exists(),
        },
        "marks_seconds": rec.marks,
        "results": numbers,
        "app_log": app_log,
        "requests": rec.requests,
        "admin_saves": rec.saves,
    }
    lines = [f"{name:<16} t={value:7.2f} s" for name, value in rec.marks.items()]
    lines += [f"{name}: {value}" for name, value in numbers.items()]
    lines.append(f"app log: {app_log}")
    return report("Database fault test", problems, details, lines, "faults", gunicorn_log_path)


if __name__ == "__main__":
    sys.exit(main())
