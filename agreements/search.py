"""The site-wide search: agreements, timeline events, transfers, court cases and sources, ranked, with
the matching words highlighted. Only published records (and sources they cite) are searched."""

from django.contrib.postgres.search import SearchHeadline
from django.utils.html import escape
from django.utils.safestring import mark_safe

from agreements.fulltext import (
    AGREEMENT_SEARCH,
    CASE_SEARCH,
    EVENT_SEARCH,
    SEARCH_CONFIG,
    SOURCE_SEARCH,
    TRANSFER_SEARCH,
    full_text,
    search_query,
)
from agreements.models import Agreement, AgreementEvent, CourtCase, Source, Transfer

LIMIT = 20
# Unlikely control characters mark the matches; the text is escaped, then they become <mark>.
START, STOP = "\x02", "\x03"


def highlighted(text):
    """Escape a SearchHeadline result and turn its markers into <mark> elements. Only a start
    marker followed by a stop marker becomes one: a stored text that itself holds these
    characters cannot leave a <mark> open."""
    if not text:
        return ""
    first, *marked = text.split(START)
    parts = [escape(first.replace(STOP, ""))]
    for piece in marked:
        match, stop, rest = piece.partition(STOP)
        if stop:
            parts.append(f"<mark>{escape(match)}</mark>{escape(rest.replace(STOP, ''))}")
        else:
            parts.append(escape(piece))
    return mark_safe("".join(parts))


def _headline(field, text, whole=False):
    """The matching passage of field (or all of it, for short fields like titles)."""
    options = (
        {"highlight_all": True} if whole else {"max_words": 30, "min_words": 12, "max_fragments": 2}
    )
    return SearchHeadline(
        field, search_query(text), config=SEARCH_CONFIG, start_sel=START, stop_sel=STOP, **options
    )


def search(text):
    """{kind: (count, top results)} for text; each result has .rank and .snippet."""
    published = Agreement.objects.published()
    groups = {
        "agreements": full_text(published.with_parties(), AGREEMENT_SEARCH, text).annotate(
            snippet_text=_headline("summary", text), title_text=_headline("title", text, whole=True)
        ),
        "events": full_text(
            AgreementEvent.objects.published().select_related("agreement"),
            EVENT_SEARCH,
            text,
        ).annotate(snippet_text=_headline("description", text)),
        "transfers": full_text(
            Transfer.objects.published().select_related("from_country", "to_country"),
            TRANSFER_SEARCH,
            text,
        ).annotate(snippet_text=_headline("description", text)),
        "cases": full_text(
            CourtCase.objects.published().select_related("jurisdiction"), CASE_SEARCH, text
        ).annotate(
            snippet_text=_headline("outcome", text), title_text=_headline("name", text, whole=True)
        ),
        "sources": full_text(Source.objects.cited_publicly(), SOURCE_SEARCH, text).annotate(
            snippet_text=_headline("title", text, whole=True)
        ),
    }
    results = {}
    for kind, queryset in groups.items():
        rows = list(queryset.order_by("-rank", "pk")[:LIMIT])
        for row in rows:
            row.snippet = highlighted(row.snippet_text)
            row.title_snippet = highlighted(getattr(row, "title_text", ""))
        results[kind] = (queryset.count() if len(rows) == LIMIT else len(rows), rows)
    return results
