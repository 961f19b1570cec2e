"""Whole-response cache for anonymous public pages and downloads, which is never stale.

Every cached response is keyed by the *content version*, a one-row table
(`agreements.ContentVersion`) that every save, delete or re-link of public data updates in the
same transaction (see `agreements.apps`). Each request reads the version once, when it starts;
a change becomes visible to every process, whatever the cache backend, the moment it commits,
and from then on no request can find a page cached under the old version. A page rendered
from data read before a commit is stored under the version read before it too.

The version is also the validator: responses carry an ETag and Last-Modified derived from it, and
a conditional request that still matches gets a 304 before any view runs: one small query.

The pages themselves live in Redis when REDIS_URL is set (shared by every app server) and in
each process's memory otherwise. If the cache server is down, pages are served uncached.
"""

import contextvars
import functools
import hashlib
import logging
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections, router
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseNotModified
from django.utils import translation
from django.utils.functional import Promise
from django.utils.http import http_date, parse_http_date_safe

logger = logging.getLogger(__name__)

PAGE_KEY_PREFIX = "public-page"
# Headers a cached response is replayed with; the outer middleware (security, CSP, request id)
# add theirs again on every reply.
_REPLAYED_HEADERS = ("Content-Type", "Content-Disposition", "Content-Language")
_NEVER_CACHED_PATHS = ("/healthz", "/readyz")
# 410 is a withdrawn record's page (agreements.tombstones): one per record that ever existed,
# unlike 404s, which any made-up address produces.
_CACHED_STATUSES = (200, 410)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# An upsert, so it also works after the table was emptied (a restore, a test flush).
_BUMP_SQL = """
    INSERT INTO agreements_contentversion (id, number, changed_at)
    VALUES (1, 1, clock_timestamp())
    ON CONFLICT (id) DO UPDATE
    SET number = agreements_contentversion.number + 1, changed_at = clock_timestamp()
"""


def _cache_call(method, *args, default=None):
    """Run a cache operation; a cache outage degrades to "not cached", never to an error."""
    try:
        return getattr(cache, method)(*args)
    except Exception as error:  # redis.ConnectionError, TimeoutError, ...
        logger.warning("cache unavailable", extra={"operation": method, "error": repr(error)})
        return default


def content_version() -> tuple[str, datetime]:
    """The current content version and when it last changed."""
    from agreements.models import ContentVersion

    # From the database the page itself will read (a replica, if configured): a version read
    # from the primary while the page's data came from a lagging replica could store old data
    # under a new version.
    alias = router.db_for_read(ContentVersion) or "default"
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT number, changed_at FROM agreements_contentversion WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return "0", _EPOCH
    number, changed_at = row
    return f"{number}.{changed_at.timestamp():.6f}", changed_at


# The version read when the current request started, so one request sees one version.
_request_version = contextvars.ContextVar("content_version", default=None)


def cached_per_version(function):
    """Decorator: function(*args), computed once per change of the data and per language. The
    derived numbers behind the public pages (totals, counts, map colours, option lists) cost
    more than the rest of a page; they are never served after a change (the content version is
    part of the key).

    The key is the function's module and name and its arguments, so nobody chooses one by
    hand: give the function every input it reads as an argument (a code or a primary key, not
    an object already fetched). Arguments must be plain values (text, numbers, dates, None,
    tuples of them), classes, querysets, which are keyed by their SQL, or objects with a
    cache_key() method that returns such values (a FilterSet: its class, base queryset and
    parameters). Anything else is refused, so an object whose text does not say all it holds
    cannot pick the key."""
    name = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def cached(*args):
        try:
            parts = [_key_part(argument) for argument in args]
        except EmptyResultSet:  # a queryset that can match nothing: nothing to save
            return function(*args)
        return _memoized(name, parts, lambda: function(*args))

    return cached


def cached_fragment(place: str, keys, render):
    """render(), an HTML fragment, cached like cached_per_version: the key is the fragment's
    place in its template (template, line and a digest of its text) and the values of its keys (the template tag
    {% memoized %}, in agreements.templatetags.tracker)."""
    return _memoized(place, [_key_part(str(key)) for key in keys], render)


_PLAIN_KEYS = (str, int, float, Decimal, date, type(None))


def _key_part(value) -> str:
    """value as part of a cache key: a text that differs whenever value does."""
    if isinstance(value, _PLAIN_KEYS):
        return repr(value)  # with the type: 1, "1" and date(2025, 1, 1) differ
    if isinstance(value, tuple | list):
        return "(" + ",".join(_key_part(item) for item in value) + ")"
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if callable(getattr(value, "cache_key", None)):  # an object that says what it depends on
        return _key_part(value.cache_key())
    if isinstance(value, QuerySet):
        # The SQL says which rows; the iterable class, what each row is (values_list, ...).
        return f"{value.model._meta.label}:{value._iterable_class.__name__}:{value.query}"
    raise TypeError(
        f"{type(value).__name__} cannot be part of a cache key: pass the plain values it "
        "stands for (a code, a primary key)"
    )


def _memoized(name, parts, compute):
    """compute(), cached under the current content version and language, name and parts."""
    if not settings.DATA_CACHE:
        return compute()
    version = _request_version.get()
    if version is None:
        version = content_version()[0]
    # The language is part of every key: the values hold labels, names and links in it.
    language = translation.get_language() or settings.LANGUAGE_CODE
    key_parts = [version, language, name, *parts]
    key = "data:" + hashlib.sha256("|".join(key_parts).encode()).hexdigest()
    value = _cache_call("get", key)
    if value is None:
        value = _plain(compute())
        _cache_call("set", key, value, settings.DATA_CACHE_SECONDS)
    return value


def _plain(value):
    """value with its lazy translations (choice labels) made text: the key holds the language
    already, and a lazy string costs a new class each time it is unpickled from the cache."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return (
            type(value)(_plain(item) for item in value) if type(value) in (list, tuple) else value
        )
    return value


def bump_content_version(using="default") -> None:
    """Make every cached public response stale, when the current transaction commits."""
    with connections[using].cursor() as cursor:
        cursor.execute(_BUMP_SQL)


def _last_modified(changed_at: datetime) -> int:
    """Seconds since the epoch of the last change, or of today's start, whichever is later:
    pages that count days (timelines run to today) change at midnight too."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(max(changed_at, today).timestamp())


def _has_session(request) -> bool:
    """Whether the request carries a real session (an editor's): a made-up session cookie must
    not get past the cache. One indexed lookup, only for requests that send the cookie."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore
    try:
        return store().exists(key[:64])
    except DatabaseError:
        return True  # cannot tell: treat it as an editor's, never cached


class PublicPageCacheMiddleware:
    """Serve anonymous GET requests from the cache; store 200 responses, and the 410 Gone
    pages of withdrawn records, that set no cookie.

    Requests with a session cookie (editors, who may see previews and admin links) are never
    served from or stored in the cache.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "GET" or not self._public_path(request):
            return self.get_response(request)
        try:
            version, changed_at = content_version()
        except DatabaseError:
            # The database is down: let the view fail and report it (tracker/resilience.py).
            return self.get_response(request)
        token = _request_version.set(version)
        try:
            if not self._cacheable_request(request):
                return self.get_response(request)
            return self._cached(request, version, changed_at)
        finally:
            _request_version.reset(token)

    def _cached(self, request, version, changed_at):
        last_modified = _last_modified(changed_at)
        digest = hashlib.sha256(
            f"{version}|{last_modified}|{request.build_absolute_uri()}".encode()
        ).hexdigest()[:32]
        etag = f'"{digest}"'
        key = f"{PAGE_KEY_PREFIX}:{digest}"

        cached = _cache_call("get", key)
        # A 304 only for a page known to exist at this version: a cached one, or one the view
        # has just rendered (a made-up address must not be "not modified").
        if cached is not None and self._not_modified(request, etag, last_modified):
            return self._with_validators(HttpResponseNotModified(), etag, last_modified)
        if cached is not None:
            status, headers, body = cached
            response = HttpResponse(body, status=status)
            for name, value in headers.items():
                response[name] = value
            response["X-Cache"] = "hit"
            return self._with_validators(response, etag, last_modified)

        response = self.get_response(request)
        if not self._cacheable_response(response):
            return response
        headers = {name: response[name] for name in _REPLAYED_HEADERS if response.has_header(name)}
        if response.streaming:
            response.streaming_content = self._store_when_complete(
                response.streaming_content, key, response.status_code, headers
            )
        else:
            _cache_call(
                "set",
                key,
                (response.status_code, headers, response.content),
                settings.PAGE_CACHE_SECONDS,
            )
            if self._not_modified(request, etag, last_modified):
                return self._with_validators(HttpResponseNotModified(), etag, last_modified)
        response["X-Cache"] = "miss"
        return self._with_validators(response, etag, last_modified)

    @staticmethod
    def _public_path(request) -> bool:
        return not request.path.startswith(("/" + settings.ADMIN_PATH, *_NEVER_CACHED_PATHS))

    @staticmethod
    def _cacheable_request(request) -> bool:
        # Only pages that declare the parameters they read (tracker/query.py): the key is then
        # made of those alone, so made-up parameters cannot multiply the entries.
        return (
            settings.PAGE_CACHE_SECONDS > 0
            and getattr(request, "query_declared", False)
            and not _has_session(request)
        )

    @staticmethod
    def _cacheable_response(response) -> bool:
        cache_control = response.get("Cache-Control", "")
        return (
            response.status_code in _CACHED_STATUSES
            # A file already on disk (a data release's zip): a copy in the cache would only
            # take memory, and the view sets its own, permanent validators.
            and not isinstance(response, FileResponse)
            and not response.cookies
            and "private" not in cache_control
            and "no-store" not in cache_control
            and "no-cache" not in cache_control
        )

    @staticmethod
    def _not_modified(request, etag: str, last_modified: int) -> bool:
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:
            # Weak comparison, as RFC 9110 asks for If-None-Match. "*" is not honoured: before
            # the view runs it is not known whether the page exists at all.
            offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return etag in offered
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        # A date in the future is ignored (RFC 9110, 13.1.3): it proves nothing about the copy.
        return since is not None and last_modified <= since <= time.time()

    @staticmethod
    def _with_validators(response, etag: str, last_modified: int):
        response["ETag"] = etag
        response["Last-Modified"] = http_date(last_modified)
        # Browsers and CDNs may keep a copy for HTTP_MAX_AGE seconds, then must revalidate with
        # the ETag (a cheap 304 while nothing has changed).
        response["Cache-Control"] = f"public, max-age={settings.HTTP_MAX_AGE}, must-revalidate"
        response["Vary"] = "Cookie"
        return response

    @staticmethod
    def _store_when_complete(chunks, key, status, headers):
        """Pass a streamed download through, keeping a copy to cache if it is small enough.

        The copy is dropped as soon as the download outgrows PAGE_CACHE_MAX_BYTES, so a huge
        export never holds more than that in memory."""
        kept, size = [], 0
        for chunk in chunks:
            if kept is not None:
                size += len(chunk)
                if size <= settings.PAGE_CACHE_MAX_BYTES:
                    kept.append(chunk if isinstance(chunk, bytes) else bytes(chunk))
                else:
                    kept = None
            yield chunk
        if kept is not None:
            _cache_call("set", key, (status, headers, b"".join(kept)), settings.PAGE_CACHE_SECONDS)
