"""While the database is unreachable, pages answer 503 with Retry-After, never a traceback."""

import json
import logging
import os
import socket
import subprocess
import sys
import time
from unittest import mock

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.test import Client

from tracker.resilience import database_error

UNREACHABLE = "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection"
REFUSED = OperationalError(
    'connection failed: connection to server at "127.0.0.1", port 5432 failed'
)


def assert_friendly_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "Service temporarily unavailable" in body
    assert "Traceback" not in body and "OperationalError" not in body
    return body


@pytest.mark.parametrize("path", ["/", "/agreements/?status=in_force", "/countries/sv/"])
def test_pages_answer_503_when_the_database_is_unreachable(path):
    # No database mark: the 503 page itself must not need the database.
    with mock.patch(UNREACHABLE, side_effect=REFUSED):
        response = Client().get(path)
    body = assert_friendly_503(response)
    assert response["Content-Type"].startswith("text/html")
    # The page goes out through the CSP middleware and needs nothing inline.
    assert "Content-Security-Policy" in response
    assert "<style" not in body and "<script" not in body and "style=" not in body


def test_the_api_answers_a_json_503():
    with mock.patch(UNREACHABLE, side_effect=REFUSED):
        response = Client().get("/api/agreements/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {"error": "Service temporarily unavailable. Try again shortly."}


@pytest.mark.django_db
def test_a_query_failing_mid_request_gives_a_503(client, seeded):
    # The connection is up but the server drops it during a query.
    with mock.patch(
        "django.db.models.sql.compiler.SQLCompiler.execute_sql",
        side_effect=InterfaceError("connection already closed"),
    ):
        response = client.get("/agreements/")
    assert_friendly_503(response)


@pytest.mark.django_db
def test_a_logged_in_editor_whose_session_cannot_load_gets_a_503(superuser_client, caplog):
    # request.user reads the session from the database, in the view.
    with mock.patch(UNREACHABLE, side_effect=REFUSED):
        response = superuser_client.get("/admin/")
    assert_friendly_503(response)
    # The session middleware did not retry the read after the view (a traceback per request).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The stored session survives: the editor is still logged in once the database is back.
    assert superuser_client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_session_save_failing_after_the_view_gives_a_503(superuser_client):
    # The session middleware saves after the view has answered, outside process_exception.
    client = Client(raise_request_exception=False)
    client.cookies = superuser_client.cookies
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.save", side_effect=REFUSED):
        response = client.get("/admin/")
    assert_friendly_503(response)
    # Headers set by the inner middleware on the 500 survive the swap.
    assert "Content-Security-Policy" in response
    assert response["X-Content-Type-Options"] == "nosniff"


class FailingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise OperationalError("the database system is shutting down")


def test_a_database_error_in_another_middleware_gives_a_503(db, settings):
    index = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: index + 1],
        f"{__name__}.FailingMiddleware",
        *settings.MIDDLEWARE[index + 1 :],
    ]
    assert_friendly_503(Client(raise_request_exception=False).get("/"))


def test_other_errors_stay_500s():
    # Only database outages are "temporary": a bug must not hide behind a 503.
    with mock.patch(UNREACHABLE, side_effect=ValueError("a bug")):
        response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_the_outage_is_logged_as_a_warning_with_the_error_type(caplog):
    with (
        caplog.at_level(logging.WARNING, logger="tracker.resilience"),
        mock.patch(UNREACHABLE, side_effect=REFUSED),
    ):
        Client().get("/")
    [record] = [r for r in caplog.records if r.name == "tracker.resilience"]
    assert record.levelno == logging.WARNING
    assert record.error == "OperationalError" and record.path == "/"
    assert record.exc_info is None  # one line per request, no traceback flood


def test_healthz_stays_up_and_readyz_reports_the_outage():
    with mock.patch(UNREACHABLE, side_effect=REFUSED):
        assert Client().get("/healthz").status_code == 200
        readyz = Client().get("/readyz")
    assert readyz.status_code == 503 and readyz.json()["status"] == "unavailable"


def test_a_database_error_wrapped_in_another_is_recognised():
    try:
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError as inner:
            raise RuntimeError("while rendering") from inner
    except RuntimeError as outer:
        assert isinstance(database_error(outer), OperationalError)
    assert database_error(ValueError("no")) is None


PROBE = """
import json
import sys
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
out = {}
# A session cookie makes request.user read the session table (an editor's request).
editor = Client(raise_request_exception=False)
editor.cookies["sessionid"] = "a" * 32
for path in sys.argv[1:]:
    response = (editor if path == "/admin/" else client).get(path)
    body = response.content.decode()
    out[path] = {
        "status": response.status_code,
        "retry_after": response.get("Retry-After"),
        "traceback": "Traceback" in body or "technical_500" in body or "Request Method" in body,
        "friendly": "Service temporarily unavailable" in body,
    }
print(json.dumps(out))
"""


def probe_production(database_url, paths, timeout=120):
    """Request paths with django.test.Client in a process running production settings."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DJANGO_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "CRITICAL",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *paths],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_real_outage_under_production_settings_gives_503s_not_500s():
    # A real connection failure (nothing listens on port 1), production settings, DEBUG off.
    seen = probe_production(
        "postgres://postgres@127.0.0.1:1/x",
        ["/", "/agreements/", "/api/agreements/", "/admin/", "/healthz", "/readyz"],
    )
    for path in ["/", "/agreements/", "/api/agreements/", "/admin/"]:
        assert seen[path]["status"] == 503, (path, seen[path])
        assert seen[path]["retry_after"] == "5"
        assert not seen[path]["traceback"]
    assert seen["/"]["friendly"] and seen["/admin/"]["friendly"]
    assert seen["/healthz"]["status"] == 200
    assert seen["/readyz"]["status"] == 503


def test_a_server_that_never_answers_gives_a_503_within_seconds():
    # It accepts the TCP connection and then says nothing (a hung server, a broken route):
    # without a connect timeout the worker would wait until gunicorn killed it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        started = time.monotonic()
        seen = probe_production(f"postgres://postgres@127.0.0.1:{port}/x", ["/"], timeout=60)
        elapsed = time.monotonic() - started
    assert seen["/"]["status"] == 503 and not seen["/"]["traceback"]
    # Two connection attempts (the page cache's version check, then the view) of 3 s each.
    assert elapsed < 20
