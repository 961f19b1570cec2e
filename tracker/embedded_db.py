"""An embedded Postgres (the pgserver wheel) for machines where DATABASE_URL is not set.

The server's files live under .data/ in the project. The server is shared by every process
that asks for it and stops when the last one exits, so `make run`, `make test` and
`manage.py` commands need no configuration and no Postgres installed on the machine.
"""

import warnings
from pathlib import Path

DATABASE_NAME = "tracker"

# platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver then uses /tmp, which is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

_server = None  # keep a handle for the life of the process: pgserver stops with the last one


def embedded_database_url(data_dir: Path) -> str:
    global _server
    import pgserver  # imported lazily: production never needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    if _server is None:
        _server = pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
        exists = _server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            _server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return _server.get_uri(DATABASE_NAME)
