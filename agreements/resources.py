"""CSV import and export for editors (django-import-export). Format: docs/IMPORT.md.

Rows are matched by a natural key so importing the same file twice changes nothing:
sources by URL, agreements by slug, transfers by agreement, date, origin and destination.
Imported records are drafts: the publication state is exported but never imported.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from import_export import fields, resources, widgets

from agreements import publishing, revisions
from agreements.apps import deferred_content_bumps
from agreements.dates import DatePrecision, format_iso_partial_date, parse_partial_date
from agreements.exports import FORMULA_TRIGGERS, formula_safe
from agreements.models import Agreement, Country, RevisionKind, Source, Transfer


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key by a natural key, with a readable error for an unknown value.

    What it found is remembered for the rest of the import (the same countries, agreements and
    sources recur on every row); AllOrNothingResource.import_data starts each import afresh."""

    def __init__(self, model, field, label, normalize=str.strip):
        super().__init__(model, field=field)
        self.label = label
        self.normalize = normalize
        self.found = {}

    def clean(self, value, row=None, **kwargs):
        value = self.normalize(str(value or ""))
        if not value:
            return None
        if value not in self.found:
            try:
                self.found[value] = self.model.objects.get(**{self.field: value})
            except self.model.DoesNotExist:
                raise ValueError(f"unknown {self.label} {value!r}") from None
        return self.found[value]


class LookupManyWidget(widgets.ManyToManyWidget):
    """Several natural keys separated by "|"; every one must exist. Remembers what it found for
    the rest of the import, as LookupWidget does."""

    def __init__(self, model, field, label, normalize=str.strip):
        super().__init__(model, separator="|", field=field)
        self.label = label
        self.normalize = normalize
        self.found = {}

    def clean(self, value, row=None, **kwargs):
        keys = [self.normalize(key) for key in str(value or "").split(self.separator)]
        keys = [key for key in keys if key]
        unknown = [key for key in keys if key not in self.found]
        if unknown:
            self.found.update(
                (getattr(obj, self.field), obj)
                for obj in self.model.objects.filter(**{f"{self.field}__in": unknown})
            )
        missing = [key for key in keys if key not in self.found]
        if missing:
            raise ValueError(f"unknown {self.label}: {', '.join(missing)}")
        return [self.found[key] for key in keys]


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
    rows are drafts. Imports run from code with no user (none exist today) write directly.

    The file's columns are checked before any row runs (`header_problems`); every row's
    history names the importing user, in the admin, the command and the worker alike."""

    # Columns a file must have (docs/IMPORT.md marks them "required"); subclasses say which.
    required_columns = ()

    def import_data(self, dataset, **kwargs):
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        self.proposals = []
        for field in self.fields.values():
            if isinstance(field.widget, LookupWidget | LookupManyWidget):
                field.widget.found = {}
        with transaction.atomic(), publishing.history_user(kwargs.get("user")):
            with deferred_content_bumps() as changed:
                result = super().import_data(dataset, **kwargs)
            written = not (
                kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors()
            )
            if written:  # once, just before the commit, not at the first row
                from tracker.caching import bump_content_version

                for using in changed:
                    bump_content_version(using)
        return result

    @classmethod
    def columns(cls):
        """Every column this resource reads or writes, in the order of its exports."""
        return [field.column_name for field in cls().get_export_fields()]

    @classmethod
    def header_problems(cls, headers):
        """What is wrong with a file's header row, as messages; empty when nothing is."""
        columns = cls.columns()
        required = [name for name in columns if name in cls.required_columns]
        problems = []
        unnamed = [str(position) for position, name in enumerate(headers, 1) if not name]
        if unnamed:
            problems.append(f"columns without a name in the header row: {', '.join(unnamed)}")
        repeated = sorted({name for name in headers if name and headers.count(name) > 1})
        if repeated:
            problems.append(f"repeated columns: {', '.join(repeated)}")
        missing = [name for name in required if name not in headers]
        if missing:
            problems.append(f"missing columns: {', '.join(missing)}")
        unknown = [name for name in headers if name and name not in columns]
        if unknown:
            # A stray space makes a column unknown: show it.
            shown = [name if name.strip() == name else repr(name) for name in unknown]
            problems.append(f"unknown columns: {', '.join(dict.fromkeys(shown))}")
        if problems:
            problems.append(
                f"expected: {', '.join(columns)} (required: {', '.join(required)}); "
                "see the format in docs/IMPORT.md"
            )
        return problems

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if not instance._state.adding:
            # A change may become a proposal, which is never saved here: check it all now.
            return super().validate_instance(instance, import_validation_errors, validate_unique)
        # A new row: the database checks the model's constraints when the row is inserted
        # (save_instance gives a refusal the constraint's own message). Django would ask it
        # once per constraint first, three statements each: most of an agreement row's time.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=errors.keys(), validate_unique=validate_unique, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        user = kwargs.get("user")
        if is_create:
            try:
                return super().save_instance(instance, is_create, row, **kwargs)
            except IntegrityError as error:
                message = constraint_message(type(instance), error)
                if message is None:
                    raise
                raise ValidationError(message) from None
        if user is None:
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


def constraint_message(model, error):
    """The message of the model's constraint that the database refused a row for, if any."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return constraint.get_violation_error_message()
    return None


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
    required_columns = ("url", "title", "kind")

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
    required_columns = (
        "slug", "title", "sending_country", "receiving_country", "kind", "status", "sources",
    )  # fmt: skip

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
    required_columns = ("date", "from_country", "to_country", "sources")

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
