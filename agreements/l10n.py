"""Dates, numbers and country names in the reader's language, from CLDR (Babel).

Django's own `date` filter puts translated month names into one fixed pattern ("16 marzo 2025");
CLDR knows each language's pattern ("16 de marzo de 2025", "16 mars 2025", "16 مارس 2025") and
its digits and grouping. Everything a reader sees goes through here; exports, feeds and the API
stay in ISO dates and plain numbers.
"""

import datetime
import functools
import unicodedata

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal
from django.conf import settings
from django.utils import timezone, translation


@functools.cache
def _locale(language: str) -> Locale:
    return Locale.parse(translation.to_locale(language))


def is_default_language() -> bool:
    """Whether the page is in the source language (English), whose texts need no translation."""
    return _language() == settings.LANGUAGE_CODE


def _as_date(value) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


# Formatting through CLDR costs ~15 µs a call, several times strftime; a page shows the same
# few dates and numbers many times (a table's "as of" column), so results are kept per language.
@functools.lru_cache(maxsize=8192)
def _format(kind: str, value, language: str) -> str:
    locale = _locale(language)
    if kind == "number":
        return format_decimal(value, locale=locale)
    if kind == "long":
        return format_date(value, "long", locale=locale)
    return format_skeleton(kind, value, locale=locale)


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def long_date(value) -> str:
    """'16 March 2025', '16 de marzo de 2025', '16 mars 2025', '16 مارس 2025'."""
    day = _as_date(value)
    return _format("long", day, _language()) if day else ""


def short_date(value) -> str:
    """'16 Mar 2025', '16 mar 2025', '16 mars 2025': for tables."""
    day = _as_date(value)
    return _format("yMMMd", day, _language()) if day else ""


def month_year(value) -> str:
    """'March 2025', 'marzo de 2025', 'mars 2025', 'مارس 2025'."""
    day = _as_date(value)
    return _format("yMMMM", day, _language()) if day else ""


def year(value) -> str:
    day = _as_date(value)
    return _format("y", day, _language()) if day else ""


def number(value) -> str:
    """An integer (or a decimal) with the language's digits and grouping: '12,345', '12.345',
    '12 345'."""
    if value is None or value == "":
        return ""
    return _format("number", value, _language())


@functools.cache
def _territories(language: str) -> dict:
    return _locale(language).territories


def country_name(code: str, english_name: str) -> str:
    """A country's name in the page's language (CLDR); the tracker's own English name in
    English, and where CLDR has none."""
    language = _language()
    if language == settings.LANGUAGE_CODE:
        return english_name
    return _territories(language).get(code, english_name)


def sort_key(text: str) -> str:
    """Alphabetical order that ignores accents and case ('Émirats' beside 'Égypte', not after
    'Zambie'), for lists sorted by a name in the page's language."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
