"""How long large CSV imports take, through `manage.py import_csv` and the import worker.

    .venv/bin/python scripts/import_timing.py                 # 7,000 and 30,000 sources
    .venv/bin/python scripts/import_timing.py --rows 2000 --kind transfers

Each run uses a fresh scratch database (`tracker_import_timing`, on the DATABASE_URL server or
the embedded one under .data/), migrated, with an editor account. For each size it imports a
generated file of new rows with `import_csv`, then the same number of other new rows as a queued
job run by `run_import_jobs --once`, each in its own process: wall time, rows per second and
the process's peak memory. docs/IMPORT.md quotes the results.
"""

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from harness import PYTHON, ROOT, create_database, manage, server_url, with_database

SCRATCH_DB = "tracker_import_timing"
EDITOR = "timing-editor"


def sources_csv(rows, start):
    lines = ["url,title,publisher,published,kind"]
    lines += [
        f"https://news.example.org/timing-{n},Story {n},Example News,2025-03,news"
        for n in range(start, start + rows)
    ]
    return "\n".join(lines) + "\n"


def transfers_csv(rows, start):
    lines = ["agreement,date,from_country,to_country,people,nationalities,sources"]
    for n in range(start, start + rows):
        day = 1 + n % 28
        month = 1 + (n // 28) % 12
        year = 1900 + n // (28 * 12)
        lines.append(
            f"timing-deal,{year}-{month:02d}-{day:02d},US,SV,{n % 500},VE|SV,"
            "https://news.example.org/timing-source"
        )
    return "\n".join(lines) + "\n"


CSV = {"sources": sources_csv, "transfers": transfers_csv}


def setup(env):
    manage(env, "migrate", "--noinput", "-v0")
    code = f"""
from django.contrib.auth.models import Group, User
from agreements.models import Agreement, Country, Source
user = User.objects.create_user({EDITOR!r}, is_staff=True)
user.groups.add(Group.objects.get(name="Editors"))
source = Source.objects.create(url="https://news.example.org/timing-source", title="Source")
deal = Agreement.objects.create(
    slug="timing-deal", title="Deal", sending_country=Country.objects.get(code="US"),
    receiving_country=Country.objects.get(code="SV"), kind="unknown", status="reported",
)
deal.sources.add(source)
"""
    manage(env, "shell", "-v", "0", "-c", code)


def timed(env, args):
    """Run manage.py args; (seconds, peak MB of that process, its output lines)."""
    with tempfile.TemporaryFile("w+") as output:
        start = time.monotonic()
        process = subprocess.Popen(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, stdout=output, stderr=output
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        lines = output.read().strip().splitlines()
    if process.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n" + "\n".join(lines))
    return seconds, usage.ru_maxrss / 1024, lines


def queue_job(env, kind, path, rows):
    code = f"""
from django.contrib.auth.models import User
from agreements.models import ImportJob
ImportJob.objects.create(kind={kind!r}, file_name="timing.csv", row_count={rows},
    content=open({str(path)!r}, encoding="utf-8").read(),
    created_by=User.objects.get(username={EDITOR!r}))
"""
    manage(env, "shell", "-v", "0", "-c", code)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[7000, 30000])
    parser.add_argument("--kind", choices=sorted(CSV), default="sources")
    options = parser.parse_args()
    database = create_database(with_database(server_url(), SCRATCH_DB), reset=True)
    env = {**os.environ, "DATABASE_URL": database, "LOG_LEVEL": "WARNING"}
    setup(env)
    start = 0
    with tempfile.TemporaryDirectory() as folder:
        for rows in options.rows:
            path = Path(folder) / f"{options.kind}-{rows}.csv"
            path.write_text(CSV[options.kind](rows, start), encoding="utf-8")
            start += rows
            size = path.stat().st_size / 1e6
            seconds, peak, out = timed(
                env, ["import_csv", options.kind, str(path), "--user", EDITOR]
            )
            print(
                f"import_csv {options.kind} {rows:>6,} rows ({size:.1f} MB): {seconds:6.1f} s, "
                f"{rows / seconds:5.0f} rows/s, peak {peak:.0f} MB | {out[0]}",
                flush=True,
            )
            path.write_text(CSV[options.kind](rows, start), encoding="utf-8")
            start += rows
            queue_job(env, options.kind, path, rows)
            seconds, peak, out = timed(env, ["run_import_jobs", "--once"])
            print(
                f"worker     {options.kind} {rows:>6,} rows ({size:.1f} MB): {seconds:6.1f} s, "
                f"{rows / seconds:5.0f} rows/s, peak {peak:.0f} MB | {out[-1]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
