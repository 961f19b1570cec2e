import hashlib

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import (
    get_language,
    get_language_info,
    gettext,
    ngettext,
    override,
)

from agreements import l10n
from agreements.translations import translated
from agreements.urls import page_urlpatterns
from tracker.caching import cached_fragment
from tracker.reversing import fast_reverse

register = template.Library()

# The pages that have a version in each language (agreements/urls.py).
_PAGE_NAMES = frozenset(pattern.name for pattern in page_urlpatterns)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None removes one).

    Keeps every filter, repeated keys included, so pagination and sorting links share state.
    """
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return "?" + urlencode(sorted(query.lists()), doseq=True) if query else "?"


@register.tag
def memoized(parser, token):
    """{% memoized key ... %}...{% endmemoized %}: the block's HTML, rendered once per change of
    the data, language and combination of keys (tracker.caching.cached_fragment); the block's
    place in its template is part of the key. The block must depend on nothing but the data
    and the keys."""
    keys = token.split_contents()[1:]
    if not keys:
        raise template.TemplateSyntaxError("memoized needs the values the block depends on")
    remaining = list(parser.tokens)  # the template's tokens still to parse, last first
    nodelist = parser.parse(("endmemoized",))
    parser.delete_first_token()
    # The block's place: its template and line, and its own text (two blocks on one line, or in
    # two templates made from strings, differ by it).
    block = "\x00".join(tok.contents for tok in reversed(remaining[len(parser.tokens) :]))
    name = getattr(parser.origin, "template_name", None) or "?"
    place = f"{name}:{token.lineno}:{hashlib.sha256(block.encode()).hexdigest()[:16]}"
    return MemoizedNode(nodelist, place, [parser.compile_filter(key) for key in keys])


class MemoizedNode(template.Node):
    def __init__(self, nodelist, place, keys):
        self.nodelist = nodelist
        self.place = place
        self.keys = keys

    def render(self, context):
        keys = [key.resolve(context) for key in self.keys]
        html = cached_fragment(self.place, keys, lambda: str(self.nodelist.render(context)))
        return mark_safe(html)  # rendered (and escaped) by the template engine


def _figure(figures, name):
    value = figures.get(name) if isinstance(figures, dict) else getattr(figures, name, None)
    return value or 0


def people(number):
    """ "1 person", "1,234 people" (in the page's language)."""
    return ngettext("%(count)s person", "%(count)s people", number) % {"count": l10n.number(number)}


def _count_unknown(figures) -> bool:
    transfers = _figure(figures, "transfer_count")
    return bool(transfers) and _figure(figures, "unknown_count") >= transfers


@register.filter
def head_count(figures):
    """The people a set of transfers moved, as a reader must read it (figures: a row or the
    totals of TransferQuerySet's HEAD_COUNTS). Unknown is not zero: "unknown" when no transfer
    has a count, "at least 1,234 people" when some have none or only a floor."""
    total = _figure(figures, "people_total")
    if _count_unknown(figures):
        return gettext("unknown")
    if _figure(figures, "uncertain_count"):
        return ngettext("at least %(count)s person", "at least %(count)s people", total) % {
            "count": l10n.number(total)
        }
    return people(total)


@register.filter
def count_cell(figures):
    """head_count() for a table's number column: "unknown", "≥ 1,234" or "1,234"."""
    if _count_unknown(figures):
        return gettext("unknown")
    total = l10n.number(_figure(figures, "people_total"))
    return f"≥ {total}" if _figure(figures, "uncertain_count") else total


@register.filter
def without_count(figures):
    """ "(2 of 5 transfers have no count)", or nothing when every transfer has one."""
    unknown = _figure(figures, "unknown_count")
    if not unknown:
        return ""
    transfers = _figure(figures, "transfer_count")
    if transfers == 1:
        return gettext("(1 of 1 transfer has no count)")
    # Translators: the count is of the transfers without a head count; "total" is all of them.
    return ngettext(
        "(%(count)s of %(total)s transfers has no count)",
        "(%(count)s of %(total)s transfers have no count)",
        unknown,
    ) % {"count": l10n.number(unknown), "total": l10n.number(transfers)}


@register.filter
def country_url(code):
    """A country's page from its code, in the page's language: {% url %} resolves the pattern
    again for each of a chart's rows."""
    return fast_reverse("country-detail", "code", str(code).lower())


@register.filter
def long_date(value):
    """A date or time as a reader says it: "16 March 2025", "16 de marzo de 2025"."""
    return l10n.long_date(value)


@register.filter
def short_date(value):
    """A date in a table: "16 Mar 2025", "16 mar 2025"."""
    return l10n.short_date(value)


@register.filter
def month_year(value):
    """ "March 2025", "marzo de 2025"."""
    return l10n.month_year(value)


@register.filter
def num(value):
    """A number with the language's grouping: "12,345", "12.345", "12 345"."""
    return l10n.number(value)


@register.filter
def tr(record, field):
    """A record's text in the page's language; the English, marked lang="en" so that screen
    readers switch voice, where it has no translation."""
    text, is_english_fallback = translated(record, field)
    if is_english_fallback:
        return format_html('<span lang="en">{}</span>', text)
    return text


@register.filter
def english(text):
    """A record text that is kept in English only (money notes, who can be sent, search
    snippets: search reads the English), marked lang="en" on pages in the other languages so
    that screen readers switch voice. Safe HTML (a highlighted snippet) stays as it is."""
    if not text or l10n.is_default_language():
        return text
    return format_html('<span lang="en">{}</span>', text)


@register.filter
def tr_text(record, field):
    """tr() as plain text, for attributes, <title> and <meta>."""
    return translated(record, field)[0]


@register.simple_tag(takes_context=True)
def language_versions(context):
    """This page in every language: for the switcher and the hreflang links. The address keeps
    the query string, so a filtered list stays filtered in the other language."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name not in _PAGE_NAMES:
        return []  # an error page, or an address with one version only
    query = request.META.get("QUERY_STRING", "")
    current = get_language()
    versions = []
    for code, name in settings.LANGUAGES:
        # The page's own match, reversed in each language: translate_url() would resolve the
        # address again for each (a third of a millisecond on every page).
        with override(code):
            url = reverse(match.url_name, args=match.args, kwargs=match.kwargs)
        if query:
            url = f"{url}?{query}"
        versions.append(
            {
                "code": code,
                "name": name,
                "url": url,
                "absolute_url": request.build_absolute_uri(url),
                "current": code == current,
                "default": code == settings.LANGUAGE_CODE,
                "direction": "rtl" if get_language_info(code)["bidi"] else "ltr",
            }
        )
    return versions


@register.inclusion_tag("includes/cite.html", takes_context=True)
def cite_this(context, record, updated=None):
    """The "Cite this page" block of a record's page (agreements/citation.py)."""
    from agreements.citation import citation_for

    return {"citation": citation_for(context["request"], record, updated=updated)}
