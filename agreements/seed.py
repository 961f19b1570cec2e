"""Load the seed data in fixtures/seed/: sources.yaml (and any further source lists in
sources/*.yaml), one YAML file per agreement in agreements/, one per court case in cases/, and
onward.yaml: transfers that continue earlier ones (onward removals), and translations.yaml: the
records' texts in other languages.

Loading is all-or-nothing (one transaction; a bad reference rolls everything back) and
idempotent: records are matched by natural keys and a row is written only when a value differs.
Sources match by URL and agreements by slug. An event matches by agreement, date, kind and its
rank among that agreement's events with the same date and kind; a transfer by agreement, date
and rank; a case by slug, its ruling by case, date, kind and rank; an onward transfer (which
has no agreement of its own: it continues one made under an agreement) by date, countries and
rank. So a corrected description updates the row instead of adding a second one; a
correction of the key itself (an event's date or kind, a transfer's date) says which key the row
had, `replaces: {date: 2022-12}` (and `kind:` for an event), and the row is moved. Rows that
editors added are left alone; seeded values that editors changed are set back to the seed's.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agreements import publishing
from agreements.dates import DatePrecision, parse_partial_date
from agreements.models import (
    AGREEMENT_DATE_FIELDS,
    Agreement,
    AgreementEvent,
    Country,
    CourtCase,
    CourtRuling,
    EventKind,
    PublicationState,
    ReportedFigure,
    Source,
    Transfer,
)
from agreements.translations import TRANSLATED_FIELDS, translation_languages


class SeedError(Exception):
    """The seed files are inconsistent; nothing was written."""


@dataclass
class SeedStats:
    created: dict = field(default_factory=dict)
    updated: dict = field(default_factory=dict)

    def count(self, bucket: dict, model) -> None:
        name = model._meta.verbose_name_plural
        bucket[name] = bucket.get(name, 0) + 1

    def __str__(self):
        if not self.created and not self.updated:
            return "Seed data already up to date: nothing changed."
        parts = [f"created {n} {name}" for name, n in sorted(self.created.items())]
        parts += [f"updated {n} {name}" for name, n in sorted(self.updated.items())]
        return "Seed data loaded: " + ", ".join(parts) + "."


def _partial(value, where: str):
    if value in (None, ""):
        return None, DatePrecision.DAY
    try:
        return parse_partial_date(str(value))
    except ValueError as exc:
        raise SeedError(f"{where}: {exc}") from None


def _upsert(model, stats: SeedStats, lookup: dict, values: dict, rank: int = 0):
    """Create, or update only the fields that differ; return the instance.

    rank picks the n-th existing row (by id) when the lookup is not unique.
    """
    instance = model.objects.filter(**lookup).order_by("pk")[rank : rank + 1].first()
    if instance is None:
        instance = model(**lookup, **values)
        _validate(instance)
        instance.save()
        stats.count(stats.created, model)
        instance._seed_created = True
        return instance
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        if hasattr(instance, "version"):
            instance.version += 1  # an editor's form opened before this load is now stale
        _validate(instance)
        instance.save()
        stats.count(stats.updated, model)
    return instance


def _move_replaced(model, stats, lookup: dict, values: dict, replaces, old_lookup) -> None:
    """A correction that changes a row's natural key (an event's date or kind, a transfer's
    date) says which key the row had (`replaces:` in the file). The row stored under the old key
    is moved to the new one, so a database loaded before the correction ends with the corrected
    row in its place, not beside the wrong one; its history and links stay with it."""
    if not replaces or model.objects.filter(**lookup).exists():
        return  # nothing to correct, or already corrected (or a fresh database)
    row = model.objects.filter(**old_lookup).order_by("pk").first()
    if row is None:
        return
    for name, value in {**lookup, **values}.items():  # the key and its date's precision together
        setattr(row, name, value)
    if hasattr(row, "version"):
        row.version += 1
    row.save()
    stats.count(stats.updated, model)


def _replaced_date(replaces, where):
    if "date" not in replaces:
        raise SeedError(f"{where}: replaces needs the date the row had")
    return _partial(replaces["date"], f"{where} replaces")[0]


def _validate(instance) -> None:
    # Constraints are left to the database (one query each here would slow loading tenfold);
    # a violation raises IntegrityError, which load_seed reports, and the transaction rolls back.
    try:
        instance.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise SeedError(f"{instance._meta.verbose_name} {instance}: {exc.messages}") from None


def _set_m2m(instance, name: str, wanted: list, stats: SeedStats) -> None:
    manager = getattr(instance, name)
    if {obj.pk for obj in manager.all()} != {obj.pk for obj in wanted}:
        manager.set(wanted)
        if not getattr(instance, "_seed_created", False):
            stats.count(stats.updated, type(instance))


@dataclass
class SeedFiles:
    sources: list
    agreements: list
    cases: list
    onward: list
    translations: dict


def read_seed(directory: Path) -> SeedFiles:
    try:
        sources = []
        for path in [directory / "sources.yaml", *sorted((directory / "sources").glob("*.yaml"))]:
            sources += [
                row | {"_file": path.name} for row in yaml.safe_load(path.read_text()) or []
            ]
        agreements = [
            yaml.safe_load(path.read_text()) | {"_file": path.name}
            for path in sorted((directory / "agreements").glob("*.yaml"))
        ]
        cases = [
            yaml.safe_load(path.read_text()) | {"_file": f"cases/{path.name}"}
            for path in sorted((directory / "cases").glob("*.yaml"))
        ]
        onward_path = directory / "onward.yaml"
        onward = yaml.safe_load(onward_path.read_text()) or [] if onward_path.exists() else []
        translations_path = directory / "translations.yaml"
        translations = (
            yaml.safe_load(translations_path.read_text()) or {}
            if translations_path.exists()
            else {}
        )
    except (OSError, yaml.YAMLError) as exc:
        raise SeedError(f"cannot read seed files in {directory}: {exc}") from None
    if not agreements:
        raise SeedError(f"no agreement files in {directory / 'agreements'}")
    keys = Counter(row.get("key") for row in sources)
    repeated = sorted(str(key) for key, n in keys.items() if n > 1)
    if repeated:
        raise SeedError(f"source keys defined more than once: {repeated}")
    return SeedFiles(sources, agreements, cases, onward, translations)


def load_seed(directory: Path) -> SeedStats:
    files = read_seed(directory)
    stats = SeedStats()
    countries = {country.code: country for country in Country.objects.all()}

    def country(code, where):
        try:
            return countries[code]
        except KeyError:
            raise SeedError(f"{where}: unknown country code {code!r}") from None

    try:
        with transaction.atomic():
            _load(files, stats, country)
            # The onward-removal trigger is deferred to the commit: run it here, inside.
            publishing.check_onward_links()
    except publishing.Refused as refused:
        raise SeedError(f"onward.yaml: {refused.message}") from None
    except IntegrityError as exc:
        raise SeedError(f"the database refused a row: {exc}") from None
    return stats


def _load(files, stats, country):
    sources = {}
    for row in files.sources:
        where = f"{row['_file']} {row.get('key')}"
        published_on, published_precision = _partial(row.get("published"), where)
        sources[row["key"]] = _upsert(
            Source,
            stats,
            {"url": row["url"]},
            {
                "title": row["title"],
                "publisher": row.get("publisher") or "",
                "published_on": published_on,
                "published_precision": published_precision,
                "kind": row.get("kind") or "news",
                "archive_url": row.get("archive_url") or "",
            },
        )

    def cited(keys, where):
        missing = [key for key in keys if key not in sources]
        if missing:
            raise SeedError(f"{where}: unknown source keys {missing}")
        return [sources[key] for key in keys]

    for data in files.agreements:
        _load_agreement(data, stats, country, cited)
    for data in files.cases:
        _load_case(data, stats, country, cited)
    for number, data in enumerate(files.onward, start=1):
        _load_onward(data, f"onward.yaml transfer {number}", stats, country, cited)
    _load_translations(files.translations, stats)


def _load_agreement(data: dict, stats: SeedStats, country, cited) -> None:
    where = data["_file"]
    values = {
        "title": data["title"],
        "sending_country": country(data["sending_country"], where),
        "receiving_country": country(data["receiving_country"], where),
        "kind": data["kind"],
        "status": data["status"],
        "legal_bindingness": data.get("legal_bindingness") or "unclear",
        "text_disclosure": data.get("text_disclosure") or "undisclosed",
        "text_url": data.get("text_url") or "",
        "summary": (data.get("summary") or "").strip(),
        "compensation_amount": (
            None
            if data.get("compensation_amount") is None
            else Decimal(str(data["compensation_amount"]))
        ),
        "compensation_currency": data.get("compensation_currency") or "",
        "compensation_notes": (data.get("compensation_notes") or "").strip(),
        "cap": data.get("cap"),
        "eligible_populations": (data.get("eligible_populations") or "").strip(),
        "publication_state": PublicationState.PUBLISHED,
    }
    for name in AGREEMENT_DATE_FIELDS:
        values[f"{name}_on"], values[f"{name}_precision"] = _partial(
            data.get(name), f"{where} {name}"
        )
    agreement = _upsert(Agreement, stats, {"slug": data["slug"]}, values)

    event_ranks = Counter()
    for number, event in enumerate(data.get("events") or [], start=1):
        event_where = f"{where} event {number}"
        date, precision = _partial(event["date"], event_where)
        event_sources = cited(event.get("sources") or [], event_where)
        key = (date, event["kind"])
        lookup = {"agreement": agreement, "date": date, "kind": event["kind"]}
        values = {"description": event["description"].strip(), "date_precision": precision}
        replaces = event.get("replaces")
        if replaces:
            old_lookup = {
                "agreement": agreement,
                "date": _replaced_date(replaces, event_where),
                "kind": replaces.get("kind", event["kind"]),
            }
            _move_replaced(AgreementEvent, stats, lookup, values, replaces, old_lookup)
        row = _upsert(AgreementEvent, stats, lookup, values, rank=event_ranks[key])
        event_ranks[key] += 1
        _set_m2m(row, "sources", event_sources, stats)

    transfer_ranks = Counter()
    for number, item in enumerate(data.get("transfers") or [], start=1):
        transfer_where = f"{where} transfer {number}"
        date, precision = _partial(item["date"], transfer_where)
        transfer_sources = cited(item.get("sources") or [], transfer_where)
        lookup = {"agreement": agreement, "date": date}
        values = {
            "description": item["description"].strip(),
            "date_precision": precision,
            "from_country": country(
                item.get("from_country") or data["sending_country"], transfer_where
            ),
            "to_country": country(
                item.get("to_country") or data["receiving_country"], transfer_where
            ),
            "people": item.get("people"),
            "people_is_minimum": bool(item.get("people_is_minimum")),
            "place": item.get("place") or "",
            "publication_state": PublicationState.PUBLISHED,
        }
        replaces = item.get("replaces")
        if replaces:
            old_lookup = {"agreement": agreement, "date": _replaced_date(replaces, transfer_where)}
            _move_replaced(Transfer, stats, lookup, values, replaces, old_lookup)
        row = _upsert(Transfer, stats, lookup, values, rank=transfer_ranks[date])
        transfer_ranks[date] += 1
        _set_m2m(
            row,
            "nationalities",
            [country(code, transfer_where) for code in item.get("nationalities") or []],
            stats,
        )
        _set_m2m(row, "sources", transfer_sources, stats)
        for figure in item.get("reported_figures") or []:
            figure_where = f"{transfer_where} figure"
            _upsert(
                ReportedFigure,
                stats,
                {
                    "transfer": row,
                    "source": cited([figure["source"]], figure_where)[0],
                    "people": figure["people"],
                },
                {
                    "people_is_minimum": bool(figure.get("people_is_minimum")),
                    "note": figure.get("note") or "",
                },
            )
    # The seed publishes what it loads: the same source rule as every other path to publication.
    problems = publishing.blockers(agreement) + [
        problem
        for transfer in agreement.transfers.all()
        for problem in publishing.blockers(transfer)
    ]
    if problems:
        raise SeedError(f"{where}: " + " ".join(problems))


def _agreement(slug, where):
    try:
        return Agreement.objects.get(slug=slug)
    except Agreement.DoesNotExist:
        raise SeedError(f"{where}: unknown agreement {slug!r}") from None


def _load_case(data: dict, stats: SeedStats, country, cited) -> None:
    where = data["_file"]
    filed_on, filed_precision = _partial(data.get("filed"), f"{where} filed")
    decided_on, decided_precision = _partial(data.get("decided"), f"{where} decided")
    jurisdiction = data.get("jurisdiction")
    values = {
        "name": data["name"],
        "court": data["court"],
        "jurisdiction": country(jurisdiction, where) if jurisdiction else None,
        "docket": data.get("docket") or "",
        "citation": data.get("citation") or "",
        "filed_on": filed_on,
        "filed_precision": filed_precision,
        "decided_on": decided_on,
        "decided_precision": decided_precision,
        "stage": data["stage"],
        "outcome": (data.get("outcome") or "").strip(),
        "summary": (data.get("summary") or "").strip(),
        "judgment_url": data.get("judgment_url") or "",
        "publication_state": PublicationState.PUBLISHED,
    }
    case = _upsert(CourtCase, stats, {"slug": data["slug"]}, values)
    _set_m2m(case, "sources", cited(data.get("sources") or [], where), stats)
    _set_m2m(
        case,
        "agreements",
        [_agreement(slug, where) for slug in data.get("agreements") or []],
        stats,
    )
    ranks = Counter()
    for number, ruling in enumerate(data.get("rulings") or [], start=1):
        ruling_where = f"{where} ruling {number}"
        date, precision = _partial(ruling["date"], ruling_where)
        key = (date, ruling["kind"])
        row = _upsert(
            CourtRuling,
            stats,
            {"case": case, "date": date, "kind": ruling["kind"]},
            {
                "date_precision": precision,
                "court": ruling.get("court") or "",
                "description": ruling["description"].strip(),
            },
            rank=ranks[key],
        )
        ranks[key] += 1
        _set_m2m(row, "sources", cited(ruling.get("sources") or [], ruling_where), stats)
    for item in data.get("timeline") or []:
        item_where = f"{where} timeline {item}"
        date = _partial(item["date"], item_where)[0]
        events = AgreementEvent.objects.filter(
            agreement=_agreement(item["agreement"], item_where),
            date=date,
            kind=EventKind.COURT_RULING,
        ).order_by("pk")
        event = events[item.get("rank", 0) : item.get("rank", 0) + 1].first()
        if event is None:
            raise SeedError(f"{item_where}: no court ruling of that date in the agreement's file")
        if event.court_case_id not in (None, case.pk):
            raise SeedError(f"{item_where}: that ruling is already linked to another case")
        if event.court_case_id != case.pk:
            event.court_case = case
            event.save(update_fields=["court_case"])
            stats.count(stats.updated, AgreementEvent)
    problems = publishing.blockers(case)
    if problems:
        raise SeedError(f"{where}: " + " ".join(problems))


def _continued(reference, where):
    """The seeded transfer an onward one continues: {agreement, date, rank?}."""
    date = _partial(reference["date"], where)[0]
    rank = reference.get("rank", 0)
    transfers = Transfer.objects.filter(
        agreement=_agreement(reference["agreement"], where), date=date
    ).order_by("pk")
    transfer = transfers[rank : rank + 1].first()
    if transfer is None:
        raise SeedError(f"{where}: no transfer of {reference['date']} in {reference['agreement']}")
    return transfer


def _load_onward(item: dict, where: str, stats: SeedStats, country, cited) -> None:
    date, precision = _partial(item["date"], where)
    earlier = [_continued(reference, where) for reference in item.get("continues") or []]
    if not earlier:
        raise SeedError(f"{where}: an onward transfer names the transfer(s) it continues")
    from_country = country(item["from_country"], where)
    to_country = country(item["to_country"], where)
    lookup = {
        "agreement": None,
        "date": date,
        "from_country": from_country,
        "to_country": to_country,
    }
    values = {
        "date_precision": precision,
        "description": item["description"].strip(),
        "people": item.get("people"),
        "people_is_minimum": bool(item.get("people_is_minimum")),
        "place": item.get("place") or "",
        "publication_state": PublicationState.PUBLISHED,
    }
    row = _upsert(Transfer, stats, lookup, values, rank=item.get("rank", 0))
    problems = row.onward_problems(earlier)
    if problems:
        raise SeedError(f"{where}: " + " ".join(problems))
    _set_m2m(
        row,
        "nationalities",
        [country(code, where) for code in item.get("nationalities") or []],
        stats,
    )
    _set_m2m(row, "sources", cited(item.get("sources") or [], where), stats)
    _set_m2m(row, "continues", earlier, stats)
    problems = publishing.blockers(row)
    if problems:
        raise SeedError(f"{where}: " + " ".join(problems))


def _translated_values(model_name: str, texts: dict, where: str) -> dict:
    """{"es": {"title": …}} -> {"title_es": …}, refusing a language or field that has none."""
    languages, fields = translation_languages(), TRANSLATED_FIELDS[model_name]
    values = {}
    for code, by_field in texts.items():
        if code not in languages:
            raise SeedError(f"{where}: no translations into {code!r} (languages: {languages})")
        for name, text in by_field.items():
            if name not in fields:
                raise SeedError(f"{where}: {name!r} has no translations (only {fields})")
            values[f"{name}_{code}"] = (text or "").strip()
    return values


def _load_translations(data: dict, stats: SeedStats) -> None:
    """translations.yaml: the seeded records' texts in other languages (agreements/translations.py).
    Agreements by slug; events by agreement, date, kind (and rank, as in the agreement files)."""
    where = "translations.yaml"
    for slug, texts in (data.get("agreements") or {}).items():
        agreement = _agreement(slug, f"{where} {slug}")
        values = _translated_values("agreement", texts, f"{where} {slug}")
        _upsert(Agreement, stats, {"pk": agreement.pk}, values)
    for slug, events in (data.get("events") or {}).items():
        agreement = _agreement(slug, f"{where} {slug}")
        for number, item in enumerate(events, start=1):
            event_where = f"{where} {slug} event {number}"
            date, _precision = _partial(item.get("date"), event_where)
            matches = AgreementEvent.objects.filter(
                agreement=agreement, date=date, kind=item.get("kind")
            ).order_by("pk")
            event = matches[item.get("rank", 0) :].first()
            if event is None:
                raise SeedError(f"{event_where}: no {item.get('kind')} event on {item.get('date')}")
            texts = {
                code: {"description": item[code]}
                for code in translation_languages()
                if code in item
            }
            unknown = set(item) - {"date", "kind", "rank", *translation_languages()}
            if unknown:
                raise SeedError(f"{event_where}: unknown keys {sorted(unknown)}")
            values = _translated_values("agreementevent", texts, event_where)
            _upsert(AgreementEvent, stats, {"pk": event.pk}, values)
