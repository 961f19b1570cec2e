"""Sources that stay citable (issue 11, part 4): `manage.py check_sources` checks every source's
URL and stores its link health; with --user it asks Save Page Now for a snapshot of sources
without an archive link and stores it through agreements/publishing.py. Its HTTP client talks to
a real HTTP server on 127.0.0.1 here, never a mock; a network failure changes nothing."""

import datetime
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from agreements import links
from agreements.models import LinkCheck, LinkHealth, ProposedRevision, Source
from tests.factories import AgreementFactory, SourceFactory

pytestmark = pytest.mark.django_db

SNAPSHOT_TIME = "20250316120000"
SLOW_SECONDS = 3
TIMEOUT_SECONDS = 0.5


class Handler(BaseHTTPRequestHandler):
    """Each path is one kind of server the checker meets in the wild."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):  # noqa: N802 (http.server's naming)
        self.answer("HEAD")

    def do_GET(self):  # noqa: N802
        self.answer("GET")

    def answer(self, method):
        self.server.seen.append((method, self.path, self.headers.get("User-Agent")))
        path = urlsplit(self.path).path
        if self.path.startswith("/save/"):
            return self.redirect(f"/web/{SNAPSHOT_TIME}/{self.path[len('/save/') :]}")
        if self.path.startswith("/save-header/"):
            snapshot = f"/web/{SNAPSHOT_TIME}/{self.path[len('/save-header/') :]}"
            return self.reply(200, {"Content-Location": snapshot})
        if self.path.startswith("/save-refused/"):
            return self.reply(429)
        if path.startswith(("/ok", "/web/", "/odd", "/long")):
            return self.reply(200)
        if path == "/moved":
            return self.redirect("/ok?from=moved")
        if path == "/loop-a":
            return self.redirect("/loop-b")
        if path == "/loop-b":
            return self.redirect("/loop-a")
        if path.startswith("/status-"):
            return self.reply(int(path.removeprefix("/status-")))
        if path == "/slow":
            time.sleep(SLOW_SECONDS)
            return self.reply(200)
        if path == "/no-head":
            return self.reply(405 if method == "HEAD" else 200)
        if path == "/huge":
            return self.huge(method)
        return self.reply(404)

    def reply(self, status, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def redirect(self, location):
        self.reply(302, {"Location": location})

    def huge(self, method):
        """HEAD is refused; GET sends a gigabyte, which the checker must not read."""
        if method == "HEAD":
            return self.reply(405)
        self.send_response(200)
        self.send_header("Content-Length", str(1024**3))
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(1024**3 // len(chunk)):
                self.wfile.write(chunk)
                self.server.huge_bytes_sent += len(chunk)
        except OSError:  # the checker hung up: what it should do
            pass


@pytest.fixture(scope="module")
def http_server():
    """One real HTTP server on a free port of 127.0.0.1 for the module."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(http_server):
    """The server, with a fresh log of the requests it saw."""
    http_server.seen = []
    http_server.huge_bytes_sent = 0
    return http_server


@pytest.fixture(autouse=True)
def local_settings(settings, server):
    settings.SOURCE_CHECK_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    settings.SOURCE_CHECK_PRIVATE_ADDRESSES = True  # the local server is on loopback
    settings.ARCHIVE_SAVE_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    settings.ARCHIVE_SAVE_URL = f"{server.base}/save/"


@pytest.fixture
def closed_port():
    """A port nothing listens on: connections are refused, as with no network."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*args):
    out = StringIO()
    call_command("check_sources", *args, "--delay", "0", stdout=out)
    return out.getvalue()


def source_at(server, path, **kwargs):
    return SourceFactory(url=f"{server.base}{path}", **kwargs)


def health(source):
    return LinkCheck.objects.get(source=source)


def public(source):
    """source, cited by a published agreement: readers see it."""
    AgreementFactory(published=True, sources=[source])
    return source


# --- link health, one kind of server each ---------------------------------------------------------


def test_a_working_link_is_ok_at_its_own_address(server):
    source = source_at(server, "/ok")
    run()
    check = health(source)
    assert (check.status, check.http_status, check.final_url) == ("ok", 200, source.url)


def test_a_check_records_when_it_was_made(server):
    source = source_at(server, "/ok")
    before = timezone.now()
    run()
    assert health(source).checked_at >= before


def test_a_redirect_to_a_working_page_is_moved_with_its_new_address(server):
    source = source_at(server, "/moved")
    run()
    check = health(source)
    assert (check.status, check.final_url) == ("moved", f"{server.base}/ok?from=moved")


@pytest.mark.parametrize("status", [404, 410, 400])
def test_not_found_gone_and_other_client_errors_are_dead(server, status):
    source = source_at(server, f"/status-{status}")
    run()
    assert (health(source).status, health(source).http_status) == ("dead", status)


@pytest.mark.parametrize("status", [401, 403, 429])
def test_paywalls_bot_walls_and_rate_limits_are_blocked_not_dead(server, status):
    source = source_at(server, f"/status-{status}")
    run()
    assert health(source).status == "blocked"


def test_a_server_error_is_an_error_not_dead(server):
    source = source_at(server, "/status-500")
    run()
    check = health(source)
    assert (check.status, check.consecutive_errors, check.error) == (
        "error",
        1,
        "HTTP 500 Internal Server Error",
    )


def test_server_errors_on_three_checks_in_a_row_make_the_link_dead(server):
    source = source_at(server, "/status-503")
    for _ in range(LinkCheck.ERRORS_BEFORE_DEAD):
        run()
    assert health(source).status == "dead"


def test_a_working_answer_ends_an_error_streak(server):
    source = source_at(server, "/status-500")
    run()
    Source.objects.filter(pk=source.pk).update(url=f"{server.base}/ok")
    LinkCheck.objects.filter(pk=source.pk).update(url=f"{server.base}/ok")
    run()
    assert (health(source).status, health(source).consecutive_errors) == ("ok", 0)


def test_a_refused_head_is_asked_again_with_get(server):
    source = source_at(server, "/no-head")
    run()
    assert health(source).status == "ok"
    assert [method for method, path, _ in server.seen if path == "/no-head"] == ["HEAD", "GET"]


def test_the_checker_names_the_tracker_in_its_user_agent(server):
    source_at(server, "/ok")
    run()
    assert all("TransferTracker" in agent for _, _, agent in server.seen)


def test_a_redirect_loop_is_an_error_after_a_bounded_number_of_requests(server):
    source = source_at(server, "/loop-a")
    run()
    check = health(source)
    assert (check.status, check.error) == ("error", "a redirect loop")
    assert len(server.seen) <= 2 * (links.MAX_REDIRECTS + 1)  # HEAD, then GET


def test_a_huge_body_is_not_read(server):
    source = source_at(server, "/huge")
    started = time.monotonic()
    run()
    assert health(source).status == "ok"
    assert time.monotonic() - started < 5
    time.sleep(0.2)  # let the server notice the hang-up
    assert server.huge_bytes_sent < 1024**3


def test_odd_characters_are_sent_percent_encoded(server):
    source = source_at(server, "/odd path/ünïcode?q=a b&x=<y>#part")
    run()
    assert health(source).status == "ok"
    assert ("HEAD", "/odd%20path/%C3%BCn%C3%AFcode?q=a%20b&x=%3Cy%3E", links.USER_AGENT) in (
        server.seen
    )


def test_a_very_long_address_is_checked(server):
    source = source_at(server, "/long/" + "a" * 450)
    run()
    assert health(source).status == "ok"


def test_a_non_web_address_is_skipped_with_a_message(server):
    source = SourceFactory(url="ftp://files.example.org/report.pdf")
    output = run()
    assert "skipped: ftp://files.example.org/report.pdf (not a web address" in output
    assert not LinkCheck.objects.filter(source=source).exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",  # the cache server, next door
        "http://10.0.0.8/admin/",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[::1]:5432/",
        "http://localhost:8000/",
    ],
)
def test_a_source_on_a_private_network_is_never_requested(settings, url):
    # An editor can type any URL into a source: the checker must not probe our own network.
    settings.SOURCE_CHECK_PRIVATE_ADDRESSES = False
    source = SourceFactory(url=url)
    output = run()
    assert "private or reserved network" in output
    assert not LinkCheck.objects.filter(source=source).exists()


def test_a_redirect_into_a_private_network_is_not_followed(server, settings, monkeypatch):
    from agreements import links

    settings.SOURCE_CHECK_PRIVATE_ADDRESSES = False
    # The first server counts as public here; where it redirects to is refused.
    real = links.resolve_public
    first = {"done": False}

    def resolve(host, port):
        if not first["done"]:
            first["done"] = True
            settings.SOURCE_CHECK_PRIVATE_ADDRESSES = True
            try:
                return real(host, port)
            finally:
                settings.SOURCE_CHECK_PRIVATE_ADDRESSES = False
        return real(host, port)

    monkeypatch.setattr(links, "resolve_public", resolve)
    source = source_at(server, "/moved")
    run()
    check = health(source)
    assert check.status == "error"
    assert "private or reserved network" in check.error


# --- unreachable: no answer is no result ----------------------------------------------------------


def test_a_slow_server_is_unreachable_and_nothing_is_stored(server):
    source = source_at(server, "/slow")
    output = run()
    assert f"unreachable: {source.url} (no answer in time)" in output
    assert not LinkCheck.objects.filter(source=source).exists()


def test_a_refused_connection_leaves_the_last_real_result_as_it_was(closed_port):
    source = SourceFactory(url=f"http://127.0.0.1:{closed_port}/story")
    last_week = timezone.now() - datetime.timedelta(days=7)
    LinkCheck.objects.create(
        source=source,
        url=source.url,
        status=LinkHealth.OK,
        http_status=200,
        final_url=source.url,
        checked_at=last_week,
    )
    run()
    check = health(source)
    assert (check.status, check.checked_at) == ("ok", last_week)


def test_an_unresolvable_host_is_unreachable_not_dead():
    source = SourceFactory(url="http://no-such-host.invalid/story")
    output = run()
    assert "unreachable: http://no-such-host.invalid/story" in output
    assert not LinkCheck.objects.filter(source=source).exists()


def test_without_network_the_run_says_so_and_changes_nothing(closed_port, publisher):
    source = SourceFactory(url=f"http://127.0.0.1:{closed_port}/a")
    version = source.version
    output = run("--user", publisher.username)
    assert "No source could be reached: is the network down?" in output
    source.refresh_from_db()
    assert (source.version, source.archive_url, LinkCheck.objects.count()) == (version, "", 0)


# --- archive links, through the door ------------------------------------------------------------


def snapshot_of(server, source):
    return f"{server.base}/web/{SNAPSHOT_TIME}/{source.url}"


def test_a_publishers_run_stores_the_snapshot_as_the_archive_link(server, publisher):
    source = public(source_at(server, "/ok?n=1"))
    run("--user", publisher.username)
    source.refresh_from_db()
    assert source.archive_url == snapshot_of(server, source)


def test_the_stored_archive_link_is_in_the_sources_history_under_the_users_name(server, publisher):
    source = public(source_at(server, "/ok?n=1"))
    run("--user", publisher.username)
    latest = source.history.latest()
    assert (latest.archive_url, latest.history_user, latest.history_change_reason) == (
        snapshot_of(server, source),
        publisher,
        links.ARCHIVE_NOTE,
    )


def test_an_editors_run_on_a_published_source_proposes_the_archive_link(server, editor):
    source = public(source_at(server, "/ok?n=1"))
    output = run("--user", editor.username)
    source.refresh_from_db()
    proposal = ProposedRevision.objects.get(source=source)
    assert source.archive_url == ""
    assert proposal.data["fields"]["archive_url"] == snapshot_of(server, source)
    assert "1 proposed for review" in output


def test_a_source_awaiting_review_is_not_sent_to_the_archive_again(server, editor):
    public(source_at(server, "/ok?n=1"))
    run("--user", editor.username)
    server.seen.clear()
    run("--user", editor.username)
    assert not [path for _, path, _ in server.seen if path.startswith("/save/")]


def test_the_snapshot_address_may_come_in_the_content_location_header(server, settings):
    settings.ARCHIVE_SAVE_URL = f"{server.base}/save-header/"
    source = source_at(server, "/ok")
    assert links.request_snapshot(source.url) == f"{server.base}/web/{SNAPSHOT_TIME}/{source.url}"


def test_without_a_user_nothing_is_archived_and_the_output_says_why(server):
    source = source_at(server, "/ok")
    output = run()
    source.refresh_from_db()
    assert source.archive_url == ""
    assert not [path for _, path, _ in server.seen if path.startswith("/save/")]
    assert "Archive links were not stored: no --user given" in output


def test_dead_links_are_not_sent_to_the_archive(server, publisher):
    source_at(server, "/status-404")
    run("--user", publisher.username)
    assert not [path for _, path, _ in server.seen if path.startswith("/save/")]


def test_a_source_with_an_archive_link_is_not_archived_again(server, publisher):
    source_at(server, "/ok", archive_url="https://web.archive.org/web/2024/x")
    run("--user", publisher.username)
    assert not [path for _, path, _ in server.seen if path.startswith("/save/")]


def test_an_archive_refusal_stores_nothing(server, settings, publisher):
    settings.ARCHIVE_SAVE_URL = f"{server.base}/save-refused/"
    source = source_at(server, "/ok")
    output = run("--user", publisher.username)
    source.refresh_from_db()
    assert source.archive_url == ""
    assert "archive failed for" in output


def test_an_unreachable_archive_stores_nothing(server, settings, publisher, closed_port):
    settings.ARCHIVE_SAVE_URL = f"http://127.0.0.1:{closed_port}/save/"
    source = source_at(server, "/ok")
    output = run("--user", publisher.username)
    source.refresh_from_db()
    assert (source.archive_url, "archive unreachable for" in output) == ("", True)


def test_a_user_who_may_not_change_sources_is_refused(server):
    User.objects.create_user("visitor", is_staff=False)
    with pytest.raises(CommandError, match="may not store archive links"):
        run("--user", "visitor")


def test_an_unknown_user_is_refused(server):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run("--user", "nobody")


def test_the_output_summarises_the_counts(server, closed_port, publisher):
    source_at(server, "/ok")
    source_at(server, "/moved")
    source_at(server, "/status-404")
    SourceFactory(url=f"http://127.0.0.1:{closed_port}/x")
    output = run("--user", publisher.username)
    assert "Checked 4 source(s): 1 ok, 1 moved, 1 dead, 1 unreachable." in output
    assert "Archive links as pat: 2 stored, 0 proposed for review, 0 failed" in output


# --- the rules of a check -------------------------------------------------------------------------


def test_a_moved_link_needs_a_final_address_of_its_own():
    source = SourceFactory()
    with pytest.raises(IntegrityError):
        LinkCheck.objects.create(
            source=source,
            url=source.url,
            status=LinkHealth.MOVED,
            http_status=200,
            final_url=source.url,
            checked_at=timezone.now(),
        )


def test_a_check_of_an_earlier_address_no_longer_applies():
    source = SourceFactory()
    LinkCheck.objects.create(
        source=source,
        url="https://old.example.org/story",
        status=LinkHealth.DEAD,
        http_status=404,
        final_url="https://old.example.org/story",
        checked_at=timezone.now(),
    )
    assert source.current_link_check is None


# --- what readers and editors see ----------------------------------------------------------------


def checked(source, status, final_url=None, http_status=200):
    return LinkCheck.objects.create(
        source=source,
        url=source.url,
        status=status,
        http_status=http_status,
        final_url=final_url or source.url,
        checked_at=timezone.now(),
    )


def test_the_sources_page_marks_a_dead_link_in_words_and_offers_the_archived_copy(client):
    source = public(SourceFactory(archive_url="https://web.archive.org/web/2024/story"))
    checked(source, LinkHealth.DEAD, http_status=404)
    html = client.get(reverse("source-list")).content.decode()
    assert "Dead link" in html
    assert 'href="https://web.archive.org/web/2024/story"' in html


def test_the_sources_page_shows_where_a_moved_link_is_now(client):
    source = public(SourceFactory())
    checked(source, LinkHealth.MOVED, final_url="https://news.example.org/new-home")
    html = client.get(reverse("source-list")).content.decode()
    assert 'now at <a href="https://news.example.org/new-home"' in html


def test_the_sources_page_shows_link_health_without_a_query_per_row(
    client, django_assert_max_num_queries
):
    for _ in range(5):
        checked(public(SourceFactory()), LinkHealth.OK)
    with django_assert_max_num_queries(3):  # version, count, page (checks joined in)
        client.get(reverse("source-list"))


def test_the_agreement_page_marks_a_dead_source(client):
    source = SourceFactory()
    agreement = AgreementFactory(published=True, sources=[source])
    checked(source, LinkHealth.DEAD, http_status=410)
    assert "Dead link" in client.get(agreement.get_absolute_url()).content.decode()


def test_editors_can_list_the_dead_links_in_the_admin(editor_client):
    dead, working = SourceFactory(title="Dead one"), SourceFactory(title="Working one")
    checked(dead, LinkHealth.DEAD, http_status=404)
    checked(working, LinkHealth.OK)
    html = editor_client.get(reverse("admin:agreements_source_changelist") + "?link=dead")
    assert ("Dead one" in html.content.decode(), "Working one" in html.content.decode()) == (
        True,
        False,
    )


def test_editors_can_list_the_links_never_checked_in_the_admin(editor_client):
    checked(SourceFactory(title="Checked one"), LinkHealth.OK)
    SourceFactory(title="Unchecked one")
    html = editor_client.get(
        reverse("admin:agreements_source_changelist") + "?link=never"
    ).content.decode()
    assert ("Unchecked one" in html, "Checked one" in html) == (True, False)


def test_the_admin_shows_a_sources_last_check(editor_client):
    source = SourceFactory()
    checked(source, LinkHealth.DEAD, http_status=404)
    html = editor_client.get(
        reverse("admin:agreements_source_change", args=[source.pk])
    ).content.decode()
    assert "Dead (HTTP 404)" in html
