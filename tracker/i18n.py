"""Which language a visitor sees: the address says, except on a first visit.

Every public page has one address per language: English without a prefix (/agreements/), the
others with theirs (/es/agreements/). The address decides (LocaleMiddleware), so a link always
shows what its sender saw, and the page cache keys on it. Accept-Language counts once: a visitor
with no language cookie who asks for an unprefixed page in a browser set to Spanish is sent to
the Spanish address, and from then on the cookie records the last language seen, so choosing
English in the switcher sticks.
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers


def _remember(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )


def _public(request) -> bool:
    return request.method in ("GET", "HEAD") and not request.path.startswith(
        "/" + settings.ADMIN_PATH
    )


class DefaultLanguageMiddleware:
    """Every request starts and ends in the default language. The active language belongs to
    the thread, and LocaleMiddleware only sets it: without this, what runs before it (the
    503 page of a database outage) or after a request would speak the previous one's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(settings.LANGUAGE_CODE)
        try:
            return self.get_response(request)
        finally:
            translation.activate(settings.LANGUAGE_CODE)


class FirstVisitLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _public(request):
            return self.get_response(request)
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        in_path = translation.get_language_from_path(request.path_info)
        if cookie is None and in_path is None:
            preferred = translation.get_language_from_request(request)
            if preferred != settings.LANGUAGE_CODE:
                response = self._redirect(request, preferred)
                if response is not None:
                    return response
        response = self.get_response(request)
        # After the page cache stored the page (it refuses pages that set a cookie).
        shown = translation.get_language()
        if (
            response.status_code == 200
            and cookie is not None
            and cookie != shown
            or response.status_code == 200
            and cookie is None
            and in_path is not None
        ):
            _remember(response, shown)
        return response

    @staticmethod
    def _redirect(request, language):
        """To the page's address in `language`, or None for an address that has only one
        (downloads, the API, feeds: language-neutral)."""
        here = request.get_full_path()
        there = translate_url(here, language)
        if there == here:
            return None
        response = HttpResponseRedirect(there)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        _remember(response, language)
        return response
