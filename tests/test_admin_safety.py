"""Repeated failed logins are throttled, the admin path is configurable, staff sessions expire."""

import datetime
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from tracker.clients import client_address

pytestmark = pytest.mark.django_db


def attempt(client, password):
    return client.post(
        reverse("admin:login"),
        {"username": "edna", "password": password, "next": "/admin/"},
        REMOTE_ADDR="203.0.113.9",
    )


def test_repeated_failed_logins_lock_the_account_out(client, editor):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong").status_code == 200  # the login form again
    response = attempt(client, "wrong")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    # Locked out even with the right password, until the cool-off ends.
    assert attempt(client, "a-long-editor-password").status_code == 429


def test_a_good_login_works_and_resets_the_counter(client, editor):
    attempt(client, "wrong")
    response = attempt(client, "a-long-editor-password")
    assert response.status_code == 302


def test_staff_sessions_end_with_the_browser_and_after_hours_idle(client, editor):
    response = attempt(client, "a-long-editor-password")
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]  # gone when the browser closes
    session = Session.objects.get(session_key=cookie.value)
    idle_limit = session.expire_date - timezone.now()
    assert datetime.timedelta(hours=1) < idle_limit <= datetime.timedelta(hours=12)


def test_the_admin_path_is_a_setting():
    code = "import django; django.setup(); from django.urls import reverse; print(reverse('admin:index'))"
    env = {"ADMIN_PATH": "editors-desk", "DJANGO_SETTINGS_MODULE": "tracker.settings",
           "DATABASE_URL": "postgres://u:p@db.example.invalid/x", "PATH": "/usr/bin:/bin"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "/editors-desk/", result.stderr


def attempt_through_proxy(client, password, client_address, forwarded=None):
    """A login through our nginx (10.0.0.5), which sets X-Forwarded-For to the peer it saw."""
    return client.post(
        reverse("admin:login"),
        {"username": "edna", "password": password, "next": "/admin/"},
        REMOTE_ADDR="10.0.0.5",
        headers={"X-Forwarded-For": forwarded or client_address},
    )


def test_behind_the_proxy_a_stranger_cannot_lock_an_editor_out(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        attempt_through_proxy(client, "guess", "198.51.100.66")
    assert attempt_through_proxy(client, "guess", "198.51.100.66").status_code == 429
    # The editor, at her own address, behind the same proxy, still gets in.
    response = attempt_through_proxy(client, "a-long-editor-password", "203.0.113.9")
    assert response.status_code == 302


def test_behind_the_proxy_the_stranger_is_locked_out_by_their_own_address(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # A forged left-hand entry (the editor's address) does not change who is counted.
        attempt_through_proxy(client, "guess", None, forwarded="203.0.113.9, 198.51.100.66")
    assert attempt_through_proxy(client, "guess", "198.51.100.66").status_code == 429
    assert attempt_through_proxy(client, "a-long-editor-password", "203.0.113.9").status_code == 302


def test_lock_outs_count_the_client_address_the_rate_limits_count(client, editor, settings, rf):
    settings.TRUSTED_PROXY_COUNT = 1
    forwarded = "203.0.113.9, 198.51.100.66"  # a forged entry, then the one our proxy appended
    attempt_through_proxy(client, "guess", None, forwarded=forwarded)
    counted = AccessAttempt.objects.get().ip_address
    request = rf.get("/search/", REMOTE_ADDR="10.0.0.5", headers={"X-Forwarded-For": forwarded})
    assert counted == client_address(request) == "198.51.100.66"
