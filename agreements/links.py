"""Sources that stay citable: check each source's URL, and ask the Internet Archive to keep a copy.

`manage.py check_sources` runs these. Three layers:

- `fetch()`: one HTTP exchange, redirects followed (at most MAX_REDIRECTS), with the Python
  standard library only. It never reads a response body: the status line and headers say all
  it needs, so a server sending gigabytes costs nothing.
- `check()`: HEAD, then GET when HEAD is refused (many servers answer HEAD with 403, 404, 405
  or 501 but serve GET), classified as a LinkHealth (see `classify`). A failure of the network
  itself (no DNS answer, connection refused, timeout, TLS failure) raises `Unreachable`: that
  says nothing about the link, so `record()` is never called with it and nothing is stored.
- `record()` stores the observation beside the source (LinkCheck, not versioned content), and
  `store_archive_url()` stores a snapshot URL on the source itself, which *is* content: through
  agreements/publishing.edit, as the user running the command, like any other edit.

Classification (`classify`), after redirects:
- 2xx at the URL itself: ok; 2xx at another URL: moved (the final URL is recorded).
- 401, 403, 429: blocked. Paywalls, bot walls and rate limits answer so to a robot while the
  page still works for readers: not evidence that the link is dead.
- 404, 410 and any other 4xx: dead.
- 5xx, a redirect loop, more than MAX_REDIRECTS redirects, or any other answer: error. A server
  can be down for a day; LinkCheck.ERRORS_BEFORE_DEAD errors in a row make the link dead.
"""

import http.client
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import iri_to_uri

from agreements import publishing, revisions
from agreements.models import LinkCheck, LinkHealth, RevisionKind, Source

MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2048  # LinkCheck.final_url
USER_AGENT = (
    "TransferTrackerLinkChecker/1.0 (checks that the sources cited by the Transfer Tracker "
    "still answer; one request per source per day)"
)
HEAD_REFUSED_AT = 400  # HEAD answered with an error: ask again with GET
BLOCKED_STATUSES = {401, 403, 429}


class Unreachable(Exception):
    """No answer from the server at all: the network (ours or theirs) failed. Not a result."""


class NotCheckable(Exception):
    """The URL cannot be checked over HTTP: another scheme, or a malformed address."""


class RedirectProblem(Exception):
    """The server answered, but its redirects lead nowhere usable (a loop, too many, a bad
    Location). A real answer about the link: an error."""

    def __init__(self, message, url):
        super().__init__(message)
        self.url = url


@dataclass(frozen=True)
class Answer:
    status: int
    url: str  # after redirects
    headers: http.client.HTTPMessage


@dataclass(frozen=True)
class Observation:
    """What a check saw: becomes the source's LinkCheck (status before the error streak)."""

    status: str
    http_status: int | None
    final_url: str
    error: str = ""


def timeout():
    return settings.SOURCE_CHECK_TIMEOUT_SECONDS


def as_request_url(url):
    """The URL as it goes on the wire: non-ASCII and spaces percent-encoded, an international
    host name in its ASCII (IDNA) form. Raises NotCheckable for what HTTP cannot fetch."""
    if not isinstance(url, str) or not url.strip():
        raise NotCheckable("no URL")
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in url):
        raise NotCheckable("the URL contains a control character")
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a malformed port
    except ValueError as error:
        raise NotCheckable(f"malformed URL ({error})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise NotCheckable(f"not a web address ({parts.scheme or 'no'} scheme)")
    if not parts.hostname:
        raise NotCheckable("the URL names no host")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise NotCheckable("the host name is not a valid domain name") from None
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return iri_to_uri(urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, "")))


def fetch(url, method="HEAD", *, seconds=None):
    """One request, its redirects followed; the body is never read. Raises Unreachable,
    NotCheckable or RedirectProblem."""
    seconds = timeout() if seconds is None else seconds
    seen = []
    current = as_request_url(url)
    if len(current) > MAX_URL_LENGTH:
        raise NotCheckable("the address is too long to check")
    while True:
        seen.append(current)
        try:
            status, headers = _exchange(current, method, seconds)
        except NotCheckable as error:
            if len(seen) == 1:
                raise
            raise RedirectProblem(
                f"redirected to an address that cannot be followed ({error})", seen[-2]
            ) from None
        location = headers.get("Location")
        if status not in (301, 302, 303, 307, 308) or location is None:
            return Answer(status, current, headers)
        try:
            target = as_request_url(urljoin(current, location.strip()))
        except NotCheckable as error:
            raise RedirectProblem(
                f"redirected to an address that cannot be followed ({error})", current
            ) from None
        if len(target) > MAX_URL_LENGTH:
            raise RedirectProblem("redirected to an overlong address", current)
        if target in seen:
            raise RedirectProblem("a redirect loop", current)
        if len(seen) > MAX_REDIRECTS:
            raise RedirectProblem(f"more than {MAX_REDIRECTS} redirects", current)
        current = target


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked (resolve_public), not to whatever the host name
    resolves to a moment later (DNS rebinding)."""

    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def resolve_public(host, port):
    """The address to connect to for host. An editor can type any URL into a source, so the
    checker must not become a way to probe the tracker's own network: a host that resolves to
    a loopback, private, link-local or otherwise non-public address is refused (NotCheckable),
    unless SOURCE_CHECK_PRIVATE_ADDRESSES allows it (the tests' local server)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Unreachable(_describe(error)) from None
    except UnicodeError:
        raise NotCheckable("the host name is not a valid domain name") from None
    addresses = [info[4][0] for info in found]
    if not settings.SOURCE_CHECK_PRIVATE_ADDRESSES:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise NotCheckable(f"the host is on a private or reserved network ({ip})")
    return addresses[0]


def _exchange(url, method, seconds):
    parts = urlsplit(url)
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = resolve_public(parts.hostname, port)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    options = {"context": ssl.create_default_context()} if https else {}
    connection = connection_class(parts.hostname, port, address, timeout=seconds, **options)
    try:
        connection.request(
            method,
            path,
            headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"},
        )
        response = connection.getresponse()
        return response.status, response.headers  # the body stays unread
    except http.client.InvalidURL as error:
        raise NotCheckable(f"malformed URL ({error})") from None
    except (OSError, http.client.HTTPException) as error:
        # socket.gaierror (DNS), ConnectionRefusedError, TimeoutError, ssl.SSLError, a
        # connection dropped without an answer: the same to us, no answer about the link.
        raise Unreachable(_describe(error)) from None
    finally:
        connection.close()


def _describe(error):
    if isinstance(error, socket.gaierror):
        return "the host name did not resolve"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or error})"
    return str(error) or type(error).__name__


def check(url):
    """The health of url now, as an Observation. Raises Unreachable or NotCheckable."""
    request_url = as_request_url(url)
    try:
        answer = fetch(url, "HEAD")
        if answer.status >= HEAD_REFUSED_AT:
            answer = fetch(url, "GET")
    except RedirectProblem as problem:
        return Observation(LinkHealth.ERROR, None, problem.url, str(problem))
    return classify(request_url, answer)


def classify(request_url, answer):
    status, final = answer.status, answer.url
    reason = f"HTTP {status} {http.client.responses.get(status, '')}".strip()
    if 200 <= status < 300:
        if final == request_url:
            return Observation(LinkHealth.OK, status, final)
        return Observation(LinkHealth.MOVED, status, final)
    if status in BLOCKED_STATUSES:
        return Observation(LinkHealth.BLOCKED, status, final, reason)
    if 400 <= status < 500:
        return Observation(LinkHealth.DEAD, status, final, reason)
    return Observation(LinkHealth.ERROR, status, final, reason)


# --- storing what was seen ---------------------------------------------------------------------


def record(source, observation, *, now=None):
    """Store observation as source's LinkCheck; returns the status stored.

    A check that saw the same as the last one only moves checked_at, with an UPDATE that sends
    no signal: the public pages (which show the health, not the date) stay cached."""
    now = now or timezone.now()
    with transaction.atomic():
        previous = LinkCheck.objects.select_for_update().filter(source=source).first()
        same_url = previous is not None and previous.url == source.url
        status, streak = observation.status, 0
        if status == LinkHealth.ERROR:
            streak = (previous.consecutive_errors if same_url else 0) + 1
            if streak >= LinkCheck.ERRORS_BEFORE_DEAD:
                status = LinkHealth.DEAD
        values = {
            "url": source.url,
            "status": status,
            "http_status": observation.http_status,
            # Working: at the URL as written (its encoding and fragment aside).
            "final_url": source.url if status == LinkHealth.OK else observation.final_url,
            "error": observation.error,
            "consecutive_errors": streak,
        }
        if previous is not None and all(
            getattr(previous, name) == value for name, value in values.items()
        ):
            LinkCheck.objects.filter(pk=previous.pk).update(checked_at=now)
        else:
            LinkCheck.objects.update_or_create(
                source=source, defaults={**values, "checked_at": now}
            )
        return status


# --- Save Page Now ---------------------------------------------------------------------------------


class ArchiveFailed(Exception):
    """The archive answered, but gave no snapshot."""


def archive_origin():
    parts = urlsplit(settings.ARCHIVE_SAVE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def request_snapshot(url):
    """Ask Save Page Now to archive url; returns the snapshot's URL. Raises Unreachable (no
    answer), ArchiveFailed (an answer without a snapshot) or NotCheckable."""
    save = settings.ARCHIVE_SAVE_URL + as_request_url(url)
    try:
        answer = fetch(save, "GET", seconds=settings.ARCHIVE_SAVE_TIMEOUT_SECONDS)
    except RedirectProblem as problem:
        raise ArchiveFailed(str(problem)) from None
    snapshot = _snapshot_url(answer)
    if snapshot is None:
        raise ArchiveFailed(f"HTTP {answer.status}, no snapshot address in the answer")
    if len(snapshot) > Source._meta.get_field("archive_url").max_length:
        raise ArchiveFailed("the snapshot address is longer than an archive URL may be")
    return snapshot


def _snapshot_url(answer):
    """The snapshot address: the redirect's end or the Content-Location header, and only if it
    is a snapshot (/web/<timestamp>/...) on the archive's own host."""
    pattern = re.compile(re.escape(archive_origin()) + r"/web/\d{8,14}[a-z_]*/\S+")
    if 200 <= answer.status < 300 and pattern.fullmatch(answer.url):
        return answer.url
    location = answer.headers.get("Content-Location")
    if 200 <= answer.status < 300 and location:
        candidate = urljoin(answer.url, location.strip())
        if pattern.fullmatch(candidate):
            return candidate
    return None


def may_store_archive_links(user):
    """Who may run the command with --user: whoever may edit a source (publishing.may)."""
    return publishing.may(user, "edit", Source())


ARCHIVE_NOTE = "Archive link from the Internet Archive (manage.py check_sources)"


def store_archive_url(source, snapshot, user):
    """Store snapshot as source's archive URL through the door, as user: live for a publisher
    (or on a source no reader sees), a proposed revision for an editor's change of a public
    source. Returns the ProposedRevision, or None when stored. Raises publishing.Refused."""
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source.pk)
        if source.archive_url:
            raise publishing.Refused("it has an archive link already")
        data = revisions.snapshot(source)
        data["fields"]["archive_url"] = snapshot
        return publishing.edit(
            source,
            user,
            loaded_version=source.version,
            proposed=lambda: data,
            write=lambda: revisions.write(source, data),
            kind=RevisionKind.EDIT,
            note=ARCHIVE_NOTE,
        )
