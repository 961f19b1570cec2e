"""Settings come from the environment; production refuses unsafe defaults."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a-real-secret-key-for-this-test-only-0123456789",
    "ALLOWED_HOSTS": "tracker.example.org",
    "DATABASE_URL": "postgres://user:pw@db.example.invalid:5432/tracker",
}


# Variables a settings test sets itself: removed from the inherited environment first.
SETTINGS_VARIABLES = {*PRODUCTION, "DEBUG", "DATABASE_REPLICA_URL"}
PRINT_DEBUG_AND_HOSTS = "import tracker.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS)"


def load_settings(code=PRINT_DEBUG_AND_HOSTS, **env):
    """Run code that imports the settings in a fresh interpreter with exactly these variables."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_its_variables_set():
    result = load_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['tracker.example.org']"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "Set SECRET_KEY"),
        ("ALLOWED_HOSTS", "Set ALLOWED_HOSTS"),
        ("DATABASE_URL", "Set DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_without(missing, message):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_the_development_secret_key():
    result = load_settings(
        **(PRODUCTION | {"SECRET_KEY": "development-only-secret-key-do-not-use-in-production"})
    )
    assert result.returncode != 0
    assert "production refuses the development key" in result.stderr


def test_a_non_postgres_database_is_refused():
    result = load_settings(**(PRODUCTION | {"DATABASE_URL": "sqlite:///db.sqlite3"}))
    assert result.returncode != 0
    assert "must point at a PostgreSQL server" in result.stderr


def test_a_malformed_boolean_is_refused():
    result = load_settings(**(PRODUCTION | {"DEBUG": "maybe"}))
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


SERVE_AND_PRINT_DEBUG = (
    "import tracker.wsgi; from django.conf import settings as s; print(s.DEBUG, s.ALLOWED_HOSTS)"
)


def test_the_wsgi_entry_point_defaults_to_production():
    # No DJANGO_ENV: what gunicorn is given. Production's refusals apply, and DEBUG is off.
    unset = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_ENV"}
    result = load_settings(SERVE_AND_PRINT_DEBUG, **unset)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['tracker.example.org']"
    without_key = {k: v for k, v in unset.items() if k != "SECRET_KEY"}
    result = load_settings(SERVE_AND_PRINT_DEBUG, **without_key)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_tests_run_against_postgres():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL ")


def test_check_deploy_is_clean_with_production_settings():
    # DJANGO_ALLOW_ASYNC_UNSAFE belongs to the browser tests only; --deploy rightly refuses it.
    test_only = {*PRODUCTION, "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(
        PRODUCTION
        | {"SECRET_KEY": "k" * 20 + "-a-long-random-looking-production-secret-9f8e7d6c5b4a"}
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_page_sends_a_content_security_policy_without_unsafe_inline(client):
    header = client.get("/healthz")["Content-Security-Policy"]
    assert "script-src 'self'" in header and "style-src 'self'" in header
    assert "unsafe-inline" not in header


def test_templates_have_no_inline_scripts_or_styles():
    for path in (settings.BASE_DIR / "templates").rglob("*.html"):
        text = path.read_text()
        assert "style=" not in text, path
        assert "<script>" not in text and "<script " not in text, path


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT must be a whole number, got 'five'"),
        ("SECURE_HSTS_SECONDS", "1y", "SECURE_HSTS_SECONDS must be a whole number, got '1y'"),
        ("SESSION_HOURS", "eight", "SESSION_HOURS must be a number, got 'eight'"),
    ],
)
def test_a_malformed_number_is_refused_with_its_name(variable, value, message):
    result = load_settings(**(PRODUCTION | {variable: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_session_hours_may_be_a_fraction():
    result = load_settings(
        "import tracker.settings as s; print(s.SESSION_COOKIE_AGE)",
        **(PRODUCTION | {"SESSION_HOURS": "1.5"}),
    )
    assert result.stdout.strip() == "5400"
