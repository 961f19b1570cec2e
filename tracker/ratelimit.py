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
from django.urls import Resolver404, resolve

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


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies of ours, the
    entry they appended to X-Forwarded-For (entries further left are whatever the client sent)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.headers.get("X-Forwarded-For", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def limit_group(request) -> str | None:
    """Which limit a request counts against, if any."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    group = _GROUP_BY_URL_NAME.get(match.url_name)
    if group is None and match.url_name == "agreement-list" and request.GET.get("q", "").strip():
        group = "search"  # the list's text filter runs the same full-text search
    return group


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        group = limit_group(request) if settings.RATELIMIT_ENABLED else None
        if group is None:
            return self.get_response(request)
        limit = settings.RATELIMITS[group]
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"ratelimit:{group}:{client_address(request)}:{window}"
        try:
            cache.add(key, 0, WINDOW_SECONDS + 5)
            count = cache.incr(key)
        except Exception as error:  # cache outage: let the request through
            logger.warning("rate limit store unavailable", extra={"error": repr(error)})
            return self.get_response(request)
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        if count > limit:
            logger.info("rate limited", extra={"group": group, "limit": limit})
            return self._too_many(request, group, limit, retry_after)
        response = self.get_response(request)
        response["RateLimit-Limit"] = str(limit)
        response["RateLimit-Remaining"] = str(max(0, limit - count))
        response["RateLimit-Reset"] = str(retry_after)
        return response

    @staticmethod
    def _too_many(request, group, limit, retry_after):
        message = (
            f"Too many requests: this address may make {limit} {group} requests a minute. "
            f"Please wait {retry_after} seconds and try again. For the whole data set, use "
            "one download (/transfers/export.csv) instead of many requests."
        )
        if group == "api":
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
