"""CSV import and export for editors (django-import-export). Format: docs/IMPORT.md.

Rows are matched by a natural key so importing the same file twice changes nothing:
sources by URL, agreements by slug, transfers by agreement, date, origin and destination.
Imported records are drafts: the publication state is exported but never imported.
"""

from import_export import fields, resources, widgets

from agreements import publishing, revisions
from agreements.dates import DatePrecision, format_iso_partial_date, parse_partial_date
from agreements.exports import FORMULA_TRIGGERS, formula_safe
from agreements.models import Agreement, Country, RevisionKind, Source, Transfer


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key by a natural key, with a readable error for an unknown value."""

    def __init__(self, model, field, label, normalize=str.strip):
        super().__init__(model, field=field)
        self.label = label
        self.normalize = normalize

    def clean(self, value, row=None, **kwargs):
        value = self.normalize(str(value or ""))
        if not value:
            return None
        try:
            return self.model.objects.get(**{self.field: value})
        except self.model.DoesNotExist:
            raise ValueError(f"unknown {self.label} {value!r}") from None


class LookupManyWidget(widgets.ManyToManyWidget):
    """Several natural keys separated by "|"; every one must exist."""

    def __init__(self, model, field, label, normalize=str.strip):
        super().__init__(model, separator="|", field=field)
        self.label = label
        self.normalize = normalize

    def clean(self, value, row=None, **kwargs):
        keys = [self.normalize(key) for key in str(value or "").split(self.separator)]
        keys = [key for key in keys if key]
        found = {
            getattr(obj, self.field): obj
            for obj in self.model.objects.filter(**{f"{self.field}__in": keys})
        }
        missing = [key for key in keys if key not in found]
        if missing:
            raise ValueError(f"unknown {self.label}: {', '.join(missing)}")
        return [found[key] for key in keys]


def _upper(value: str) -> str:
    return value.strip().upper()


def country_widget():
    return LookupWidget(Country, "code", "country code", normalize=_upper)


class PartialDateField(fields.Field):
    """One CSV column ("2025-03-16", "2025-03" or "2025") for a date and its precision."""

    def __init__(self, column_name, date_attribute, precision_attribute, **kwargs):
        super().__init__(attribute=date_attribute, column_name=column_name, **kwargs)
        self.precision_attribute = precision_attribute

    def clean(self, row, **kwargs):
        raw = str(row.get(self.column_name) or "").strip()
        if not raw:
            return None
        try:
            return parse_partial_date(raw)[0]
        except ValueError:
            raise ValueError(f"malformed date {raw!r}: use YYYY-MM-DD, YYYY-MM or YYYY") from None

    def save(self, instance, row, is_m2m=False, **kwargs):
        raw = str(row.get(self.column_name) or "").strip()
        date, precision = (None, DatePrecision.DAY)
        if raw:
            self.clean(row)  # the readable error
            date, precision = parse_partial_date(raw)
        setattr(instance, self.attribute, date)
        setattr(instance, self.precision_attribute, precision)

    def export(self, instance, **kwargs):
        return format_iso_partial_date(
            getattr(instance, self.attribute), getattr(instance, self.precision_attribute)
        )


class AllOrNothingResource(resources.ModelResource):
    """One bad row, whether an error or a validation failure, and the whole import rolls back.

    A row that changes an existing record goes through agreements/publishing.py like a form: an
    editor's row that changes a published record (or a source a published record cites) becomes
    a proposed revision, and the live record is untouched until a publisher approves it. New
    rows are drafts. Imports run from code with no user (none exist today) write directly."""

    def import_data(self, dataset, **kwargs):
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        self.proposals = []
        return super().import_data(dataset, **kwargs)

    def save_instance(self, instance, is_create, row, **kwargs):
        user = kwargs.get("user")
        if is_create or user is None:
            return super().save_instance(instance, is_create, row, **kwargs)
        live = type(instance).objects.get(pk=instance.pk)

        def write():
            super(AllOrNothingResource, self).save_instance(instance, is_create, row, **kwargs)
            self._save_m2m_now(instance, row, **kwargs)

        def proposed():
            data = revisions.snapshot(live)
            data["fields"] = revisions.snapshot_fields(instance)
            for field in self._m2m_fields(row):
                data[field.attribute] = sorted(obj.pk for obj in field.clean(row))
            return data

        proposal = publishing.edit(
            instance,
            user,
            loaded_version=None,  # a file carries no version: compared with the record now
            proposed=proposed,
            write=write,
            kind=RevisionKind.IMPORT,
            note="CSV import",
        )
        instance._m2m_handled = True
        if proposal is not None:
            self.proposals.append(proposal)

    def export_field(self, field, instance, **kwargs):
        # The same formula rule as the public downloads (agreements/exports.py).
        return formula_safe(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row, **kwargs):
        # A file this admin exported: its apostrophe before a formula character is ours.
        for column, value in list(row.items()):
            if publishing.control_character_error(value):
                raise ValueError(f"column {column!r} contains a control character")
            if isinstance(value, str) and value[:1] == "'" and value[1:2] in FORMULA_TRIGGERS:
                row[column] = value[1:]
        super().before_import_row(row, **kwargs)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        result.proposals = list(self.proposals)

    def _m2m_fields(self, row):
        return [
            field
            for field in self.get_import_fields()
            if isinstance(field.widget, widgets.ManyToManyWidget) and field.column_name in row
        ]

    def _save_m2m_now(self, instance, row, **kwargs):
        super().save_m2m(instance, row, **kwargs)

    def save_m2m(self, instance, row, **kwargs):
        if getattr(instance, "_m2m_handled", False):
            return  # written (or proposed) with the record, through the door
        super().save_m2m(instance, row, **kwargs)

    def get_queryset(self):
        return super().get_queryset().order_by("pk")


class TrackerResource(AllOrNothingResource):
    """Agreements and transfers: each row cites a source; the publication state is exported,
    never imported."""

    publication_state = fields.Field(
        attribute="publication_state", column_name="publication_state", readonly=True
    )
    sources = fields.Field(
        "sources", "sources", widget=LookupManyWidget(Source, "url", "source URL")
    )

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if not str(row.get("sources") or "").strip():
            raise ValueError("missing source: give at least one source URL in the sources column")


class SourceResource(AllOrNothingResource):
    published = PartialDateField("published", "published_on", "published_precision")

    class Meta:
        model = Source
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        import_id_fields = ["url"]
        fields = ["url", "title", "publisher", "published", "accessed_on", "archive_url", "kind"]
        export_order = fields


class AgreementResource(TrackerResource):
    sending_country = fields.Field("sending_country", "sending_country", widget=country_widget())
    receiving_country = fields.Field(
        "receiving_country", "receiving_country", widget=country_widget()
    )
    announced = PartialDateField("announced", "announced_on", "announced_precision")
    signed = PartialDateField("signed", "signed_on", "signed_precision")
    in_force = PartialDateField("in_force", "in_force_on", "in_force_precision")
    ended = PartialDateField("ended", "ended_on", "ended_precision")

    class Meta:
        model = Agreement
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        import_id_fields = ["slug"]
        fields = [
            "slug", "title", "sending_country", "receiving_country", "kind", "status",
            "legal_bindingness", "text_disclosure", "announced", "signed", "in_force", "ended",
            "summary", "compensation_amount", "compensation_currency", "compensation_notes", "cap",
            "eligible_populations", "text_url", "sources", "publication_state",
        ]  # fmt: skip
        export_order = fields


class TransferResource(TrackerResource):
    agreement = fields.Field(
        "agreement", "agreement", widget=LookupWidget(Agreement, "slug", "agreement slug")
    )
    from_country = fields.Field("from_country", "from_country", widget=country_widget())
    to_country = fields.Field("to_country", "to_country", widget=country_widget())
    date = PartialDateField("date", "date", "date_precision")
    nationalities = fields.Field(
        "nationalities",
        "nationalities",
        widget=LookupManyWidget(Country, "code", "nationality codes", normalize=_upper),
    )

    class Meta:
        model = Transfer
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        import_id_fields = ["agreement", "date", "from_country", "to_country"]
        fields = [
            "agreement", "date", "from_country", "to_country", "people", "people_is_minimum",
            "nationalities", "place", "description", "sources", "publication_state",
        ]  # fmt: skip
        export_order = fields
