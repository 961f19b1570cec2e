"""The data downloads and the API share these row schemas: one definition per list, used for
CSV, JSON, the API's pages and its OpenAPI description (docs/DATA.md describes them).

Rows come from `.values()` with aggregates (no per-row queries) and are streamed in chunks,
so a large export never sits in memory.
"""

import csv
import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.db import connections
from django.db.models import (
    Case,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Left, NullIf, Replace
from django.db.models.lookups import In
from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import pgettext_lazy

from agreements.dates import format_iso_partial_date
from agreements.models import (
    AgreementKind,
    AgreementStatus,
    CaseStage,
    EventKind,
    LegalBindingness,
    PublicationState,
    Region,
    RulingKind,
    SourceKind,
    TextDisclosure,
)

CHUNK = 2000


@dataclass(frozen=True)
class Column:
    name: str
    # "string", "integer", "number", "boolean", "date", "partial-date", "list", "integer-list"
    type: str
    # Lazily translated, for the data dictionary on /data/ (/es/data/, …). The files, the API
    # and docs/DATA.md are in English whatever language is active: they read it with english().
    description: str
    enum: tuple = ()
    nullable: bool = True


def english(text):
    """A (lazily translated) text in the site's own language, English, as a plain str: for
    what is the same in every language (releases, the API, its OpenAPI, docs/DATA.md), even
    when it is built while another language is active (a view, a shell, a test)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def _enum(choices):
    return tuple(value for value, _ in choices)


AGREEMENT_COLUMNS = [
    Column(
        "slug",
        "string",
        pgettext_lazy("data dictionary", "Stable identifier, used in the agreement's URL."),
        nullable=False,
    ),
    Column("title", "string", pgettext_lazy("data dictionary", "Title."), nullable=False),
    Column(
        "url",
        "string",
        pgettext_lazy("data dictionary", "Address of the agreement's page."),
        nullable=False,
    ),
    Column(
        "sending_country",
        "string",
        pgettext_lazy("data dictionary", "ISO alpha-2 code of the state that sends people."),
        nullable=False,
    ),
    Column(
        "receiving_country",
        "string",
        pgettext_lazy("data dictionary", "ISO alpha-2 code of the state that receives them."),
        nullable=False,
    ),
    Column(
        "kind",
        "string",
        pgettext_lazy("data dictionary", "Kind of instrument."),
        _enum(AgreementKind.choices),
        nullable=False,
    ),
    Column(
        "status",
        "string",
        pgettext_lazy("data dictionary", "Status."),
        _enum(AgreementStatus.choices),
        nullable=False,
    ),
    Column(
        "legal_bindingness",
        "string",
        pgettext_lazy("data dictionary", "Whether it binds in law."),
        _enum(LegalBindingness.choices),
        nullable=False,
    ),
    Column(
        "text_disclosure",
        "string",
        pgettext_lazy("data dictionary", "Whether its text is public."),
        _enum(TextDisclosure.choices),
        nullable=False,
    ),
    Column(
        "announced",
        "partial-date",
        pgettext_lazy("data dictionary", "Date announced: YYYY-MM-DD, YYYY-MM or YYYY."),
    ),
    Column("signed", "partial-date", pgettext_lazy("data dictionary", "Date signed.")),
    Column("in_force", "partial-date", pgettext_lazy("data dictionary", "Date it took effect.")),
    Column("ended", "partial-date", pgettext_lazy("data dictionary", "Date it ended.")),
    Column(
        "summary",
        "string",
        pgettext_lazy("data dictionary", "The tracker's summary."),
        nullable=False,
    ),
    Column(
        "compensation_amount",
        "number",
        pgettext_lazy("data dictionary", "Headline payment, when one figure is agreed."),
    ),
    Column(
        "compensation_currency",
        "string",
        pgettext_lazy("data dictionary", "ISO 4217 currency of the amount."),
    ),
    Column(
        "compensation_notes",
        "string",
        pgettext_lazy("data dictionary", "Payments as reported, with disagreements."),
        nullable=False,
    ),
    Column("cap", "integer", pgettext_lazy("data dictionary", "Cap on the number of people.")),
    Column(
        "eligible_populations",
        "string",
        pgettext_lazy("data dictionary", "Who can be sent."),
        nullable=False,
    ),
    Column(
        "text_url",
        "string",
        pgettext_lazy("data dictionary", "Link to the published text."),
        nullable=False,
    ),
    Column(
        "updated_at",
        "string",
        pgettext_lazy("data dictionary", "When the record last changed (ISO 8601)."),
        nullable=False,
    ),
]

TRANSFER_COLUMNS = [
    Column(
        "id",
        "integer",
        pgettext_lazy("data dictionary", "Stable identifier, used in the transfer's URL."),
        nullable=False,
    ),
    Column(
        "url",
        "string",
        pgettext_lazy("data dictionary", "Address of the transfer's page."),
        nullable=False,
    ),
    Column(
        "agreement",
        "string",
        pgettext_lazy("data dictionary", "Slug of the agreement, if one is known."),
    ),
    Column(
        "date",
        "partial-date",
        pgettext_lazy("data dictionary", "Date: YYYY-MM-DD, YYYY-MM or YYYY."),
        nullable=False,
    ),
    Column(
        "from_country",
        "string",
        pgettext_lazy("data dictionary", "ISO alpha-2 code of the origin."),
        nullable=False,
    ),
    Column(
        "to_country",
        "string",
        pgettext_lazy("data dictionary", "ISO alpha-2 code of the destination."),
        nullable=False,
    ),
    Column(
        "people",
        "integer",
        pgettext_lazy(
            "data dictionary", "Number of people (the editors' chosen figure); null if unknown."
        ),
    ),
    Column(
        "people_is_minimum",
        "boolean",
        pgettext_lazy("data dictionary", "The count is a floor (“at least”)."),
        nullable=False,
    ),
    Column(
        "nationalities",
        "list",
        pgettext_lazy("data dictionary", "ISO alpha-2 codes of the people's nationalities."),
        nullable=False,
    ),
    Column(
        "place", "string", pgettext_lazy("data dictionary", "Facility or place."), nullable=False
    ),
    Column(
        "description", "string", pgettext_lazy("data dictionary", "Description."), nullable=False
    ),
    Column(
        "sources", "list", pgettext_lazy("data dictionary", "URLs of the sources."), nullable=False
    ),
    Column(
        "updated_at",
        "string",
        pgettext_lazy("data dictionary", "When the record last changed (ISO 8601)."),
        nullable=False,
    ),
    # Last, so that readers of the earlier columns by position are not disturbed.
    Column(
        "continues",
        "integer-list",
        pgettext_lazy(
            "data dictionary",
            "For an onward removal: ids of the published transfers that brought these people to "
            "the country it leaves; empty otherwise.",
        ),
        nullable=False,
    ),
]

SOURCE_COLUMNS = [
    Column(
        "url",
        "string",
        pgettext_lazy("data dictionary", "Address where the source was read."),
        nullable=False,
    ),
    Column(
        "title", "string", pgettext_lazy("data dictionary", "Headline or title."), nullable=False
    ),
    Column(
        "publisher", "string", pgettext_lazy("data dictionary", "Outlet or body."), nullable=False
    ),
    Column("published", "partial-date", pgettext_lazy("data dictionary", "Publication date.")),
    Column(
        "archive_url", "string", pgettext_lazy("data dictionary", "Archived copy."), nullable=False
    ),
    Column(
        "kind",
        "string",
        pgettext_lazy("data dictionary", "Kind of source."),
        _enum(SourceKind.choices),
        nullable=False,
    ),
]

COUNTRY_COLUMNS = [
    Column(
        "code",
        "string",
        pgettext_lazy("data dictionary", "ISO 3166-1 alpha-2 code (XK Kosovo, EU European Union)."),
        nullable=False,
    ),
    Column(
        "alpha3", "string", pgettext_lazy("data dictionary", "ISO alpha-3 code."), nullable=False
    ),
    Column("name", "string", pgettext_lazy("data dictionary", "Name."), nullable=False),
    Column(
        "region",
        "string",
        pgettext_lazy("data dictionary", "Continent."),
        _enum(Region.choices),
        nullable=False,
    ),
    Column(
        "is_state",
        "boolean",
        pgettext_lazy("data dictionary", "False for the European Union."),
        nullable=False,
    ),
    Column(
        "url",
        "string",
        pgettext_lazy("data dictionary", "Address of the country's page."),
        nullable=False,
    ),
    Column(
        "agreement_count",
        "integer",
        pgettext_lazy("data dictionary", "Published agreements, either side."),
        nullable=False,
    ),
    Column(
        "transfer_count",
        "integer",
        pgettext_lazy("data dictionary", "Published transfers, either way."),
        nullable=False,
    ),
]


CASE_COLUMNS = [
    Column(
        "slug",
        "string",
        pgettext_lazy("data dictionary", "Stable identifier, used in the case's URL."),
        nullable=False,
    ),
    Column(
        "name",
        "string",
        pgettext_lazy("data dictionary", "The case's name, as usually cited."),
        nullable=False,
    ),
    Column(
        "url",
        "string",
        pgettext_lazy("data dictionary", "Address of the case's page."),
        nullable=False,
    ),
    Column(
        "court",
        "string",
        pgettext_lazy("data dictionary", "The court where it is (or was last) heard."),
        nullable=False,
    ),
    Column(
        "jurisdiction",
        "string",
        pgettext_lazy(
            "data dictionary",
            "ISO alpha-2 code of the state (EU: the European Union) whose courts hear it; null for "
            "an international tribunal.",
        ),
    ),
    Column(
        "docket",
        "string",
        pgettext_lazy("data dictionary", "Docket or case number."),
        nullable=False,
    ),
    Column(
        "citation", "string", pgettext_lazy("data dictionary", "Neutral citation."), nullable=False
    ),
    Column(
        "filed",
        "partial-date",
        pgettext_lazy("data dictionary", "Date filed: YYYY-MM-DD, YYYY-MM or YYYY."),
    ),
    Column("decided", "partial-date", pgettext_lazy("data dictionary", "Date decided.")),
    Column(
        "stage",
        "string",
        pgettext_lazy("data dictionary", "Stage."),
        _enum(CaseStage.choices),
        nullable=False,
    ),
    Column(
        "outcome",
        "string",
        pgettext_lazy("data dictionary", "The outcome in one line."),
        nullable=False,
    ),
    Column(
        "summary",
        "string",
        pgettext_lazy("data dictionary", "The tracker's summary."),
        nullable=False,
    ),
    Column(
        "judgment_url",
        "string",
        pgettext_lazy("data dictionary", "Link to the judgment, where public."),
        nullable=False,
    ),
    Column(
        "agreements",
        "list",
        pgettext_lazy("data dictionary", "Slugs of the published agreements it concerns."),
        nullable=False,
    ),
    Column(
        "rulings",
        "list",
        format_lazy(
            pgettext_lazy(
                "data dictionary",
                "Its rulings, oldest first, each as “date kind” (kinds: {kinds}).",
            ),
            kinds=", ".join(_enum(RulingKind.choices)),
        ),
        nullable=False,
    ),
    Column(
        "sources",
        "list",
        pgettext_lazy("data dictionary", "URLs of the sources on the case."),
        nullable=False,
    ),
    Column(
        "updated_at",
        "string",
        pgettext_lazy("data dictionary", "When the record last changed (ISO 8601)."),
        nullable=False,
    ),
]


def _partial(row, date_key, precision_key):
    return format_iso_partial_date(row.pop(date_key), row.pop(precision_key)) or None


def agreement_rows(queryset):
    rows = queryset.values(
        "slug", "title", "kind", "status", "legal_bindingness", "text_disclosure",
        "announced_on", "announced_precision", "signed_on", "signed_precision",
        "in_force_on", "in_force_precision", "ended_on", "ended_precision",
        "summary", "compensation_amount", "compensation_currency", "compensation_notes", "cap",
        "eligible_populations", "text_url", "updated_at",
        sending=F("sending_country__code"), receiving=F("receiving_country__code"),
    )  # fmt: skip
    for row in rows.iterator(chunk_size=CHUNK):
        yield {
            "slug": row["slug"],
            "title": row["title"],
            "url": f"/agreements/{row['slug']}/",
            "sending_country": row["sending"],
            "receiving_country": row["receiving"],
            "kind": row["kind"],
            "status": row["status"],
            "legal_bindingness": row["legal_bindingness"],
            "text_disclosure": row["text_disclosure"],
            "announced": _partial(row, "announced_on", "announced_precision"),
            "signed": _partial(row, "signed_on", "signed_precision"),
            "in_force": _partial(row, "in_force_on", "in_force_precision"),
            "ended": _partial(row, "ended_on", "ended_precision"),
            "summary": row["summary"],
            "compensation_amount": None
            if row["compensation_amount"] is None
            else float(row["compensation_amount"]),
            "compensation_currency": row["compensation_currency"] or None,
            "compensation_notes": row["compensation_notes"],
            "cap": row["cap"],
            "eligible_populations": row["eligible_populations"],
            "text_url": row["text_url"],
            "updated_at": row["updated_at"].isoformat(),
        }


def joined(path, filter=None):  # noqa: A002 (the aggregate's own name for it)
    """The values at path, each once, in order, joined with "|" ("" when none)."""
    return Coalesce(
        StringAgg(path, "|", distinct=True, order_by=path, filter=filter),
        Value(""),
        output_field=TextField(),
    )


def transfer_values(queryset):
    """The one query behind a transfers download: a row per transfer, lists aggregated."""
    return (
        queryset.values(
            "id", "date", "date_precision", "people", "people_is_minimum", "place", "description",
            "updated_at", slug=F("agreement__slug"), origin=F("from_country__code"),
            destination=F("to_country__code"),
        )
        .annotate(
            codes=joined("nationalities__code"), links=joined("sources__url"),
            continued=continued_ids(),
        )
    )  # fmt: skip


def continued_ids():
    """The ids of the published transfers a transfer continues, "|"-joined in id order ("" for
    none). A subquery, not a join: a third list joined beside nationalities and sources would
    multiply the rows aggregated. Drafts stay out, as everywhere public."""
    from agreements.models import Transfer

    links = (
        Transfer.continues.through.objects.filter(
            from_transfer=OuterRef("pk"),
            to_transfer__in=Transfer.objects.published().order_by().values("pk"),
        )
        .order_by()
        .values("from_transfer")
        .annotate(
            ids=StringAgg(Cast("to_transfer_id", TextField()), "|", order_by="to_transfer_id")
        )
        .values("ids")
    )
    return Coalesce(Subquery(links, output_field=TextField()), Value(""), output_field=TextField())


def transfer_rows(queryset):
    for row in transfer_values(queryset).iterator(chunk_size=CHUNK):
        yield {
            "id": row["id"],
            "url": f"/transfers/{row['id']}/",
            "agreement": row["slug"],
            "date": format_iso_partial_date(row["date"], row["date_precision"]),
            "from_country": row["origin"],
            "to_country": row["destination"],
            "people": row["people"],
            "people_is_minimum": row["people_is_minimum"],
            "nationalities": row["codes"].split("|") if row["codes"] else [],
            "place": row["place"],
            "description": row["description"],
            "sources": row["links"].split("|") if row["links"] else [],
            "updated_at": row["updated_at"].isoformat(),
            "continues": [int(pk) for pk in row["continued"].split("|")]
            if row["continued"]
            else [],
        }


def case_rows(queryset):
    published = Q(agreements__publication_state=PublicationState.PUBLISHED)
    rows = queryset.values(
        "slug", "name", "court", "docket", "citation", "filed_on", "filed_precision",
        "decided_on", "decided_precision", "stage", "outcome", "summary", "judgment_url",
        "updated_at", jurisdiction_code=F("jurisdiction__code"),
    ).annotate(
        slugs=joined("agreements__slug", filter=published),
        links=joined("sources__url"),
        ruling_cells=_rulings_joined(),
    )  # fmt: skip
    for row in rows.iterator(chunk_size=CHUNK):
        yield {
            "slug": row["slug"],
            "name": row["name"],
            "url": f"/cases/{row['slug']}/",
            "court": row["court"],
            "jurisdiction": row["jurisdiction_code"],
            "docket": row["docket"],
            "citation": row["citation"],
            "filed": _partial(row, "filed_on", "filed_precision"),
            "decided": _partial(row, "decided_on", "decided_precision"),
            "stage": row["stage"],
            "outcome": row["outcome"],
            "summary": row["summary"],
            "judgment_url": row["judgment_url"],
            "agreements": row["slugs"].split("|") if row["slugs"] else [],
            "rulings": _ruling_list(row["ruling_cells"]),
            "sources": row["links"].split("|") if row["links"] else [],
            "updated_at": row["updated_at"].isoformat(),
        }


def _rulings_joined():
    """A case's rulings in one cell, oldest first: "2025-03-15 day tro;2025-04-07 day stay"."""
    from agreements.models import CourtRuling

    rulings = (
        CourtRuling.objects.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(
            listed=StringAgg(
                Concat(
                    Cast("date", TextField()),
                    Value(" "),
                    "date_precision",
                    Value(" "),
                    "kind",
                    output_field=TextField(),
                ),
                ";",
                order_by=("date", "id"),
            )
        )
        .values("listed")
    )
    return Coalesce(
        Subquery(rulings, output_field=TextField()), Value(""), output_field=TextField()
    )


def _ruling_list(joined_rulings):
    listed = []
    for item in filter(None, joined_rulings.split(";")):
        date, precision, kind = item.split(" ")
        listed.append(
            f"{format_iso_partial_date(datetime.date.fromisoformat(date), precision)} {kind}"
        )
    return listed


def source_rows(queryset):
    rows = queryset.values(
        "url", "title", "publisher", "published_on", "published_precision", "archive_url", "kind"
    )
    for row in rows.iterator(chunk_size=CHUNK):
        row["published"] = _partial(row, "published_on", "published_precision")
        yield {column.name: row[column.name] for column in SOURCE_COLUMNS}


def country_rows(queryset):
    rows = queryset.values(
        "code", "alpha3", "name", "region", "is_state", "agreement_count", "transfer_count"
    )
    for row in rows.iterator(chunk_size=CHUNK):
        row["url"] = f"/countries/{row['code'].lower()}/"
        yield {column.name: row[column.name] for column in COUNTRY_COLUMNS}


# --- streaming responses ---------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


# CSV formula injection (OWASP): a spreadsheet runs a cell that starts with one of these as a
# formula (a tab or carriage return first also counts). Such a cell goes out with a leading
# apostrophe, which spreadsheets show as text and hide. Every CSV writer uses this rule: the
# Python writer (csv_cell), Postgres's COPY (CsvSafe) and the admin's export (resources.py).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text):
    """text, with an apostrophe in front when a spreadsheet would read it as a formula, and
    its carriage returns as line feeds (Python's csv writer, ending lines with "\n", would leave
    a lone "\r" unquoted, which breaks the row for CSV readers; COPY quotes it)."""
    if not isinstance(text, str):
        return text
    safe = "'" + text if text.startswith(FORMULA_TRIGGERS) else text
    return safe.replace("\r\n", "\n").replace("\r", "\n")


def CsvSafe(expression):  # noqa: N802 (used like the other expressions in the cells)
    """formula_safe() in SQL, for the cells Postgres writes itself (COPY)."""
    first = Left(expression, 1, output_field=TextField())
    text = TextField()
    lines = Replace(
        Replace(expression, Value("\r\n"), Value("\n"), output_field=text),
        Value("\r"),
        Value("\n"),
        output_field=text,
    )
    return Case(
        When(In(first, list(FORMULA_TRIGGERS)), then=Concat(Value("'"), lines, output_field=text)),
        default=lines,
        output_field=TextField(),
    )


def _csv_cell(value):
    if isinstance(value, list):
        return formula_safe("|".join(map(str, value)))  # str: the "integer-list" columns
    if value is None:
        return ""
    return formula_safe(value)


def csv_response(rows, columns, filename):
    # "\n" line ends, as Postgres's COPY writes them (copy_csv_response).
    writer = csv.writer(_Echo(), lineterminator="\n")

    def stream():
        yield writer.writerow([column.name for column in columns])
        for row in rows:
            yield writer.writerow([_csv_cell(row[column.name]) for column in columns])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def json_response(rows, filename):
    def stream():
        yield "["
        for number, row in enumerate(rows):
            yield ("," if number else "") + "\n" + json.dumps(row, ensure_ascii=False)
        yield "\n]\n"

    response = StreamingHttpResponse(stream(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    return response


# --- the transfers CSV, written by Postgres -------------------------------------------------------
#
# The largest download (every transfer) is produced by `COPY (SELECT ...) TO STDOUT WITH CSV`:
# Postgres formats each cell exactly as transfer_rows + csv_response would (a test compares the
# two byte for byte) and the bytes are streamed on as they arrive. Building a Python dict and a
# csv.writer row per transfer made the download 5.5 times slower than the COPY itself.


def _to_char(field, pattern):
    return Func(F(field), Value(pattern), function="to_char", output_field=TextField())


class _IsoTimestamp(Func):
    """A UTC timestamp as datetime.isoformat() writes it: microseconds only when not zero."""

    output_field = TextField()
    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        "CASE WHEN mod(date_part('microseconds', %(expressions)s)::bigint, 1000000) = 0 "
        "THEN '' ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US') END || '+00:00'"
    )


def _nonempty(expression):
    # COPY writes an empty string as "" but NULL as nothing, which is what csv.writer writes.
    return NullIf(expression, Value(""), output_field=TextField())


def transfer_csv_cells(queryset):
    """The transfers CSV's cells, one column per entry of TRANSFER_COLUMNS, as a values_list."""
    from agreements.models import DatePrecision

    cells = {
        "cell_id": F("id"),
        "cell_url": Concat(
            Value("/transfers/"), Cast("id", TextField()), Value("/"), output_field=TextField()
        ),
        "cell_agreement": CsvSafe(F("agreement__slug")),
        "cell_date": Case(
            When(date_precision=DatePrecision.YEAR, then=_to_char("date", "YYYY")),
            When(date_precision=DatePrecision.MONTH, then=_to_char("date", "YYYY-MM")),
            default=_to_char("date", "YYYY-MM-DD"),
            output_field=TextField(),
        ),
        "cell_from": F("from_country__code"),
        "cell_to": F("to_country__code"),
        "cell_people": F("people"),
        "cell_minimum": Case(
            When(people_is_minimum=True, then=Value("True")),
            default=Value("False"),
            output_field=TextField(),
        ),
        "cell_nationalities": CsvSafe(_nonempty(joined("nationalities__code"))),
        "cell_place": CsvSafe(_nonempty(F("place"))),
        "cell_description": CsvSafe(_nonempty(F("description"))),
        "cell_sources": CsvSafe(_nonempty(joined("sources__url"))),
        "cell_updated": _IsoTimestamp(F("updated_at")),
        "cell_continues": _nonempty(continued_ids()),  # digits and "|": never a formula
    }
    assert len(cells) == len(TRANSFER_COLUMNS)
    return queryset.annotate(**cells).values_list(*cells)


def copy_csv_response(queryset, columns, filename, using="default"):
    """Stream `COPY (queryset's SQL) TO STDOUT WITH CSV` from Postgres, under a header row."""
    sql, params = queryset.query.sql_with_params()

    def stream():
        yield ",".join(column.name for column in columns).encode() + b"\n"
        statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        # psycopg binds the parameters on the client: COPY cannot take server-side ones.
        with connections[using].cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
            for block in copy:
                yield bytes(block)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


# --- timeline events and court rulings (the data releases, agreements/releases.py) --------------

EVENT_COLUMNS = [
    Column(
        "id",
        "integer",
        pgettext_lazy("data dictionary", "Stable identifier of the event."),
        nullable=False,
    ),
    Column(
        "agreement",
        "string",
        pgettext_lazy("data dictionary", "Slug of the agreement whose timeline it is on."),
        nullable=False,
    ),
    Column(
        "url",
        "string",
        pgettext_lazy("data dictionary", "Address of the agreement's page, where it is shown."),
        nullable=False,
    ),
    Column(
        "date",
        "partial-date",
        pgettext_lazy("data dictionary", "Date: YYYY-MM-DD, YYYY-MM or YYYY."),
        nullable=False,
    ),
    Column(
        "kind",
        "string",
        pgettext_lazy("data dictionary", "What happened."),
        _enum(EventKind.choices),
        nullable=False,
    ),
    Column(
        "description", "string", pgettext_lazy("data dictionary", "Description."), nullable=False
    ),
    Column(
        "court_case",
        "string",
        pgettext_lazy(
            "data dictionary",
            "For a court ruling: slug of the published court case it was made in.",
        ),
    ),
    Column(
        "sources", "list", pgettext_lazy("data dictionary", "URLs of the sources."), nullable=False
    ),
]

RULING_COLUMNS = [
    Column(
        "id",
        "integer",
        pgettext_lazy("data dictionary", "Stable identifier of the ruling."),
        nullable=False,
    ),
    Column(
        "case",
        "string",
        pgettext_lazy("data dictionary", "Slug of the court case."),
        nullable=False,
    ),
    Column(
        "url",
        "string",
        pgettext_lazy("data dictionary", "Address of the case's page, where it is shown."),
        nullable=False,
    ),
    Column(
        "date",
        "partial-date",
        pgettext_lazy("data dictionary", "Date: YYYY-MM-DD, YYYY-MM or YYYY."),
        nullable=False,
    ),
    Column(
        "kind",
        "string",
        pgettext_lazy("data dictionary", "Kind of ruling."),
        _enum(RulingKind.choices),
        nullable=False,
    ),
    Column(
        "court",
        "string",
        pgettext_lazy(
            "data dictionary", "The court that ruled; empty when it is the case's court."
        ),
        nullable=False,
    ),
    Column(
        "description", "string", pgettext_lazy("data dictionary", "Description."), nullable=False
    ),
    Column(
        "sources", "list", pgettext_lazy("data dictionary", "URLs of the sources."), nullable=False
    ),
]


def event_rows(queryset):
    """Timeline events (of published agreements: the caller's queryset says which)."""
    published_case = Q(court_case__publication_state=PublicationState.PUBLISHED)
    rows = queryset.values(
        "id", "kind", "date", "date_precision", "description", slug=F("agreement__slug"),
    ).annotate(
        # A case that is not published is not named: its slug would reveal a draft.
        case_slug=Case(When(published_case, then=F("court_case__slug")), default=None),
        links=joined("sources__url"),
    )  # fmt: skip
    for row in rows.iterator(chunk_size=CHUNK):
        yield {
            "id": row["id"],
            "agreement": row["slug"],
            "url": f"/agreements/{row['slug']}/",
            "date": format_iso_partial_date(row["date"], row["date_precision"]),
            "kind": row["kind"],
            "description": row["description"],
            "court_case": row["case_slug"],
            "sources": row["links"].split("|") if row["links"] else [],
        }


def ruling_rows(queryset):
    """Court rulings (of published cases: the caller's queryset says which)."""
    rows = queryset.values(
        "id", "kind", "date", "date_precision", "court", "description", slug=F("case__slug"),
    ).annotate(links=joined("sources__url"))  # fmt: skip
    for row in rows.iterator(chunk_size=CHUNK):
        yield {
            "id": row["id"],
            "case": row["slug"],
            "url": f"/cases/{row['slug']}/#rulings",
            "date": format_iso_partial_date(row["date"], row["date_precision"]),
            "kind": row["kind"],
            "court": row["court"],
            "description": row["description"],
            "sources": row["links"].split("|") if row["links"] else [],
        }
