"""Docker cannot run on the development machine; check what can be checked without it."""

import json
import os
import re
import runpy
import subprocess
import sys

import pytest
import yaml
from django.conf import settings

BASE = settings.BASE_DIR
COMPOSE = yaml.safe_load((BASE / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (BASE / "Dockerfile").read_text()
NGINX = (BASE / "deploy" / "nginx.conf").read_text()
NGINX_DIRECTIVES = re.sub(r"#.*", "", NGINX)
README = (BASE / "README.md").read_text()


def test_compose_has_database_cache_migrations_app_import_worker_and_proxy():
    assert set(SERVICES) == {"db", "redis", "migrate", "web", "worker", "proxy"}


def test_the_import_worker_runs_the_app_image_after_the_migrations():
    worker, web = SERVICES["worker"], SERVICES["web"]
    assert worker["build"] == web["build"] == "."  # the same image
    assert worker["command"] == ["python", "manage.py", "run_import_jobs"]
    assert worker["environment"] == SERVICES["migrate"]["environment"]  # the app's settings
    assert worker["depends_on"]["db"]["condition"] == "service_healthy"
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in worker
    # The image's health check asks gunicorn, which the worker does not run.
    assert worker["healthcheck"] == {"disable": True}
    assert worker["restart"] == "unless-stopped"


def test_database_is_official_postgres_with_a_named_volume_and_healthcheck():
    db = SERVICES["db"]
    assert db["image"].startswith("postgres:16")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in COMPOSE["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_redis_is_official_with_a_ping_healthcheck():
    redis = SERVICES["redis"]
    assert redis["image"].startswith("redis:7")
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])


def test_redis_has_a_memory_limit_and_evicts_the_least_recently_used_keys():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--maxmemory") + 1] == "${REDIS_MAXMEMORY:-256mb}"
    assert command[command.index("--maxmemory-policy") + 1] == "allkeys-lru"


def test_migrations_run_once_in_their_own_service_before_the_app_starts():
    migrate, web = SERVICES["migrate"], SERVICES["web"]
    assert migrate["build"] == web["build"] == "."  # the same image
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert "ports" not in migrate
    # The replicas themselves never migrate: concurrent migrations are not safe.
    assert "migrate" not in " ".join(web["command"])


def test_web_can_scale_and_waits_for_database_cache_and_migrations():
    web = SERVICES["web"]
    assert "ports" not in web  # replicas would clash on a host port; nginx is the way in
    assert web["command"] == ["gunicorn", "tracker.wsgi", "-c", "gunicorn.conf.py"]
    assert web["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    env = web["environment"]
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # required, no default
    assert env["SECURE_COOKIES"].endswith(":-0}") and env["SECURE_SSL_REDIRECT"].endswith(":-0}")
    assert "healthcheck" in web and "HEALTHCHECK" in DOCKERFILE
    # The migrations see exactly the app's settings.
    assert {k: v for k, v in env.items() if k != "WEB_CONCURRENCY"} == SERVICES["migrate"][
        "environment"
    ]


def test_proxy_is_nginx_publishing_a_port_with_its_config_mounted_read_only():
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["${HTTP_PORT:-8000}:80"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"


def test_nginx_re_resolves_the_scaled_replicas_and_forwards_the_client():
    # A variable in proxy_pass makes nginx ask Docker's DNS again; a static upstream would keep
    # the addresses it found at startup and never see new replicas.
    nginx = NGINX_DIRECTIVES
    assert re.search(r"resolver 127\.0\.0\.11 valid=\d+s", nginx)
    assert re.search(r"set \$(\w+) http://web:8000;\s*proxy_pass \$\1;", nginx)
    assert not re.search(r"\bupstream\s+\w+\s*\{", nginx)
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Request-ID"):
        assert re.search(rf"proxy_set_header {header} \$\w+;", nginx), header
    # nginx replaces X-Forwarded-For with the peer it saw; the app believes that one entry.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    assert COMPOSE["x-app-environment"]["TRUSTED_PROXY_COUNT"] == "1"
    assert "gzip on;" in nginx
    assert re.search(r"client_max_body_size \d+m;", nginx)
    assert re.search(r"proxy_read_timeout \d+s;", nginx)


def test_image_collects_static_files_runs_gunicorn_with_its_config_as_a_non_root_user():
    assert "collectstatic --noinput" in DOCKERFILE
    assert re.search(r"^USER tracker$", DOCKERFILE, re.M)
    assert "exec gunicorn tracker.wsgi -c gunicorn.conf.py" in DOCKERFILE
    assert re.search(r"^FROM python:3\.\d+-slim$", DOCKERFILE, re.M)
    healthcheck = DOCKERFILE[DOCKERFILE.index("HEALTHCHECK") :]
    assert "python -c" in healthcheck and "/healthz" in healthcheck


def load_gunicorn_config(monkeypatch, **env):
    for name in ("WEB_CONCURRENCY", "GUNICORN_BIND", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE / "gunicorn.conf.py"))


def test_gunicorn_runs_two_workers_per_cpu_plus_one_by_default(monkeypatch):
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 3)
    config = load_gunicorn_config(monkeypatch)
    assert config["workers"] == 7
    assert config["bind"] == "0.0.0.0:8000"
    assert config["worker_class"] == "sync"
    assert config["accesslog"] is None  # the app logs each request itself
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    assert config["timeout"] == config["graceful_timeout"] == 30
    # Docker must wait that long before it kills a stopping replica.
    assert int(SERVICES["web"]["stop_grace_period"].rstrip("s")) > config["graceful_timeout"]


@pytest.mark.parametrize(("value", "workers"), [("5", 5), ("", 7)])
def test_web_concurrency_sets_the_workers(monkeypatch, value, workers):
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 3)
    assert load_gunicorn_config(monkeypatch, WEB_CONCURRENCY=value)["workers"] == workers


def test_gunicorn_bind_and_trusted_proxies_come_from_the_environment(monkeypatch):
    config = load_gunicorn_config(
        monkeypatch, GUNICORN_BIND="127.0.0.1:9000", FORWARDED_ALLOW_IPS="10.0.0.2"
    )
    assert (config["bind"], config["forwarded_allow_ips"]) == ("127.0.0.1:9000", "10.0.0.2")


@pytest.mark.parametrize(
    ("redis_url", "storage"),
    [
        ("", "TempFolderStorage"),
        ("redis://redis:6379/0", "import_export.tmp_storages.CacheStorage"),
    ],
)
def test_a_csv_import_can_be_confirmed_on_another_app_server(redis_url, storage):
    # The preview and the confirmation are two requests; behind a load balancer they may reach
    # different servers, so with Redis the pending file lives there.
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"DATABASE_URL": "postgres://u@db.example.invalid/t", "REDIS_URL": redis_url})
    code = (
        "import tracker.settings as s; "
        "print(getattr(s, 'IMPORT_EXPORT_TMP_STORAGE_CLASS', 'TempFolderStorage'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == storage


def compose_variables():
    """Every variable the compose file passes to a container or reads from the shell."""
    names = set()
    for name, service in SERVICES.items():
        if name != "db":  # the postgres image's own POSTGRES_* variables
            names.update(service.get("environment", {}))
    text = (BASE / "docker-compose.yml").read_text()
    names.update(re.findall(r"\$\{(\w+)", text))
    return names


def test_every_variable_compose_uses_is_documented_in_the_readme():
    names = compose_variables()
    assert {"REDIS_URL", "HTTP_PORT", "WEB_CONCURRENCY", "SECRET_KEY"} <= names
    configuration = README[README.index("## Configuration") : README.index("## Operations")]
    for name in names:
        assert f"`{name}`" in configuration, name


# Run in a fresh interpreter: which variables the settings and gunicorn's config read, as they
# read them (through tracker/env.py, os.environ or os.getenv), not as a pattern finds them.
RECORD_VARIABLES_READ = """
import json, os, runpy, sys
from collections.abc import Mapping
base = os.getcwd()
seen = set()
read = os._Environ.__getitem__


def recording(self, key):
    frame = sys._getframe(1)  # the reader, past os.getenv and Mapping.get
    while frame.f_code.co_filename in (os.__file__, Mapping.get.__code__.co_filename):
        frame = frame.f_back
    name = frame.f_code.co_filename
    if name.startswith(base) and "/.venv/" not in name:
        seen.add(key)
    return read(self, key)


os._Environ.__getitem__ = recording
import tracker.settings
runpy.run_path(os.path.join(base, "gunicorn.conf.py"))
print(json.dumps(sorted(seen)))
"""


def variables_read(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", RECORD_VARIABLES_READ],
        cwd=BASE,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def test_every_variable_the_settings_read_is_documented_in_the_readme():
    production = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "a-real-secret-key-for-this-test-only-0123456789",
        "ALLOWED_HOSTS": "tracker.example.org",
        "DATABASE_URL": "postgres://user:pw@db.example.invalid:5432/tracker",
        "DATABASE_REPLICA_URL": "postgres://user:pw@replica.example.invalid:5432/tracker",
        "REDIS_URL": "redis://redis.example.invalid:6379/0",
    }
    names = variables_read() | variables_read(**production)
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SESSION_HOURS", "WEB_CONCURRENCY"} <= names
    configuration = README[README.index("## Configuration") : README.index("## Operations")]
    undocumented = sorted(name for name in names if f"`{name}`" not in configuration)
    assert not undocumented


def test_the_readmes_scale_out_command_names_a_service_that_can_scale():
    # Compose refuses to scale a service that publishes a host port or has a fixed name.
    commands = re.findall(r"docker compose up [^\n]*--scale (\w+)=(\d+)", README)
    assert commands
    for service, replicas in commands:
        assert service in SERVICES, service
        assert "ports" not in SERVICES[service] and "container_name" not in SERVICES[service]
        assert int(replicas) > 1
