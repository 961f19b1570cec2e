"""Run Postgres client tools (pg_dump, pg_restore) against the configured database.

The pgserver wheel ships Postgres 16 client tools, which work with servers up to version 16
whether the database is the embedded one or a DATABASE_URL server.
"""

import os
import shutil
import subprocess
import warnings
from pathlib import Path

from django.core.management.base import CommandError
from django.db import connection


def tool(name: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR notice on import
        import pgserver

    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
    if bundled.exists():
        return str(bundled)
    found = shutil.which(name)
    if not found:
        raise CommandError(f"{name} not found")
    return found


def run(name: str, *args: str) -> None:
    """Run a client tool against the current database (the test database under tests)."""
    settings = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            # The embedded server's socket directory arrives as OPTIONS["host"].
            "PGHOST": str(settings.get("HOST") or settings.get("OPTIONS", {}).get("host") or ""),
            "PGPORT": str(settings.get("PORT") or ""),
            "PGUSER": str(settings.get("USER") or ""),
            "PGPASSWORD": str(settings.get("PASSWORD") or ""),
            "PGDATABASE": str(settings["NAME"]),
        }
    )
    result = subprocess.run([tool(name), *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(f"{name} failed: {result.stderr.strip()}")
