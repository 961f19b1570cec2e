"""`make bench`: the performance benchmark, with results written into docs/PERFORMANCE.md.

1. A benchmark database (`tracker_bench` on the DATABASE_URL server, or on the embedded server
   when DATABASE_URL is unset) is migrated and filled once by `generate_data` (5,000 agreements,
   100,000 transfers, 20,000 sources, skewed, ~3% drafts) on top of the seed data.
2. gunicorn runs the app with production settings on loopback (gunicorn.conf.py, so workers follow
   the CPU count), and `wrk` (Debian) drives each page for a fixed time: requests per second and
   p50/p95/p99 latency, first with the page cache off (every request renders), then on.
3. Baselines from the same run: a trivial view of the same gunicorn (/healthz, no database), and
   `COPY (the export's own SELECT) TO STDOUT WITH CSV` in psql. Pages are reported as ratios to
   them, since absolute numbers on a shared machine drift.
4. The CSV download of all transfers is timed end to end, with the serving worker's peak memory
   growth; query counts per page on this data are compared with the test suite's budgets.
5. A 60-second mixed load at concurrency 32 (cache on, many distinct URLs) counts errors.

Options: --duration SECONDS per page (default 10), --quick (3 s per page, 15 s load, for a
smoke run), --no-write (print, do not touch docs/PERFORMANCE.md).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from harness import (
    ARTIFACTS,
    PYTHON,
    ROOT,
    Server,
    create_database,
    free_port,
    get,
    logger,
    manage,
    memory_kb,
    production_env,
    server_url,
    with_database,
)

DOC = ROOT / "docs" / "PERFORMANCE.md"
RESULTS = ROOT / "docs" / "bench-results.json"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
BENCH_DB = "tracker_bench"
TRIVIAL_RPS_REFERENCE = 7500  # the figure for a trivial Django view on this machine

LUA_PERCENTILES = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.duration))
end
"""

LUA_MIXED = (
    """
local paths = {PATHS}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""
    + LUA_PERCENTILES
)


log = logger("bench")


def prepare(env):
    manage(env, "migrate", "--noinput", "-v0", show_output=True)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        generated = conn.execute(
            "SELECT count(*) FROM agreements_agreement WHERE slug LIKE 'gen-%%'"
        ).fetchone()[0]
    if generated < 5000:
        log("generating the data set (about 2-3 minutes, once)")
        manage(env, "load_seed", show_output=True)
        manage(env, "generate_data", show_output=True)
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE")
    manage(production_env(env, 0), "collectstatic", "--noinput", "-v0", show_output=True)


def serve(env, cache_on, log_dir):
    """gunicorn with production settings, the page cache on or off."""
    port = free_port()
    phase = "cached" if cache_on else "uncached"
    env = {**production_env(env, port), "PAGE_CACHE_SECONDS": "600" if cache_on else "0"}
    return Server(env, port, Path(log_dir) / f"gunicorn-{phase}.log")


def cpu_seconds(pids):
    """{pid: user + system CPU seconds so far} for those of these processes still running."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return found


def cpu_used(before, after):
    """CPU seconds spent between two snapshots by the processes alive at the second (a process
    started in between counts from zero; one that exited is lost, so this is a lower bound)."""
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def postgres_pids():
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def wrk(url, duration, connections=16, script=LUA_PERCENTILES, threads=2, server=None, headers=()):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    app_pids = [server.pid, *server.workers()] if server else []
    app_before, db_before = cpu_seconds(app_pids), cpu_seconds(postgres_pids())
    out = subprocess.run(
        [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s",
            "-s", lua.name, *[f"-H{header}" for header in headers], url,
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    os.unlink(lua.name)
    # CPU cores kept busy, on average, by the app server and by Postgres during the run.
    app_after = cpu_seconds([server.pid, *server.workers()] if server else [])
    app_cores = cpu_used(app_before, app_after) / duration
    db_cores = cpu_used(db_before, cpu_seconds(postgres_pids())) / duration
    numbers = next(line for line in out.stdout.splitlines() if line.startswith("BENCH ")).split()
    requests, socket_errors, status_errors, p50, p95, p99, micros = map(int, numbers[1:])
    return {
        "rps": round(requests / (micros / 1e6), 1),
        "requests": requests,
        "socket_errors": socket_errors,
        "non_2xx_3xx": status_errors,
        "p50_ms": round(p50 / 1000, 1),
        "p95_ms": round(p95 / 1000, 1),
        "p99_ms": round(p99 / 1000, 1),
        "app_cores": round(app_cores, 2),
        "db_cores": round(db_cores, 2),
    }


def timed_download(url):
    started = time.perf_counter()
    size = 0
    with urllib.request.urlopen(url, timeout=300) as response:
        while chunk := response.read(1 << 16):
            size += len(chunk)
    return time.perf_counter() - started, size


def psql_copy_seconds(env, sql, runs=3):
    """`COPY (sql) TO STDOUT WITH CSV` through psql, output discarded; median of runs."""
    psql = shutil.which("psql")
    bundled = next(
        iter(Path(sys.prefix).glob("lib/python*/site-packages/pgserver/pginstall/bin/psql")), None
    )
    psql = str(bundled) if bundled else psql
    copy = f"\\copy ({sql}) TO STDOUT WITH CSV HEADER"
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [psql, env["DATABASE_URL"], "-X", "-q", "-c", copy],
            stdout=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def probe(env):
    out = subprocess.run(
        [PYTHON, "scripts/bench_probe.py"], cwd=ROOT, env={**env, "DEBUG": "0"},
        capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def budgets():
    sys.path.insert(0, str(ROOT))
    source = (ROOT / "tests" / "test_query_counts.py").read_text()
    match = re.search(r"BUDGETS = \{(.*?)\n\}", source, re.S)
    found = dict(re.findall(r'"([^"]+)": (\d+)', match.group(1)))
    return {key: int(value) for key, value in found.items()}


def mixed_paths(probed):
    urls = probed["urls"]
    paths = [
        "/", "/agreements/", "/countries/", "/transfers/", "/trends/", "/sources/",
        urls["list_two_filters"], urls["list_text_search"], urls["busiest_country"],
        urls["agreement_detail"], "/api/agreements/", "/api/transfers/?page=3",
        "/agreements/?status=suspended&ordering=-first_date", "/transfers/?page=40",
        "/search/?q=court+ruling", "/changes/", "/sitemap.xml", "/agreements/feed/",
    ]  # fmt: skip
    # A scraper's walk: many distinct pages, so a share of requests always miss the cache.
    paths += [f"/agreements/?page={n}" for n in range(2, 40)]
    paths += [f"/transfers/?page={n}" for n in range(2, 40)]
    return paths


def run(options):
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (Debian), then rerun.")
    database = create_database(with_database(server_url(), BENCH_DB))
    env = {**os.environ, "DATABASE_URL": database, "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_ENV", None)
    duration = options.duration
    log_dir = ARTIFACTS / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    prepare(env)
    log("probing pages and query counts")
    probed = probe(env)
    urls = probed["urls"]
    page_names = [name for name in urls if name != "csv_all_transfers"]
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "data": probed["counts"],
        "busiest_country": probed["busiest_country"],
        "agreement_detail_transfers": probed["agreement_transfers"],
        "urls": urls,
        "queries": probed["queries"],
        "query_budgets": budgets(),
        "duration_per_page_s": duration,
    }

    log("COPY baseline in psql")
    results["copy_seconds"] = round(psql_copy_seconds(env, probed["copy_sql"]), 3)

    for cache_on in (False, True):
        phase = "cached" if cache_on else "uncached"
        server = serve(env, cache_on, log_dir)
        try:
            log(f"{phase}: trivial view baseline")
            results.setdefault("trivial", {})[phase] = wrk(
                server.base + "/healthz", duration, server=server
            )
            pages = {}
            for name in page_names:
                if cache_on:
                    get(server.port, urls[name], timeout=120)  # warm the cache
                log(f"{phase}: {name}")
                pages[name] = wrk(server.base + urls[name], duration, server=server)
            results[phase] = pages
            if cache_on:
                log("revalidations: the home page with a matching If-None-Match (304)")
                etag = get(server.port, "/", timeout=60)[1]["ETag"]
                results["revalidation"] = wrk(
                    server.base + "/", duration, server=server, headers=[f"If-None-Match: {etag}"]
                )
            if not cache_on:
                log("CSV download of all transfers, with the worker's memory")
                before = {pid: memory_kb(pid, "VmHWM") for pid in server.workers()}
                baseline_rss = {pid: memory_kb(pid, "VmRSS") for pid in before}
                timings = []
                for _ in range(3):
                    seconds, size = timed_download(server.base + urls["csv_all_transfers"])
                    timings.append(seconds)
                after = {pid: memory_kb(pid, "VmHWM") for pid in before}
                results["csv"] = {
                    "seconds_median": round(statistics.median(timings), 3),
                    "seconds_all": [round(t, 3) for t in timings],
                    "bytes": size,
                    "peak_memory_growth_mb": round(
                        max((after[pid] - max(before[pid], baseline_rss[pid])) for pid in before)
                        / 1024,
                        1,
                    ),
                }
            else:
                log(f"mixed load: {options.load_seconds} s at concurrency 32")
                paths = mixed_paths(probed)
                script = LUA_MIXED.replace("PATHS", ", ".join(json.dumps(p) for p in paths))
                results["load"] = {
                    **wrk(
                        server.base + "/",
                        options.load_seconds,
                        32,
                        script,
                        threads=4,
                        server=server,
                    ),
                    "seconds": options.load_seconds,
                    "concurrency": 32,
                    "distinct_paths": len(paths),
                }
        finally:
            server.stop()
    return results


def verdicts(results):
    trivial = results["trivial"]["uncached"]["rps"]
    trivial_cached = results["trivial"]["cached"]["rps"]
    rows = []
    for name, figures in results["uncached"].items():
        ratio = figures["rps"] / trivial
        rows.append((name, "uncached", figures, ratio, 0.05))
    for name, figures in results["cached"].items():
        ratio = figures["rps"] / trivial_cached
        rows.append((name, "cached", figures, ratio, 0.5))
    return rows


def render(results):
    trivial = results["trivial"]
    csv = results["csv"]
    copy = results["copy_seconds"]
    csv_ratio = csv["seconds_median"] / copy
    lines = [
        f"Measured {results['when']} on this machine ({results['machine']['cpus']} CPUs, "
        f"Python {results['machine']['python']}), {results['duration_per_page_s']} s of `wrk` "
        "per page at 16 connections, gunicorn with production settings and `gunicorn.conf.py`. "
        f"Data: {results['data']['agreements']:,} published agreements, "
        f"{results['data']['transfers']:,} published transfers, "
        f"{results['data']['countries']} countries. Rerun: `make bench`.",
        "",
        "Baselines in the same run: the trivial view (`/healthz`, no database) served "
        f"{trivial['uncached']['rps']:,.0f} requests/s (p99 {trivial['uncached']['p99_ms']} ms) "
        f"in the uncached phase and {trivial['cached']['rps']:,.0f} requests/s in the cached "
        f"phase; `COPY (the export's SELECT) TO STDOUT WITH CSV` in psql took {copy:.2f} s.",
        "",
        "| Page | Cache | Requests/s | p50 ms | p95 ms | p99 ms | × trivial | Target | Met "
        "| App / DB cores |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for name, phase, figures, ratio, target in verdicts(results):
        lines.append(
            f"| {name.replace('_', ' ')} (`{results['urls'][name]}`) | {phase} | "
            f"{figures['rps']:,.1f} | {figures['p50_ms']} | {figures['p95_ms']} | "
            f"{figures['p99_ms']} | {ratio:.3f} | ≥ {target} | "
            f"{'yes' if ratio >= target else '**no**'} | "
            f"{figures['app_cores']} / {figures['db_cores']} |"
        )
    revalidation = results["revalidation"]
    lines += [
        "",
        f"Revalidation (`/` with a matching `If-None-Match`, answered 304): "
        f"{revalidation['rps']:,.1f} requests/s, p99 {revalidation['p99_ms']} ms. *App / DB "
        "cores*: CPU cores kept busy on average by gunicorn and by Postgres during the run (the "
        "rest of the two cores went to `wrk`).",
    ]
    lines += [
        "",
        "| CSV of all transfers | Value | Target | Met |",
        "|---|---:|---:|---|",
        f"| Time (median of 3, {csv['bytes'] / 1e6:.1f} MB) | {csv['seconds_median']:.2f} s = "
        f"{csv_ratio:.2f} × `COPY` | ≤ 3 × `COPY` | {'yes' if csv_ratio <= 3 else '**no**'} |",
        f"| Serving worker's peak memory growth | {csv['peak_memory_growth_mb']} MB | < 50 MB | "
        f"{'yes' if csv['peak_memory_growth_mb'] < 50 else '**no**'} |",
        "",
    ]
    budgets = results["query_budgets"]
    budget_for = {
        "home": budgets.get("/"),
        "list_two_filters": budgets.get("/agreements/?country=US&status=in_force&status=signed"),
        "list_text_search": budgets.get("/agreements/"),
        "busiest_country": budgets.get("/countries/us/"),
        "agreement_detail": budgets.get("/agreements/slug/"),
    }
    lines += [
        "One request at a time, in-process (no gunicorn), page cache off: *cold* is the first "
        "render after a change of the data (nothing derived cached yet), *warm* the next one.",
        "",
        "| Page | Cold ms | Warm ms | Queries (cold) on this data | Budget in "
        "`tests/test_query_counts.py` (1 and 12 records) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, budget in budget_for.items():
        figures = results["queries"][name]
        lines.append(
            f"| {name.replace('_', ' ')} | {figures['cold_ms']} | {figures['warm_ms']} | "
            f"{figures['queries']} | {budget if budget is not None else '–'} |"
        )
    load = results["load"]
    errors = load["socket_errors"] + load["non_2xx_3xx"]
    lines += [
        "",
        f"Mixed load, {load['seconds']} s at concurrency {load['concurrency']} over "
        f"{load['distinct_paths']} distinct URLs (cache on): {load['requests']:,} requests, "
        f"{load['rps']:,.1f}/s, p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, "
        f"p99 {load['p99_ms']} ms; errors: {errors} "
        f"({load['socket_errors']} socket, {load['non_2xx_3xx']} non-2xx/3xx) — target 0: "
        f"{'met' if errors == 0 else '**not met**'}.",
    ]
    return "\n".join(lines)


def write_doc(results):
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    DOC.write_text(f"{before}{START}\n{render(results)}\n{END}{after}")
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()
    if options.quick:
        options.duration, options.load_seconds = 3, 15
    results = run(options)
    print(render(results))
    if not options.no_write:
        write_doc(results)
        log(f"written to {DOC.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
