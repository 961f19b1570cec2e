"""The optional read replica: public read-only pages read from it, everything else from the primary.

The test run has one real database, so the `replica` alias is added here as Django's test mirror
of `default` (what settings do with DATABASE_REPLICA_URL, `"TEST": {"MIRROR": "default"}`): a
second connection, its own Postgres session, to the same test database. Queries are told apart
by the alias whose connection ran them. The tests are transactional because the router sends
reads inside a transaction (which every non-transactional test is) to the primary.
"""

import copy

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connections, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.countries import sync_countries
from agreements.models import Agreement, Country, Source
from tests.factories import AgreementFactory, SourceFactory
from tests.test_settings import PRODUCTION, load_settings
from tracker.db_router import PrimaryReplicaRouter, ReplicaReadMiddleware, replica_reads_allowed

ROUTER = "tracker.db_router.PrimaryReplicaRouter"
both_databases = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(scope="module")
def replica_alias(django_db_setup, django_db_blocker):
    """Add `replica` as a test mirror of `default` for this module only.

    Module-scoped so it exists before pytest-django's per-test setup checks the aliases the
    django_db marker names. Run with DATABASE_REPLICA_URL set, settings already made it a mirror.
    """
    databases = connections.settings  # the very dict settings.DATABASES holds
    if "replica" in databases:
        assert databases["replica"]["TEST"]["MIRROR"] == "default"
        yield
        return
    mirror = copy.deepcopy(databases["default"])  # its NAME is already the test database's
    mirror["TEST"]["MIRROR"] = "default"
    databases["replica"] = mirror
    yield
    with django_db_blocker.unblock():
        connections["replica"].close()
    del connections["replica"]
    del databases["replica"]


@pytest.fixture
def routed(replica_alias, transactional_db, settings):
    # A previous transactional test's flush removed the countries the migration loaded.
    sync_countries(Country)
    settings.DATABASE_ROUTERS = [ROUTER]
    caches["default"].clear()  # a cached page would run no query at all


@both_databases
def test_the_replica_is_a_separate_connection_and_session(routed):
    primary, replica = connections["default"], connections["replica"]
    assert primary is not replica
    assert (primary.alias, replica.alias) == ("default", "replica")
    with primary.cursor() as a, replica.cursor() as b:
        a.execute("SELECT pg_backend_pid(), current_database()")
        b.execute("SELECT pg_backend_pid(), current_database()")
        (pid_a, db_a), (pid_b, db_b) = a.fetchone(), b.fetchone()
    assert pid_a != pid_b  # two Postgres sessions ...
    assert db_a == db_b  # ... on the one test database


def content_queries(captured):
    # The page cache's version lookup (tracker/caching.py) is left out: it is not routed.
    return [q["sql"] for q in captured if "agreements_contentversion" not in q["sql"]]


@both_databases
@pytest.mark.parametrize("url", ["/agreements/", "/countries/", "/"])
def test_public_pages_read_from_the_replica(routed, client, url):
    AgreementFactory(published=True, title="Read from the copy", sources=[SourceFactory()])
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    assert response.status_code == 200
    assert len(replica) > 0
    assert content_queries(primary) == []
    if url == "/agreements/":
        # The replica connection saw the committed row: it really is the same data.
        assert "Read from the copy" in response.content.decode()


@both_databases
def test_the_admin_writes_and_reads_on_the_primary(routed, superuser_client):
    source = SourceFactory(title="Before")
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = superuser_client.post(
            reverse("admin:agreements_source_change", args=[source.pk]),
            {
                "url": source.url,
                "title": "After",
                "publisher": "Example News",
                "published_on": "2025-06-01",
                "published_precision": "day",
                "kind": "news",
                "loaded_version": source.version,
            },
        )
        # The admin's own pages are GETs too, and still read from the primary.
        assert (
            superuser_client.get(reverse("admin:agreements_source_changelist")).status_code == 200
        )
    assert response.status_code == 302, response.content
    assert replica.captured_queries == []
    sql = [q["sql"] for q in primary.captured_queries]
    assert any(s.startswith('UPDATE "agreements_source"') for s in sql)
    assert any(s.startswith("SELECT") and '"agreements_source"' in s for s in sql)
    assert Source.objects.get(pk=source.pk).title == "After"


@both_databases
def test_the_page_cache_reads_its_version_where_the_page_is_read(routed, client):
    # A version read on the primary can be newer than the page rendered from a lagging replica,
    # which would then be cached (and validated by its ETag) as current.
    with CaptureQueriesContext(connections["default"]) as primary:
        assert client.get("/agreements/").status_code == 200
    assert primary.captured_queries == []


@both_databases
def test_signed_in_editors_read_the_primary_on_public_pages(routed, superuser_client):
    with CaptureQueriesContext(connections["replica"]) as replica:
        assert superuser_client.get("/agreements/").status_code == 200
    assert len(replica) == 0


@pytest.mark.parametrize(
    ("method", "path", "cookies", "replica"),
    [
        ("get", "/agreements/", {}, True),
        ("head", "/countries/sv/", {}, True),
        ("post", "/agreements/", {}, False),
        ("get", "/" + settings.ADMIN_PATH, {}, False),
        ("get", "/" + settings.ADMIN_PATH + "agreements/source/", {}, False),
        ("get", "/agreements/", {settings.SESSION_COOKIE_NAME: "x"}, False),
    ],
)
def test_only_anonymous_public_gets_are_marked_replica_safe(
    replica_alias, method, path, cookies, replica
):
    seen = []
    middleware = ReplicaReadMiddleware(lambda request: seen.append(replica_reads_allowed.get()))
    request = getattr(RequestFactory(), method)(path)
    request.COOKIES.update(cookies)
    middleware(request)
    assert seen == [replica]
    assert replica_reads_allowed.get() is False  # reset after the response


def test_the_router_sends_only_content_reads_in_a_public_request_to_the_replica():
    from django.contrib.auth.models import User
    from django.contrib.sessions.models import Session

    router = PrimaryReplicaRouter()
    assert router.db_for_read(Agreement) == "default"  # no public request being served
    token = replica_reads_allowed.set(True)
    try:
        assert router.db_for_read(Agreement) == "replica"
        assert router.db_for_read(User) == "default"
        assert router.db_for_read(Session) == "default"
    finally:
        replica_reads_allowed.reset(token)


@both_databases
def test_reads_inside_a_transaction_go_to_the_primary(routed):
    router = PrimaryReplicaRouter()
    token = replica_reads_allowed.set(True)
    try:
        assert router.db_for_read(Agreement) == "replica"
        with transaction.atomic():
            assert router.db_for_read(Agreement) == "default"
    finally:
        replica_reads_allowed.reset(token)


def test_writes_and_migrations_only_on_the_primary():
    router = PrimaryReplicaRouter()
    assert router.db_for_write(Agreement) == "default"
    assert router.allow_migrate("default", "agreements") is True
    assert router.allow_migrate("replica", "agreements") is False
    a, b = Agreement(), Agreement()
    a._state.db, b._state.db = "default", "replica"
    assert router.allow_relation(a, b) is True


REPLICA_URL = "postgres://reader:pw@replica.example.invalid:5432/tracker"
PRINT_DATABASES = "import tracker.settings as s; print(sorted(s.DATABASES), s.DATABASE_ROUTERS)"


def run_settings(code=PRINT_DATABASES, **env):
    return load_settings(code, **env)


def test_without_a_replica_url_there_is_no_replica_and_no_router():
    result = run_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['default'] []"


def test_a_replica_url_adds_the_replica_alias_and_the_router():
    result = run_settings(**(PRODUCTION | {"DATABASE_REPLICA_URL": REPLICA_URL}))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"['default', 'replica'] ['{ROUTER}']"


def test_a_non_postgres_replica_is_refused():
    result = run_settings(**(PRODUCTION | {"DATABASE_REPLICA_URL": "sqlite:///replica.sqlite3"}))
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL must point at a PostgreSQL server" in result.stderr


MIDDLEWARE_USED = """
import django
from django.core.exceptions import MiddlewareNotUsed
django.setup()
from tracker.db_router import ReplicaReadMiddleware
try:
    ReplicaReadMiddleware(None)
    print("used")
except MiddlewareNotUsed:
    print("not used")
"""


@pytest.mark.parametrize(("replica_url", "expected"), [(None, "not used"), (REPLICA_URL, "used")])
def test_the_middleware_drops_out_without_a_replica(replica_url, expected):
    env = PRODUCTION | {"DJANGO_SETTINGS_MODULE": "tracker.settings"}
    if replica_url:
        env["DATABASE_REPLICA_URL"] = replica_url
    result = run_settings(MIDDLEWARE_USED, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
