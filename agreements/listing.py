"""Rows for the transfer tables (includes/transfer_table.html): the ids, then one query.

A table row needs a dozen columns from four tables and the nationalities' names. Building
Transfer, Country and ReportedFigure instances and prefetching their relations for each row cost
more than the rest of a country or agreement page; these rows come from one query with the
nationalities and the spread of reported figures aggregated by Postgres.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Max, Min, OuterRef, Subquery

from agreements.exports import joined
from agreements.models import ReportedFigure, Transfer, TransferDisplay, fast_reverse


@dataclass(frozen=True)
class TransferRow(TransferDisplay):
    id: int
    date: date
    date_precision: str
    people: int | None
    people_is_minimum: bool
    agreement_title: str | None
    agreement_slug: str | None
    from_code: str
    from_name: str
    to_code: str
    to_name: str
    nationality_names: tuple[str, ...]
    figure_low: int | None
    figure_high: int | None
    is_onward: bool  # continues a published transfer (TransferQuerySet.onward)

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


def rows_for(ids):
    """TransferRows for these transfer ids, in the same order."""
    if not ids:
        return []
    figures = ReportedFigure.objects.filter(transfer=OuterRef("pk")).order_by().values("transfer")
    values = (
        Transfer.objects.filter(pk__in=ids)
        .values("id", "date", "date_precision", "people", "people_is_minimum", **_FIELDS)
        .annotate(
            names=joined("nationalities__name"),  # "|"-separated; no country name has one
            figure_low=Subquery(figures.annotate(low=Min("people")).values("low")),
            figure_high=Subquery(figures.annotate(high=Max("people")).values("high")),
            is_onward=Transfer.objects.continues_any(Transfer.objects.published()),
        )
    )
    rows = {}
    for row in values:
        names = row.pop("names")
        rows[row["id"]] = TransferRow(
            **row, nationality_names=tuple(filter(None, names.split("|")))
        )
    return [rows[pk] for pk in ids]
