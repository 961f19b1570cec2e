"""The public change log: what changed in published records, and when.

Built from the django-simple-history tables. Only changes made while a record was published
are listed, and only for records that are published now or were withdrawn after publication
(agreements.tombstones): a withdrawn record keeps its earlier public entries, followed by a
"Withdrawn" entry with the Publisher's public reason, and nothing changed after it. A record
returned to draft leaves the log. Editors' identities, internal notes and the sources' history
stay private. A page of entries costs a fixed number of queries: one union query for the page
and three per record type for the rows, their predecessors and the current records.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, CharField, F, OuterRef, Q, Subquery, Value, When
from django.utils.translation import get_language_info, pgettext_lazy

from agreements.dates import format_partial_date
from agreements.models import Agreement, AgreementEvent, CourtCase, PublicationState, Transfer
from agreements.translations import translation_languages

PUBLISHED = PublicationState.PUBLISHED
WITHDRAWN = PublicationState.WITHDRAWN
# Never shown publicly, and not counted as a change.
PRIVATE_FIELDS = {"internal_notes", "history_user", "history_change_reason"}
# Fields whose old and new values are short enough to show; long texts just say "edited".
SHOWN_VALUES = {
    "status", "kind", "legal_bindingness", "text_disclosure", "cap", "people",
    "people_is_minimum", "compensation_amount", "compensation_currency", "date",
    "announced_on", "signed_on", "in_force_on", "ended_on", "title", "place",
    "name", "court", "stage", "filed_on", "decided_on", "docket", "citation",
}  # fmt: skip


# The public fields' names as the change log shows them, in the page's language (the models'
# verbose names are the editors', in English).
FIELD_LABELS = {
    "publication_state": pgettext_lazy("field of a record", "publication state"),
    "title": pgettext_lazy("field of a record", "title"),
    "slug": pgettext_lazy("field of a record", "slug"),
    "sending_country": pgettext_lazy("field of a record", "sending country"),
    "receiving_country": pgettext_lazy("field of a record", "receiving country"),
    "kind": pgettext_lazy("field of a record", "kind"),
    "legal_bindingness": pgettext_lazy("field of a record", "legal bindingness"),
    "text_disclosure": pgettext_lazy("field of a record", "text disclosure"),
    "status": pgettext_lazy("field of a record", "status"),
    "announced_on": pgettext_lazy("field of a record", "announced on"),
    "announced_precision": pgettext_lazy("field of a record", "announced precision"),
    "signed_on": pgettext_lazy("field of a record", "signed on"),
    "signed_precision": pgettext_lazy("field of a record", "signed precision"),
    "in_force_on": pgettext_lazy("field of a record", "in force from"),
    "in_force_precision": pgettext_lazy("field of a record", "in force precision"),
    "ended_on": pgettext_lazy("field of a record", "ended on"),
    "ended_precision": pgettext_lazy("field of a record", "ended precision"),
    "summary": pgettext_lazy("field of a record", "summary"),
    "compensation_amount": pgettext_lazy("field of a record", "compensation amount"),
    "compensation_currency": pgettext_lazy("field of a record", "compensation currency"),
    "compensation_notes": pgettext_lazy("field of a record", "compensation notes"),
    "cap": pgettext_lazy("field of a record", "cap on the number of people"),
    "eligible_populations": pgettext_lazy("field of a record", "eligible populations"),
    "text_url": pgettext_lazy("field of a record", "link to the published text"),
    "agreement": pgettext_lazy("field of a record", "agreement"),
    "date": pgettext_lazy("field of a record", "date"),
    "date_precision": pgettext_lazy("field of a record", "date precision"),
    "description": pgettext_lazy("field of a record", "description"),
    "court_case": pgettext_lazy("field of a record", "court case"),
    "from_country": pgettext_lazy("field of a record", "from country"),
    "to_country": pgettext_lazy("field of a record", "to country"),
    "people": pgettext_lazy("field of a record", "number of people"),
    "people_is_minimum": pgettext_lazy("field of a record", "at least"),
    "place": pgettext_lazy("field of a record", "facility or place"),
    "name": pgettext_lazy("field of a record", "name"),
    "court": pgettext_lazy("field of a record", "court"),
    "jurisdiction": pgettext_lazy("field of a record", "jurisdiction"),
    "docket": pgettext_lazy("field of a record", "docket or case number"),
    "citation": pgettext_lazy("field of a record", "neutral citation"),
    "filed_on": pgettext_lazy("field of a record", "filed on"),
    "filed_precision": pgettext_lazy("field of a record", "filed precision"),
    "decided_on": pgettext_lazy("field of a record", "decided on"),
    "decided_precision": pgettext_lazy("field of a record", "decided precision"),
    "stage": pgettext_lazy("field of a record", "stage"),
    "outcome": pgettext_lazy("field of a record", "outcome"),
    "judgment_url": pgettext_lazy("field of a record", "link to the judgment"),
    "case": pgettext_lazy("field of a record", "case"),
}
ACTION_LABELS = {
    "Published": pgettext_lazy("change log", "Published"),
    "Updated": pgettext_lazy("change log", "Updated"),
    "Added": pgettext_lazy("change log", "Added"),
    "Withdrawn": pgettext_lazy("change log", "Withdrawn"),
}
KIND_LABELS = {
    "agreement": pgettext_lazy("change log", "agreement"),
    "event": pgettext_lazy("change log", "event"),
    "transfer": pgettext_lazy("change log", "transfer"),
    "case": pgettext_lazy("change log", "case"),
}


def field_label(model_field) -> str:
    """ "status", or "summary (Spanish)" for a translation's column."""
    name = model_field.name
    base, _, code = name.rpartition("_")
    if base in FIELD_LABELS and code in translation_languages():
        language = get_language_info(code)["name_translated"]
        return f"{FIELD_LABELS[base]} ({language})"
    return str(FIELD_LABELS.get(name, model_field.verbose_name))


@dataclass
class Change:
    label: str
    old: str = ""
    new: str = ""


@dataclass
class Entry:
    when: datetime
    kind: str  # "agreement", "event", "transfer" or "case"
    key: str  # stable id for feeds and anchors
    record: str
    url: str
    action: str  # "Published", "Updated", "Added", "Withdrawn"
    changes: list[Change] = field(default_factory=list)
    reason: str = ""  # a withdrawal's public reason

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def kind_label(self):
        return KIND_LABELS.get(self.kind, self.kind)


def _first_published(agreement_ref):
    """When the agreement was first published: the earliest history row in that state."""
    rows = Agreement.history.filter(id=agreement_ref, publication_state=PUBLISHED)
    return Subquery(rows.order_by("history_date").values("history_date")[:1])


def _previous_state(model):
    """The state of the history row's predecessor (the same order as _describe's)."""
    earlier = model.history.filter(id=OuterRef("id")).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    )
    previous = Subquery(
        earlier.order_by("-history_date", "-history_id").values("publication_state")[:1]
    )
    # Only a withdrawal needs its predecessor: CASE keeps Postgres from running the subquery
    # for every other history row.
    return Case(When(publication_state=WITHDRAWN, then=previous), default=Value(""))


def _public_states(model, records):
    """History rows of records that were public: versions in the published state, and each
    withdrawal of a published version."""
    return (
        model.history.filter(id__in=records.values("pk"))
        .alias(previous_state=_previous_state(model))
        .filter(
            Q(publication_state=PUBLISHED)
            | Q(publication_state=WITHDRAWN, previous_state=PUBLISHED)
        )
    )


# A part of an agreement (an event, a transfer) changed while the agreement was public: not
# after the agreement was withdrawn (these rows' agreement_id is the agreement at that time).
_WHILE_AGREEMENT_PUBLIC = Q(agreement__publication_state=PUBLISHED) | Q(
    history_date__lte=F("agreement__withdrawn_at")
)


def public_change_rows(agreement=None):
    """A union of (kind, history_id, history_date) rows, newest first."""
    agreements = _public_states(Agreement, Agreement.objects.on_record())
    transfers = _public_states(Transfer, Transfer.objects.on_record()).filter(
        Q(agreement__isnull=True) | _WHILE_AGREEMENT_PUBLIC
    )
    events = (
        AgreementEvent.history.filter(agreement_id__in=Agreement.objects.on_record().values("pk"))
        .alias(since=_first_published(OuterRef("agreement_id")))
        .filter(history_date__gte=F("since"))
        .filter(_WHILE_AGREEMENT_PUBLIC)
    )
    # A case's own changes (its rulings are shown on its page, and change with it).
    cases = _public_states(CourtCase, CourtCase.objects.on_record())
    if agreement is not None:
        agreements = agreements.filter(id=agreement.pk)
        transfers = transfers.filter(agreement_id=agreement.pk)
        events = events.filter(agreement_id=agreement.pk)
        cases = cases.none()

    def rows(queryset, kind):
        return queryset.order_by().values_list(
            Value(kind, output_field=CharField()), "history_id", "history_date"
        )

    union = rows(agreements, "agreement").union(
        rows(events, "event"), rows(transfers, "transfer"), rows(cases, "case"), all=True
    )
    return union.order_by("-history_date", "-history_id")


def entries_for(rows) -> list[Entry]:
    """Turn a page of (kind, history_id, history_date) rows into Entries with their diffs."""
    by_kind = {}
    for kind, history_id, _ in rows:
        by_kind.setdefault(kind, []).append(history_id)
    described = {}
    for kind, ids in by_kind.items():
        described.update(_describe(kind, ids))
    return [
        described[(kind, history_id)]
        for kind, history_id, _ in rows
        if (kind, history_id) in described
    ]


_MODELS = {
    "agreement": Agreement,
    "event": AgreementEvent,
    "transfer": Transfer,
    "case": CourtCase,
}


def _describe(kind, history_ids):
    model = _MODELS[kind]
    related = {
        "agreement": ["sending_country", "receiving_country"],
        "event": ["agreement"],
        "transfer": ["from_country", "to_country"],
        "case": ["jurisdiction"],
    }[kind]
    history = model.history.model
    rows = list(history.objects.filter(history_id__in=history_ids))
    object_ids = {row.id for row in rows}
    latest = max(row.history_date for row in rows)
    # Every earlier version of the same records, to find each row's predecessor in Python.
    versions = {}
    for version in history.objects.filter(id__in=object_ids, history_date__lte=latest).order_by(
        "history_date", "history_id"
    ):
        versions.setdefault(version.id, []).append(version)
    current = model.objects.select_related(*related).in_bulk(object_ids)

    described = {}
    for row in rows:
        chain = versions[row.id]
        index = next(i for i, version in enumerate(chain) if version.history_id == row.history_id)
        previous = chain[index - 1] if index else None
        instance = current.get(row.id)
        if instance is None:
            continue
        entry = _entry(kind, row, previous, instance, model)
        if entry is not None:
            described[(kind, row.history_id)] = entry
    return described


def _entry(kind, row, previous, instance, model):
    if kind == "event":
        record = f"{instance.agreement.display_name}: {instance.get_kind_display().lower()}, {instance.date_display}"
        url = instance.agreement.get_absolute_url()
        if instance.agreement.is_published:  # a withdrawn agreement's page has no timeline
            url += "#timeline"
    else:
        record = getattr(instance, "display_name", None) or str(instance)
        url = instance.get_absolute_url()
    entry = Entry(row.history_date, kind, f"{kind}-{row.history_id}", record, url, "Updated")

    # Editable fields only: timestamps are not news, and the diff cannot compare them.
    public_fields = [
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in PRIVATE_FIELDS
    ]
    was_published = getattr(previous, "publication_state", PUBLISHED) == PUBLISHED
    if getattr(row, "publication_state", None) == WITHDRAWN:
        if previous is None or not was_published:
            return None  # a change while withdrawn is not public
        entry.action, entry.reason = "Withdrawn", row.withdrawal_reason
        return entry
    if previous is None:
        entry.action = "Added" if kind == "event" else "Published"
        return entry
    if not was_published:
        entry.action = "Published"
        return entry
    delta = row.diff_against(previous, included_fields=public_fields)
    entry.changes = [_change(model, row, change) for change in delta.changes]
    # A save that changed nothing public (internal notes, a re-save) is not news.
    return entry if entry.changes else None


def _change(model, row, change):
    model_field = model._meta.get_field(change.field)
    label = field_label(model_field)
    if change.field.endswith("_precision"):
        return Change(label)
    if change.field in SHOWN_VALUES:
        return Change(
            label, _shown(model_field, change.old, row), _shown(model_field, change.new, row)
        )
    return Change(label)


def _shown(model_field, value, row):
    if value in (None, ""):
        return "–"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.get_internal_type() == "DateField":
        precision_name = {"date": "date_precision"}.get(
            model_field.name, model_field.name.replace("_on", "_precision")
        )
        return format_partial_date(value, getattr(row, precision_name, "day"))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
