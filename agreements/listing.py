"""Rows for the transfer tables (includes/transfer_table.html): the ids, then one query.

A table row needs a dozen columns from four tables and the nationalities' names. Building
Transfer, Country and ReportedFigure instances and prefetching their relations for each row cost
more than the rest of a country or agreement page; these rows come from one query with the
nationalities and the spread of reported figures aggregated by Postgres.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Max, Min, OuterRef, Subquery
from django.utils import translation

from agreements import l10n
from agreements.display import TransferDisplay
from agreements.exports import joined
from agreements.models import Country, ReportedFigure, Transfer
from tracker.caching import cached_per_version
from tracker.reversing import fast_reverse


@dataclass(frozen=True)
class TransferRow(TransferDisplay):
    id: int
    date: date
    date_precision: str
    people: int | None
    people_is_minimum: bool
    agreement_title: str | None  # the English (the record's)
    agreement_slug: str | None
    from_code: str
    from_name: str  # the country's name in the page's language
    to_code: str
    to_name: str
    nationality_names: tuple[str, ...]  # in the page's language, in its alphabetical order
    figure_low: int | None
    figure_high: int | None
    is_onward: bool  # continues a published transfer (TransferQuerySet.onward)
    # The agreement's title in the page's language, if it has one (agreements.translations).
    agreement_title_local: str | None = None

    def get_absolute_url(self):
        return fast_reverse("transfer-detail", "pk", self.id)

    @property
    def agreement_url(self):
        return fast_reverse("agreement-detail", "slug", self.agreement_slug)

    @property
    def from_url(self):
        return fast_reverse("country-detail", "code", self.from_code.lower())

    @property
    def to_url(self):
        return fast_reverse("country-detail", "code", self.to_code.lower())

    @property
    def figure_spread(self):
        """(lowest, highest) when sources report different head-counts, else None (the same
        rule as Transfer.figure_spread)."""
        counts = [n for n in (self.figure_low, self.figure_high, self.people) if n is not None]
        if not counts or min(counts) == max(counts):
            return None
        return min(counts), max(counts)


_FIELDS = {
    "agreement_title": F("agreement__title"),
    "agreement_slug": F("agreement__slug"),
    "from_code": F("from_country__code"),
    "from_name": F("from_country__name"),
    "to_code": F("to_country__code"),
    "to_name": F("to_country__name"),
}


def first_rows(queryset, limit):
    """The first `limit` TransferRows of an ordered queryset: their ids first, then the rows for
    those ids. Aggregating every match before keeping 25 cost 70 ms on an agreement with 7,000
    transfers; with the ids as a subquery Postgres spent longer planning than running it."""
    return rows_for(list(queryset.values_list("pk", flat=True)[:limit]))


@cached_per_version
def _local_names():
    """{code: name in the page's language} for every country."""
    return {country.code: country.local_name for country in Country.objects.only("code", "name")}


def rows_for(ids):
    """TransferRows for these transfer ids, in the same order, with the countries named in the
    page's language."""
    if not ids:
        return []
    english = l10n.is_default_language()
    # "|"-separated; no country name has one. Other languages name them from their codes.
    nationalities = (
        {"names": joined("nationalities__name")}
        if english
        else {"codes": joined("nationalities__code")}
    )
    figures = ReportedFigure.objects.filter(transfer=OuterRef("pk")).order_by().values("transfer")
    values = (
        Transfer.objects.filter(pk__in=ids)
        .values("id", "date", "date_precision", "people", "people_is_minimum", **_FIELDS)
        .annotate(
            **nationalities,
            figure_low=Subquery(figures.annotate(low=Min("people")).values("low")),
            figure_high=Subquery(figures.annotate(high=Max("people")).values("high")),
            is_onward=Transfer.objects.continues_any(Transfer.objects.published()),
        )
    )
    if not english:
        language = translation.get_language()
        values = values.annotate(agreement_title_local=F(f"agreement__title_{language}"))
    local = {} if english else _local_names()
    rows = {}
    for row in values:
        if english:
            names = tuple(filter(None, row.pop("names").split("|")))
        else:
            row["from_name"] = l10n.country_name(row["from_code"], row["from_name"])
            row["to_name"] = l10n.country_name(row["to_code"], row["to_name"])
            codes = filter(None, row.pop("codes").split("|"))
            names = tuple(sorted((local.get(code, code) for code in codes), key=l10n.sort_key))
        rows[row["id"]] = TransferRow(**row, nationality_names=names)
    return [rows[pk] for pk in ids]
