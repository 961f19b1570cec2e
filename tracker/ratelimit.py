"""Per-client request limits on the endpoints that cost the most: text search, downloads and
the JSON API. A client over its limit gets a 429 with Retry-After and a plain explanation.

Fixed one-minute windows counted in the cache: shared by all app servers when REDIS_URL is set,
per process otherwise. If the cache is down, requests are let through (fail open): the limits
protect capacity, they are not access control.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from tracker.clients import client_address
from tracker.query import public_match
from tracker.resilience import stylesheet_url

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
_GROUP_BY_URL_NAME = {
    "search": "search",
    "download": "download",
    "api-index": "api",
    "api-schema": "api",
    "api-list": "api",
}


def limit_groups(request) -> list[str]:
    """The budgets a request draws on: one per kind of expensive work it does. A text search is
    one kind of work wherever it runs (the search page, a list's text filter, the API or a
    download), so it always counts against the search budget, as well as against the budget of
    the endpoint that runs it: one search cannot be run under three separate budgets."""
    match = public_match(request)
    if match is None:
        return []
    groups = []
    group = _GROUP_BY_URL_NAME.get(match.url_name)
    if group is not None:
        groups.append(group)
    # Only the parameters the page reads are left (tracker/query.py): a "q" on a page without a
    # text search costs nothing and counts against nothing.
    if (
        getattr(request, "query_declared", False)
        and request.GET.get("q", "").strip()
        and "search" not in groups
    ):
        groups.append("search")
    return groups


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        groups = limit_groups(request) if settings.RATELIMIT_ENABLED else []
        if not groups:
            return self.get_response(request)
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        client = client_address(request)
        counts = {}
        try:
            for group in groups:
                key = f"ratelimit:{group}:{client}:{window}"
                cache.add(key, 0, WINDOW_SECONDS + 5)
                counts[group] = cache.incr(key)
        except Exception as error:  # cache outage: let the request through
            logger.warning("rate limit store unavailable", extra={"error": repr(error)})
            return self.get_response(request)
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        for group in groups:
            limit = settings.RATELIMITS[group]
            if counts[group] > limit:
                logger.info("rate limited", extra={"group": group, "limit": limit})
                return self._too_many(request, group, limit, retry_after, json=groups[0] == "api")
        # The headers describe the tightest budget this request drew on.
        tightest = min(groups, key=lambda group: settings.RATELIMITS[group] - counts[group])
        limit = settings.RATELIMITS[tightest]
        response = self.get_response(request)
        response["RateLimit-Limit"] = str(limit)
        response["RateLimit-Remaining"] = str(max(0, limit - counts[tightest]))
        response["RateLimit-Reset"] = str(retry_after)
        return response

    @staticmethod
    def _too_many(request, group, limit, retry_after, json):
        message = (
            f"Too many requests: this address may make {limit} {group} requests a minute. "
            f"Please wait {retry_after} seconds and try again. For the whole data set, use "
            "one download (/transfers/export.csv) instead of many requests."
        )
        if json:
            response = JsonResponse({"error": message}, status=429)
        else:
            response = HttpResponse(
                render_to_string(
                    "429.html",
                    {
                        "message": message,
                        "retry_after": retry_after,
                        "stylesheet": stylesheet_url(),
                    },
                ),
                status=429,
            )
        response["Retry-After"] = str(retry_after)
        response["Cache-Control"] = "no-store"
        return response
