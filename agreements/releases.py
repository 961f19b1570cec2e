"""Dated data releases: every published table as CSV and JSON, with a Frictionless Data Package
descriptor, a README (licence, coverage, how to cite), a CITATION.cff and SHA-256 checksums,
zipped under RELEASES_DIR and recorded as a DataRelease (`manage.py make_release`).

A release is never changed once made: people cite it by its version, so the zip behind
/data/releases/<version>.zip must stay the file they downloaded. A second release on the same
day is <date>.2, and a file already on disk is never replaced, whatever the database says.

Only published records are included, through the same querysets and row schemas as the public
downloads (agreements/exports.py), read in one snapshot of the database.
"""

import contextlib
import csv
import datetime
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import pgettext_lazy

from agreements import exports
from agreements.models import (
    Agreement,
    AgreementEvent,
    CourtCase,
    CourtRuling,
    DataRelease,
    Source,
)

logger = logging.getLogger(__name__)

TITLE = "Transfer Tracker: third-country migrant transfer agreements, transfers and court cases"
LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
AUTHOR = "Transfer Tracker contributors"


class ReleaseError(Exception):
    """A release that cannot be made, with a message for the person who ran the command."""


@dataclass(frozen=True)
class Table:
    name: str  # the files' stem: agreements.csv, agreements.json
    title: str
    description: str  # lazily translated for /data/; English in the files (exports.english)
    columns: list
    key: str  # the column that identifies a record from one release to the next
    count_field: str  # DataRelease's column for its number of rows
    rows: Callable[[], Iterable[dict]]
    # Columns holding an address on this site ("/agreements/x/"): written absolute (SITE_URL).
    site_paths: tuple = ("url",)
    # (column, table, its column): how the tables join, declared in datapackage.json.
    foreign_keys: tuple = ()
    dataset: str | None = None  # its name among the live downloads and the API (api.DATASETS)


def _agreements():
    agreements = Agreement.objects.published().order_by("slug")
    cited = dict(
        agreements.values_list("slug").annotate(links=exports.joined("sources__url")).order_by()
    )
    for row in exports.agreement_rows(agreements):
        links = cited.get(row["slug"], "")
        yield {**row, "sources": links.split("|") if links else []}


def _events():
    return exports.event_rows(AgreementEvent.objects.published().order_by("id"))


def _transfers():
    from agreements.models import Transfer

    return exports.transfer_rows(Transfer.objects.published().order_by("id"))


def _cases():
    return exports.case_rows(CourtCase.objects.published().order_by("slug"))


def _rulings():
    return exports.ruling_rows(CourtRuling.objects.published().order_by("id"))


def _sources():
    return exports.source_rows(Source.objects.cited_publicly().order_by("url"))


def _countries():
    from agreements.api import DATASETS

    return exports.country_rows(DATASETS["countries"].queryset().order_by("code"))


AGREEMENT_SOURCES = exports.Column(
    "sources",
    "list",
    pgettext_lazy(
        "data dictionary",
        "URLs of the sources on the agreement itself (its events' sources are in events). In "
        "releases only: the live download and the API do not have this column.",
    ),
    nullable=False,
)

TABLES = [
    Table(
        "agreements",
        "Agreements",
        pgettext_lazy("data dictionary", "Published transfer agreements and arrangements."),
        [*exports.AGREEMENT_COLUMNS, AGREEMENT_SOURCES],
        "slug",
        "agreement_count",
        _agreements,
        foreign_keys=(
            ("sending_country", "countries", "code"),
            ("receiving_country", "countries", "code"),
        ),
        dataset="agreements",
    ),
    Table(
        "events",
        "Timeline events",
        pgettext_lazy("data dictionary", "The dated timelines of the published agreements."),
        exports.EVENT_COLUMNS,
        "id",
        "event_count",
        _events,
        foreign_keys=(("agreement", "agreements", "slug"), ("court_case", "cases", "slug")),
    ),
    Table(
        "transfers",
        "Transfers",
        pgettext_lazy(
            "data dictionary",
            "Published transfers: movements of people from one country to another.",
        ),
        exports.TRANSFER_COLUMNS,
        "id",
        "transfer_count",
        _transfers,
        foreign_keys=(
            ("agreement", "agreements", "slug"),
            ("from_country", "countries", "code"),
            ("to_country", "countries", "code"),
        ),
        dataset="transfers",
    ),
    Table(
        "cases",
        "Court cases",
        pgettext_lazy("data dictionary", "Published court cases about the agreements."),
        exports.CASE_COLUMNS,
        "slug",
        "case_count",
        _cases,
        dataset="cases",
    ),
    Table(
        "rulings",
        "Court rulings",
        pgettext_lazy("data dictionary", "The dated rulings of the published court cases."),
        exports.RULING_COLUMNS,
        "id",
        "ruling_count",
        _rulings,
        foreign_keys=(("case", "cases", "slug"),),
    ),
    Table(
        "sources",
        "Sources",
        pgettext_lazy("data dictionary", "Every source cited by a published record."),
        exports.SOURCE_COLUMNS,
        "url",
        "source_count",
        _sources,
        site_paths=(),
        dataset="sources",
    ),
    Table(
        "countries",
        "Countries",
        pgettext_lazy(
            "data dictionary",
            "Countries with at least one published agreement or transfer, with their counts.",
        ),
        exports.COUNTRY_COLUMNS,
        "code",
        "country_count",
        _countries,
        dataset="countries",
    ),
]

# The dates that place the records in time (not the sources' publication dates, some of which
# are old laws and treaties): the release's coverage runs from the earliest to the latest.
COVERAGE_COLUMNS = {
    "agreements": ("announced", "signed", "in_force", "ended"),
    "events": ("date",),
    "transfers": ("date",),
    "cases": ("filed", "decided"),
    "rulings": ("date",),
}


# --- Table Schema (datapackage.json) ---------------------------------------------------------------

_PARTIAL_DATE = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


def field_descriptor(column, fmt="csv"):
    """A column as a Table Schema field. In the CSV files lists are "|"-joined strings; in the
    JSON files they are arrays."""
    descriptor = {"name": column.name, "description": exports.english(column.description)}
    kind = column.type
    if kind in ("list", "integer-list"):
        if fmt == "json":
            descriptor["type"] = "array"
        else:
            descriptor["type"] = "string"
            descriptor["description"] += ' Values are separated by "|".'
    elif kind == "partial-date":
        descriptor["type"] = "string"
        descriptor["constraints"] = {"pattern": _PARTIAL_DATE}
    elif kind == "boolean":
        descriptor["type"] = "boolean"
        descriptor["trueValues"] = ["True", "true"]
        descriptor["falseValues"] = ["False", "false"]
    else:
        descriptor["type"] = kind  # string, integer, number, date: the same names
    if column.enum:
        descriptor.setdefault("constraints", {})["enum"] = list(column.enum)
    return descriptor


def table_schema(table, fmt="csv"):
    schema = {
        "fields": [field_descriptor(column, fmt) for column in table.columns],
        "primaryKey": [table.key],
        # An empty CSV cell is null (exports.py); JSON has its own null.
        "missingValues": [""],
    }
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [column], "reference": {"resource": f"{other}-{fmt}", "fields": [key]}}
            for column, other, key in table.foreign_keys
        ]
    return schema


# --- building --------------------------------------------------------------------------------------


def row_text(row):
    """One row as the JSON file holds it: also what a record is compared by from one release
    to the next (a changed value anywhere in the row is a change)."""
    return json.dumps(row, ensure_ascii=False)


def _digest(text):
    return hashlib.sha256(text.encode()).digest()[:16]


@dataclass
class TableResult:
    count: int = 0
    digests: dict = field(default_factory=dict)  # key -> digest of the row
    earliest: str | None = None
    latest: str | None = None


def _write_table(table, folder: Path) -> TableResult:
    """Write table.csv and table.json from one pass over its rows."""
    result = TableResult()
    dated = COVERAGE_COLUMNS.get(table.name, ())
    names = [column.name for column in table.columns]
    with (
        open(folder / f"{table.name}.csv", "w", encoding="utf-8", newline="") as csv_file,
        open(folder / f"{table.name}.json", "w", encoding="utf-8") as json_file,
    ):
        writer = csv.writer(csv_file, lineterminator="\n")
        writer.writerow(names)
        json_file.write("[")
        for row in table.rows():
            for name in table.site_paths:
                if row[name] and row[name].startswith("/"):
                    row[name] = settings.SITE_URL + row[name]
            row = {name: row[name] for name in names}
            writer.writerow([exports._csv_cell(row[name]) for name in names])
            text = row_text(row)
            json_file.write(("," if result.count else "") + "\n" + text)
            result.count += 1
            result.digests[str(row[table.key])] = _digest(text)
            for name in dated:
                value = row[name]
                if value:
                    result.earliest = min(filter(None, (result.earliest, value)))
                    result.latest = max(filter(None, (result.latest, value)))
        json_file.write("\n]\n" if result.count else "]\n")
    return result


def _previous_digests(release, table):
    """{key: digest} of table's rows in an earlier release, read back from its zip."""
    with zipfile.ZipFile(release.path) as archive:
        name = f"{folder_name(release.version)}/{table.name}.json"
        if name not in archive.namelist():
            return {}  # a table the earlier release did not have: all its rows are new
        digests = {}
        with archive.open(name) as members:
            for line in io.TextIOWrapper(members, encoding="utf-8"):
                line = line.strip().removesuffix(",")
                if line in ("", "[", "]", "[]"):  # "[]": a table with no rows
                    continue
                row = json.loads(line)
                digests[str(row[table.key])] = _digest(row_text(row))
        return digests


def compare(previous: dict, current: dict) -> dict:
    """How many records were added, changed and withdrawn (gone: withdrawn, unpublished or
    deleted) between two {key: digest} maps."""
    kept = previous.keys() & current.keys()
    return {
        "added": len(current.keys() - previous.keys()),
        "changed": sum(1 for key in kept if previous[key] != current[key]),
        "withdrawn": len(previous.keys() - current.keys()),
    }


def _changes(previous, results):
    if previous is None:
        return None
    try:
        return {
            table.name: compare(_previous_digests(previous, table), results[table.name].digests)
            for table in TABLES
        }
    except (OSError, zipfile.BadZipFile, ValueError, KeyError) as error:
        # The earlier file is gone or damaged: say nothing rather than something wrong.
        logger.warning(
            "previous release unreadable", extra={"version": previous.version, "error": repr(error)}
        )
        return None


def folder_name(version):
    return f"transfer-tracker-{version}"


def next_version(day: datetime.date) -> str:
    """day's date, or <date>.2, .3, … when a release of that day exists (recorded, or left on
    disk by an earlier database: a file is never replaced)."""
    base = day.isoformat()
    taken = set(
        DataRelease.objects.filter(version__startswith=base).values_list("version", flat=True)
    )
    number = 1
    while True:
        version = base if number == 1 else f"{base}.{number}"
        release = DataRelease(version=version)
        if version not in taken and not release.path.exists():
            return version
        number += 1


@contextlib.contextmanager
def _snapshot():
    """One consistent view of the database for every table (REPEATABLE READ), so a record
    published or withdrawn while the release is written is in all its tables or in none."""
    outermost = not connection.in_atomic_block  # inside a test's transaction, it is not
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def make_release(now: datetime.datetime | None = None) -> DataRelease:
    """Build the next release, store its zip under RELEASES_DIR and record it."""
    now = now or timezone.now()
    directory = Path(settings.RELEASES_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    version = next_version(timezone.localdate(now))
    previous = DataRelease.objects.newest_first().first()

    work = Path(tempfile.mkdtemp(prefix=".building-", dir=directory))
    try:
        folder = work / folder_name(version)
        folder.mkdir()
        with _snapshot():
            results = {table.name: _write_table(table, folder) for table in TABLES}
        coverage = _coverage(results)
        changes = _changes(previous, results)
        _write_metadata(folder, version, now, results, coverage, changes, previous)
        zipped = work / "release.zip"
        _zip(folder, zipped, now)
        digest = _sha256(zipped)
        return _store(
            zipped,
            version=version,
            previous=previous,
            zip_size=zipped.stat().st_size,
            sha256=digest,
            coverage_from=coverage[0] or "",
            coverage_to=coverage[1] or "",
            changes=changes,
            **{table.count_field: results[table.name].count for table in TABLES},
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _store(zipped: Path, **fields) -> DataRelease:
    """Record the release and put its zip in place, both or neither. The file goes in with a
    hard link, which fails rather than replace a file already there."""
    release = DataRelease(**fields)
    linked = False
    try:
        with transaction.atomic():
            release.save()
            os.link(zipped, release.path)
            linked = True
    except FileExistsError:
        raise ReleaseError(
            f"{release.path} already exists: a release is never overwritten."
        ) from None
    except IntegrityError:
        if linked:
            release.path.unlink()
        raise ReleaseError(
            f"Release {release.version} was recorded meanwhile (another make_release?)."
        ) from None
    # Readable by everyone, writable by no one: the file people cite does not change.
    os.chmod(release.path, 0o444)
    return release


def _coverage(results):
    earliest = [result.earliest for result in results.values() if result.earliest]
    latest = [result.latest for result in results.values() if result.latest]
    return (min(earliest) if earliest else None, max(latest) if latest else None)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _zip(folder: Path, target: Path, now):
    stamp = timezone.localtime(now).timetuple()[:6]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            info = zipfile.ZipInfo(f"{folder.name}/{path.name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(path, "rb") as source, archive.open(info, "w") as member:
                shutil.copyfileobj(source, member, 1 << 20)


# --- the files beside the data ---------------------------------------------------------------------

CHECKSUMS = "SHA256SUMS"


def _write_metadata(folder, version, now, results, coverage, changes, previous):
    # The files are in English whatever language is active (a release made from a view, a
    # shell or a test): every text the descriptors take from the schemas is read in English.
    with translation.override(settings.LANGUAGE_CODE):
        _write_metadata_files(folder, version, now, results, coverage, changes, previous)


def _write_metadata_files(folder, version, now, results, coverage, changes, previous):
    (folder / "datapackage.json").write_text(
        json.dumps(datapackage(folder, version, now, coverage), indent=2, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    (folder / "README.md").write_text(
        readme(version, now, results, coverage, changes, previous), encoding="utf-8"
    )
    (folder / "CITATION.cff").write_text(citation_cff(version, now), encoding="utf-8")
    # Last: the checksums of every other file, in the format `sha256sum --check` reads.
    lines = [
        f"{_sha256(path)}  {path.name}\n"
        for path in sorted(folder.iterdir())
        if path.name != CHECKSUMS
    ]
    (folder / CHECKSUMS).write_text("".join(lines), encoding="utf-8")


def datapackage(folder, version, now, coverage):
    resources = []
    for table in TABLES:
        for fmt, mediatype in (("csv", "text/csv"), ("json", "application/json")):
            path = folder / f"{table.name}.{fmt}"
            resource = {
                "name": f"{table.name}-{fmt}",
                "title": f"{table.title} ({fmt.upper()})",
                "description": exports.english(table.description),
                "path": path.name,
                "profile": "tabular-data-resource",
                "format": fmt,
                "mediatype": mediatype,
                "encoding": "utf-8",
                "schema": table_schema(table, fmt),
            }
            if fmt == "csv":
                resource["dialect"] = {"delimiter": ",", "lineTerminator": "\n", "header": True}
                # Checked by validators. Frictionless cannot count a JSON file's bytes as it
                # parses it (it reports a mismatch), so the JSON files' are in SHA256SUMS only.
                resource["bytes"] = path.stat().st_size
                resource["hash"] = f"sha256:{_sha256(path)}"
            resources.append(resource)
    return {
        "profile": "tabular-data-package",
        "name": "transfer-tracker",
        "title": TITLE,
        "description": (
            "Every published record of the Transfer Tracker on the release date: agreements "
            "under which one state sends migrants or asylum seekers to another that is not "
            "their own, their dated timelines, the transfers made under them (with onward "
            "removals), the court cases about them and their rulings, the sources cited, and "
            f"the countries involved. Dates in the data run from {coverage[0] or '-'} to "
            f"{coverage[1] or '-'}."
        ),
        "version": version,
        "created": now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "homepage": f"{settings.SITE_URL}/data/",
        "licenses": [LICENCE],
        "contributors": [{"title": AUTHOR, "role": "author"}],
        "keywords": ["migration", "asylum", "third-country transfers", "deportation"],
        "resources": resources,
    }


def citation_text(version, now):
    return (
        f"{AUTHOR} ({timezone.localdate(now).year}). {TITLE}. Data release {version}. "
        f"{settings.SITE_URL}/data/releases/{version}.zip. Licensed under CC BY 4.0."
    )


def citation_cff(version, now):
    released = timezone.localdate(now).isoformat()
    return (
        "cff-version: 1.2.0\n"
        'message: "If you use this data, please cite it as below."\n'
        "type: dataset\n"
        f"title: {json.dumps(TITLE)}\n"
        f'version: "{version}"\n'
        f"date-released: {released}\n"
        "license: CC-BY-4.0\n"
        f'url: "{settings.SITE_URL}/data/"\n'
        f'repository-artifact: "{settings.SITE_URL}/data/releases/{version}.zip"\n'
        "authors:\n"
        f"  - name: {json.dumps(AUTHOR)}\n"
        "keywords:\n"
        "  - migration\n"
        "  - asylum\n"
        "  - third-country transfers\n"
    )


def readme(version, now, results, coverage, changes, previous):
    released = timezone.localdate(now).isoformat()
    files = "\n".join(
        f"| `{table.name}.csv`, `{table.name}.json` | {exports.english(table.description)} "
        f"| {results[table.name].count:,} |"
        for table in TABLES
    )
    if changes is None:
        changed = (
            "This is the first release."
            if previous is None
            else f"Not known: release {previous.version} could not be read."
        )
    else:
        lines = [
            f"- {name}: {counts['added']} added, {counts['changed']} changed, "
            f"{counts['withdrawn']} withdrawn"
            for name, counts in changes.items()
            if any(counts.values())
        ]
        changed = f"Since release {previous.version}:\n\n" + (
            "\n".join(lines) if lines else "- nothing changed"
        )
    return f"""# {TITLE}

Data release **{version}**, made on {released}.

- Coverage: the dates in the data run from **{coverage[0] or "-"}** to **{coverage[1] or "-"}**
  (agreements' dates, timeline events, transfers, court cases and rulings; dates are only as
  precise as they are known: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`). The release holds every
  record published on {released}.
- Licence: the data is licensed under the **Creative Commons Attribution 4.0 International
  licence (CC BY 4.0)**, {LICENCE["path"]}: you may share and adapt it for any purpose,
  provided you give credit (see "How to cite").
- This release never changes: {settings.SITE_URL}/data/releases/{version}.zip. Later releases
  and the live data: {settings.SITE_URL}/data/

## How to cite

> {citation_text(version, now)}

`CITATION.cff` holds the same citation for reference managers and GitHub. When you quote a
figure, cite the release you used: the live site changes as records are corrected.

## Files

| file | what it holds | records |
| --- | --- | --- |
{files}

- `datapackage.json`: the Frictionless Data Package descriptor: each file's fields, types,
  allowed values, keys and how the tables join.
- `SHA256SUMS`: the SHA-256 checksum of every other file; check them with
  `sha256sum --check SHA256SUMS`.

CSV files are UTF-8 with a header row, one record per `\\n`-ended line (quoted fields may
contain line breaks); lists are joined with `|`; an empty cell is null. A cell that begins with
`=`, `+`, `-` or `@` is written with an apostrophe in front, so spreadsheets do not run it as a
formula; remove it to get the text as recorded. The JSON files hold the same rows as arrays of
objects, with lists as arrays and the text as recorded. Addresses (`url`) are absolute. Every
record cites its sources (`sources`: the URLs, described in `sources.csv`).

Only published records are included: drafts, records in review and withdrawn records are not.

## What changed

{changed}

"Changed" counts records whose row differs in any field; "withdrawn" counts records that were
in the previous release and are no longer published.
"""
