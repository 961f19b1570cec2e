"""A 503 "Service temporarily unavailable" page while the database is unreachable.

Two paths reach it. A view (or its template) that fails on the database is caught by
process_exception. An error raised in another middleware (a session saved after the view, say)
never reaches process_exception, and Django turns it into a 500 response before any outer
middleware sees it; the got_request_exception signal, sent just before that, marks the request,
and the middleware's __call__ swaps that 500 for the 503. Nothing here touches the database.
"""

import logging
import sys

import psycopg
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static

logger = logging.getLogger("tracker.resilience")


def stylesheet_url() -> str:
    """The site's stylesheet for the standalone error pages (templates/error_base.html)."""
    try:
        return static("css/site.css")
    except ValueError:  # no collectstatic manifest: the page still reads without CSS
        return ""


# psycopg's own classes too, in case a library lets one through unwrapped.
DATABASE_ERRORS = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
RETRY_AFTER_SECONDS = 5
_MARK = "_database_unavailable"


def database_error(exc):
    """The database error behind exc (itself, or its cause or context), or None."""
    seen = 0
    while exc is not None and seen < 10:  # a bounded walk: chains can, in theory, loop
        if isinstance(exc, DATABASE_ERRORS):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def unavailable_response(request):
    """The 503, built without a request context: the auth context processor would query the
    session, and base.html links pages whose data lives in the database."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": "Service temporarily unavailable. Try again shortly."}, status=503
        )
    else:
        html = render_to_string(
            "503.html", {"stylesheet": stylesheet_url(), "retry_after": RETRY_AFTER_SECONDS}
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # A proxy or browser must not keep serving the outage page once the database is back.
    response["Cache-Control"] = "no-store"
    # Logged once, as a warning, by the middleware: not again as an error by django.request.
    response._has_been_logged = True
    return response


def _mark_database_error(sender, request=None, **kwargs):
    error = database_error(sys.exc_info()[1])
    if request is not None and error is not None:
        setattr(request, _MARK, error)


got_request_exception.connect(_mark_database_error, dispatch_uid="tracker.resilience.mark")


class DatabaseUnavailableMiddleware:
    """Answer 503 with Retry-After instead of a 500 when the database is unreachable. Listed
    near the top of MIDDLEWARE so that its __call__ wraps the session and auth middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        error = getattr(request, _MARK, None)
        if error is not None and response.status_code == 500:
            self._log(request, error, "middleware")
            unavailable = unavailable_response(request)
            # The 500 went through the security and CSP middleware; keep the headers they set.
            for header, value in response.items():
                if header.lower() not in {"content-type", "content-length", "cache-control"}:
                    unavailable.setdefault(header, value)
            return unavailable
        return response

    def process_exception(self, request, exception):
        error = database_error(exception)
        if error is None:
            return None
        self._log(request, error, "view")
        session = getattr(request, "session", None)
        if session is not None and not hasattr(session, "_session_cache"):
            # The session could not be read either. SessionMiddleware would try again after the
            # view (for SESSION_EXPIRE_AT_BROWSER_CLOSE), fail, and log a traceback per request;
            # an empty cache stops that. It saves nothing on a 5xx, so the stored session stays.
            session._session_cache = {}
        return unavailable_response(request)

    @staticmethod
    def _log(request, error, where):
        # One line, no traceback: during an outage every request lands here.
        logger.warning(
            "database unavailable",
            extra={
                "error": type(error).__name__,
                "detail": str(error).strip().splitlines()[0][:200] if str(error).strip() else "",
                "raised_in": where,
                "path": request.path,
            },
        )
