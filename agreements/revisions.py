"""A record's content as data: taken from the database, from a form, from a history version;
compared field by field; written back.

A *content snapshot* is what a proposed revision stores (ProposedRevision.data) and what a
publisher reviews. It is everything an editor can change about a record, its parts included:

    agreement  {"fields": {...}, "sources": [ids], "events": [{"id", "fields", "sources"}]}
    transfer   {"fields": {...}, "sources": [ids], "nationalities": [ids],
                "figures": [{"id", "fields"}]}
    source     {"fields": {...}}
    court case {"fields": {...}, "sources": [ids], "agreements": [ids],
                "rulings": [{"id", "fields", "sources"}]}

A transfer's snapshot also holds "continues": the ids of the transfers it continues (an onward
removal).

It never holds the publication state, the version or the withdrawal: those change only through
the actions of agreements/publishing.py. Values are JSON (ids for foreign keys, ISO dates,
decimals as strings); an event or figure with "id": null is new.
"""

import datetime
import decimal
from dataclasses import dataclass

from django.db import models

from agreements.models import (
    Agreement,
    AgreementEvent,
    Country,
    CourtCase,
    CourtRuling,
    ReportedFigure,
    Source,
    Transfer,
)

# Never part of a record's content: the state machine and bookkeeping own these.
NOT_CONTENT = {
    "id",
    "publication_state",
    "withdrawn_at",
    "withdrawal_reason",
    "version",
    "created_at",
    "updated_at",
}
# Content that no reader sees: a change of these alone needs no review.
PRIVATE = {"internal_notes"}
# The part's link to its record is implied by where it sits in the snapshot.
PARENT_LINKS = {AgreementEvent: "agreement", ReportedFigure: "transfer", CourtRuling: "case"}


def content_fields(model):
    parent = PARENT_LINKS.get(model)
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in NOT_CONTENT and field.name != parent
    ]


def _dump(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _fields_of(model, obj):
    return {field.attname: _dump(getattr(obj, field.attname)) for field in content_fields(model)}


def snapshot_fields(record):
    """The fields part of a snapshot, from an instance as it stands in memory."""
    return _fields_of(type(record), record)


def _ids(related):
    return sorted(related)


# --- snapshots -----------------------------------------------------------------------------------


def snapshot(record):
    """The live content of record, as stored now."""
    model = type(record)
    data = {"fields": _fields_of(model, record)}
    if model is Source:
        return data
    data["sources"] = _ids(record.sources.values_list("pk", flat=True))
    if model is Agreement:
        data["events"] = [
            _event(event, (source.pk for source in event.sources.all()))
            for event in record.events.order_by("date", "id").prefetch_related("sources")
        ]
    elif model is Transfer:
        data["nationalities"] = _ids(record.nationalities.values_list("pk", flat=True))
        data["continues"] = _ids(record.continues.values_list("pk", flat=True))
        data["figures"] = [_figure(figure) for figure in record.reported_figures.order_by("id")]
    elif model is CourtCase:
        data["agreements"] = _ids(record.agreements.values_list("pk", flat=True))
        data["rulings"] = [
            _event(ruling, (source.pk for source in ruling.sources.all()), CourtRuling)
            for ruling in record.rulings.order_by("date", "id").prefetch_related("sources")
        ]
    return data


def _event(event, source_ids, model=AgreementEvent):
    """A dated part with its own sources: an agreement's event or a case's ruling."""
    return {
        "id": event.pk,
        "fields": _fields_of(model, event),
        "sources": _ids(source_ids),
    }


def _figure(figure):
    return {"id": figure.pk, "fields": _fields_of(ReportedFigure, figure)}


def snapshot_from_forms(record, form, inline_formsets=()):
    """The content an admin form (and its inlines) would save, without saving anything: the
    proposal an editor's change of a published record becomes."""
    model = type(record)
    data = {"fields": _fields_of(model, form.instance)}
    if model is Source:
        return data
    data["sources"] = _ids(source.pk for source in form.cleaned_data.get("sources", []))
    if model is Transfer:
        data["nationalities"] = _ids(c.pk for c in form.cleaned_data.get("nationalities", []))
        data["continues"] = _ids(t.pk for t in form.cleaned_data.get("continues", []))
    if model is CourtCase:
        data["agreements"] = _ids(a.pk for a in form.cleaned_data.get("agreements", []))
    parts = {AgreementEvent: "events", ReportedFigure: "figures", CourtRuling: "rulings"}
    for formset in inline_formsets:
        key = parts.get(formset.model)
        if key is None:
            continue
        rows = []
        for part_form in formset.forms:
            if not part_form.has_changed() and part_form.instance.pk is None:
                continue  # an empty extra form
            if formset.can_delete and formset._should_delete_form(part_form):
                continue
            if key in ("events", "rulings"):
                sources = part_form.cleaned_data.get("sources", [])
                rows.append(
                    _event(part_form.instance, (source.pk for source in sources), formset.model)
                )
            else:
                rows.append(_figure(part_form.instance))
        data[key] = rows
    base = snapshot(record)
    for key in parts.values():  # an inline the form did not show keeps its live rows
        if key in base and key not in data:
            data[key] = base[key]
    return data


def snapshot_from_history(record, version):
    """The content record had in the history row `version` (django-simple-history), parts
    included: the agreement's events and the transfer's reported figures as they were then."""
    model = type(record)
    data = {"fields": _fields_of(model, version)}
    if model is Source:
        return data
    data["sources"] = _ids(row.source_id for row in version.sources.all())
    if model is Agreement:
        data["events"] = [
            _event(event, (row.source_id for row in event.sources.all()))
            for event in _parts_as_of(AgreementEvent, "agreement_id", record.pk, version)
        ]
    elif model is CourtCase:
        data["agreements"] = _ids(row.agreement_id for row in version.agreements.all())
        data["rulings"] = [
            _event(ruling, (row.source_id for row in ruling.sources.all()), CourtRuling)
            for ruling in _parts_as_of(CourtRuling, "case_id", record.pk, version)
        ]
    elif model is Transfer:
        data["nationalities"] = _ids(row.country_id for row in version.nationalities.all())
        data["continues"] = _ids(row.to_transfer_id for row in version.continues.all())
        data["figures"] = [
            _figure(figure)
            for figure in _parts_as_of(ReportedFigure, "transfer_id", record.pk, version)
        ]
    return data


def _parts_as_of(model, parent_attname, parent_id, version):
    """History rows of model's parts of the parent as they stood in that version.

    A save writes the record first and its parts after it (the admin saves inlines last), so a
    version's parts are those standing just before the record's next version (or now)."""
    later = (
        type(version)
        .objects.filter(id=version.id, history_date__gt=version.history_date)
        .order_by("history_date", "history_id")
        .values_list("history_date", flat=True)
        .first()
    )
    ever = model.history.filter(**{parent_attname: parent_id}).values("id")
    rows = model.history.filter(id__in=ever)
    if later is not None:
        rows = rows.filter(history_date__lt=later)
    rows = rows.order_by("id", "-history_date", "-history_id").distinct("id")
    kept = [
        row for row in rows if row.history_type != "-" and getattr(row, parent_attname) == parent_id
    ]
    return sorted(kept, key=lambda row: (getattr(row, "date", None) or datetime.date.min, row.id))


# --- writing -------------------------------------------------------------------------------------


def _set_fields(model, obj, fields):
    for field in content_fields(model):
        if field.attname in fields:
            setattr(obj, field.attname, field.to_python(fields[field.attname]))


def write(record, data):
    """Make record's stored content equal to data (record and parts saved, with history).
    The caller (agreements.publishing) decides whether this user may, and holds the lock."""
    model = type(record)
    _set_fields(model, record, data["fields"])
    record.full_clean()
    record.save()
    if model is Source:
        return
    record.sources.set(data.get("sources", []))
    if model is Agreement:
        _write_parts(
            AgreementEvent,
            record.events.all(),
            data.get("events", []),
            lambda event: setattr(event, "agreement", record),
            lambda event, row: event.sources.set(row.get("sources", [])),
        )
    elif model is CourtCase:
        record.agreements.set(data.get("agreements", []))
        _write_parts(
            CourtRuling,
            record.rulings.all(),
            data.get("rulings", []),
            lambda ruling: setattr(ruling, "case", record),
            lambda ruling, row: ruling.sources.set(row.get("sources", [])),
        )
    elif model is Transfer:
        record.nationalities.set(data.get("nationalities", []))
        record.continues.set(data.get("continues", []))
        _write_parts(
            ReportedFigure,
            record.reported_figures.all(),
            data.get("figures", []),
            lambda figure: setattr(figure, "transfer", record),
        )


def _write_parts(model, existing, rows, attach, after_save=None):
    current = {part.pk: part for part in existing}
    keep = set()
    for row in rows:
        part = current.get(row.get("id")) or model()
        _set_fields(model, part, row["fields"])
        attach(part)
        part.full_clean()
        part.save()
        keep.add(part.pk)
        if after_save:
            after_save(part, row)
    for pk, part in current.items():
        if pk not in keep:
            part.delete()


# --- comparing ------------------------------------------------------------------------------------


@dataclass
class Difference:
    where: str  # "Agreement", "Event: Signed, 2025-03-01", "Reported figure 261", ...
    label: str
    old: str
    new: str


def differences(model, before, after):
    """Field-by-field differences between two snapshots of a model's record, parts included."""
    names = _Names(before, after)
    found = _field_differences(model, model._meta.verbose_name.capitalize(), before, after, names)
    for key in SETS:
        if key in before or key in after:
            found += _set_difference(key, before.get(key, []), after.get(key, []), key, names)
    for key, (part_model, noun) in DATED_PARTS.items():
        if key in before or key in after:
            found += _part_differences(
                part_model, noun, before.get(key, []), after.get(key, []), names
            )
    if "figures" in before or "figures" in after:
        found += _part_differences(
            ReportedFigure,
            "Reported figure",
            before.get("figures", []),
            after.get("figures", []),
            names,
        )
    return found


# The id sets a snapshot may hold, and the dated parts with sources of their own.
SETS = ("sources", "nationalities", "agreements", "continues")
DATED_PARTS = {"events": (AgreementEvent, "Event"), "rulings": (CourtRuling, "Ruling")}


def only_private_changes(model, before, after):
    """True when the snapshots differ, if at all, only in fields no reader sees."""
    return not differences(model, _public_part(before), _public_part(after))


def _public_part(data):
    """data without the private fields of the record and of its parts."""

    def strip(part):
        fields = {
            name: value for name, value in part.get("fields", {}).items() if name not in PRIVATE
        }
        return {**part, "fields": fields}

    public = strip(data)
    for key in ("events", "figures", "rulings"):
        if key in data:
            public[key] = [strip(part) for part in data[key]]
    return public


def _field_differences(model, where, before, after, names):
    found = []
    old_fields, new_fields = before.get("fields", {}), after.get("fields", {})
    for field in content_fields(model):
        old, new = old_fields.get(field.attname), new_fields.get(field.attname)
        if _normal(field, old) != _normal(field, new):
            found.append(
                Difference(
                    where,
                    str(field.verbose_name),
                    names.shown(field, old),
                    names.shown(field, new),
                )
            )
    return found


def _normal(field, value):
    if value in (None, ""):
        return None
    try:
        return field.to_python(value)
    except Exception:  # noqa: BLE001 - compare a malformed stored value as it is
        return value


def _set_difference(label, old_ids, new_ids, key, names):
    removed = sorted(set(old_ids) - set(new_ids))
    added = sorted(set(new_ids) - set(old_ids))
    if not removed and not added:
        return []
    lookup = {
        "sources": names.sources,
        "nationalities": names.countries,
        "agreements": names.agreements,
        "continues": names.transfers,
    }[key]

    def listed(prefix, ids):
        return f"{prefix}: " + "; ".join(lookup.get(pk, f"#{pk}") for pk in ids) if ids else ""

    where = "Continues transfers" if key == "continues" else key.capitalize()
    return [Difference(where, label, listed("removed", removed), listed("added", added))]


def _part_differences(model, noun, old_rows, new_rows, names):
    found = []
    old_by_id = {row["id"]: row for row in old_rows if row.get("id")}
    matched = set()
    for row in new_rows:
        where = f"{noun}: {_part_title(model, row, names)}"
        previous = old_by_id.get(row.get("id"))
        if previous is None:
            found.append(Difference(where, "added", "", _part_summary(model, row, names)))
            continue
        matched.add(previous["id"])
        found += _field_differences(model, where, previous, row, names)
        if "sources" in row or "sources" in previous:
            for difference in _set_difference(
                "sources", previous.get("sources", []), row.get("sources", []), "sources", names
            ):
                difference.where = where
                found.append(difference)
    for pk, row in old_by_id.items():
        if pk not in matched:
            where = f"{noun}: {_part_title(model, row, names)}"
            found.append(Difference(where, "removed", _part_summary(model, row, names), ""))
    return found


def _part_title(model, row, names):
    fields = row["fields"]
    if model in (AgreementEvent, CourtRuling):
        kind = dict(model._meta.get_field("kind").flatchoices).get(fields.get("kind"))
        return f"{kind or fields.get('kind')}, {fields.get('date')}"
    return f"{fields.get('people')} ({names.sources.get(fields.get('source_id'), '?')})"


def _part_summary(model, row, names):
    fields = row["fields"]
    if model in (AgreementEvent, CourtRuling):
        return fields.get("description") or ""
    return names.sources.get(fields.get("source_id"), "")


class _Names:
    """Readable names for the ids in two snapshots, looked up once."""

    def __init__(self, *snapshots):
        country_ids, source_ids, agreement_ids, transfer_ids, case_ids = (set() for _ in range(5))
        for data in snapshots:
            parts = [data, *data.get("events", []), *data.get("figures", [])]
            for part in parts + data.get("rulings", []):
                fields = part.get("fields", {})
                country_ids.update(
                    fields.get(name)
                    for name in (
                        "sending_country_id",
                        "receiving_country_id",
                        "from_country_id",
                        "to_country_id",
                        "jurisdiction_id",
                    )
                    if fields.get(name)
                )
                if fields.get("source_id"):
                    source_ids.add(fields["source_id"])
                if fields.get("agreement_id"):
                    agreement_ids.add(fields["agreement_id"])
                if fields.get("court_case_id"):
                    case_ids.add(fields["court_case_id"])
                source_ids.update(part.get("sources", []))
            country_ids.update(data.get("nationalities", []))
            agreement_ids.update(data.get("agreements", []))
            transfer_ids.update(data.get("continues", []))
        self.countries = dict(Country.objects.filter(pk__in=country_ids).values_list("pk", "name"))
        self.sources = {
            source.pk: str(source) for source in Source.objects.filter(pk__in=source_ids)
        }
        self.agreements = dict(
            Agreement.objects.filter(pk__in=agreement_ids).values_list("pk", "title")
        )
        self.cases = dict(CourtCase.objects.filter(pk__in=case_ids).values_list("pk", "name"))
        self.transfers = {
            transfer.pk: str(transfer)
            for transfer in Transfer.objects.filter(pk__in=transfer_ids).select_related(
                "from_country", "to_country"
            )
        }

    def shown(self, field, value):
        if value in (None, ""):
            return "–"
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, models.ForeignKey):
            lookup = {
                Country: self.countries,
                Source: self.sources,
                Agreement: self.agreements,
                CourtCase: self.cases,
            }
            return lookup.get(field.related_model, {}).get(value, f"#{value}")
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)
