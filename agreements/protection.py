"""Nothing cited can vanish: a source cited by any record, and a country used anywhere, cannot be
deleted. Withdrawing the record, not deleting what it rests on, is the way out.

Foreign keys already refuse (`on_delete=PROTECT`: reported figures → source; agreements and
transfers → countries), with Django's own message. Many-to-many links do not: deleting a source
or a country silently deletes the rows of `Agreement.sources`, `AgreementEvent.sources`,
`Transfer.sources` and `Transfer.nationalities` that point at it, and a published event is left
citing nothing. Three layers close that:

1. `guard` (connected by `connect()`, called from AgreementsConfig.ready()): a `pre_delete`
   receiver on Source and Country that raises `ProtectedError` naming what uses the row. It sees
   every ORM path: `Model.delete()`, `QuerySet.delete()` (a model with a delete receiver is never
   fast-deleted, so Django sends pre_delete for each row, before deleting anything), the admin's
   delete view and "delete selected" action, management commands, the shell. The receiver runs
   inside the deletion's own `atomic(savepoint=False)`: in autocommit the deletion is simply
   rolled back, but a caller that catches the error inside a larger transaction needs a
   savepoint (`with transaction.atomic():`), as for an IntegrityError.

2. `ProtectedDeleteAdmin`: the admin's delete confirmation (one object, or the bulk action)
   lists the citing records as "protected related objects", so Django refuses there and says
   why, before the guard is ever reached.

3. The database (migration 0010_delete_protection): a deferred constraint trigger on each of the
   four link tables. A BEFORE DELETE trigger on agreements_source cannot work: Django deletes
   the link rows first, in the same transaction, so it would find nothing citing the source.
   (Plain SQL deleting a cited source already fails: the link tables' foreign keys are checked
   at commit.) What the database can check is the outcome, at commit: a link row was deleted,
   its source (or country) is gone, and its record still exists. That is exactly "a record lost
   its source because the source was deleted", whatever did it, including paths that send no
   signal (a data migration's historical models, `_raw_delete`, a disconnected receiver).
   Deleting a record (its links go with it) and unlinking a source (the source stays) pass.
   Unlinking a source and deleting it *in the same transaction* is refused too: do the two in
   separate transactions, as the admin does. Cost: a primary-key lookup or two per deleted link
   row, at commit (about 25 µs a row). Django's TestCase checks deferred constraints at the end
   of every test, so every test that deletes runs these triggers too.
"""

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.admin.utils import quote
from django.db import models
from django.db.models import Exists, OuterRef, ProtectedError, Q
from django.db.models.signals import pre_delete
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

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

NAMES_IN_MESSAGE = 5  # records named in the error message; the rest are counted
ADMIN_LISTED = 50  # records per kind on the admin's confirmation page; the rest are counted
WAY_OUT = "Withdraw a record instead of deleting it or what it cites."


def _plural(count, singular, plural):
    return f"{count} {singular if count == 1 else plural}"


@dataclass(frozen=True)
class Use:
    """One way records use a source or a country: `model` rows whose `fields` (any of them)
    point at it."""

    model: type[models.Model]
    fields: tuple[str, ...]
    singular: str
    plural: str
    suffix: str = ""  # e.g. " as a nationality"
    select_related: tuple[str, ...] = ()
    describe: Callable[[models.Model], str] = str
    admin_label: str = ""  # defaults to the model's verbose name

    def records(self, target):
        condition = functools.reduce(operator.or_, (Q(**{name: target}) for name in self.fields))
        return self.model.objects.filter(condition).select_related(*self.select_related)

    def exists_for(self, outer_ref):
        condition = functools.reduce(operator.or_, (Q(**{name: outer_ref}) for name in self.fields))
        return Exists(self.model.objects.filter(condition))

    @property
    def refused_by_django(self):
        """A PROTECT foreign key: Django's own collector refuses and lists these already."""
        fields = [self.model._meta.get_field(name) for name in self.fields]
        return all(f.many_to_one and f.remote_field.on_delete is models.PROTECT for f in fields)

    def phrase(self, records):
        names = [self.describe(record) for record in records[:NAMES_IN_MESSAGE]]
        if len(records) > NAMES_IN_MESSAGE:
            names[-1] += f" and {len(records) - NAMES_IN_MESSAGE} more"
        counted = _plural(len(records), self.singular, self.plural)
        return f"{counted}{self.suffix} ({', '.join(names)})"


def _event(event):
    return f"{event.agreement}: {event}"


def _ruling(ruling):
    return f"{ruling} in {ruling.case}"


def _figure(figure):
    return f"{figure} for {figure.transfer}"


_TRANSFER_NAME = ("from_country", "to_country")


@dataclass(frozen=True)
class Protection:
    verb: str  # "cited by", "used by"
    uses: tuple[Use, ...]


def _protection(instance) -> Protection:
    return PROTECTED[instance._meta.concrete_model]


PROTECTED = {
    Source: Protection(
        "cited by",
        (
            Use(Agreement, ("sources",), "agreement", "agreements"),
            Use(
                AgreementEvent,
                ("sources",),
                "event",
                "events",
                select_related=("agreement",),
                describe=_event,
            ),
            Use(Transfer, ("sources",), "transfer", "transfers", select_related=_TRANSFER_NAME),
            Use(CourtCase, ("sources",), "court case", "court cases"),
            Use(
                CourtRuling,
                ("sources",),
                "court ruling",
                "court rulings",
                select_related=("case",),
                describe=_ruling,
            ),
            Use(
                ReportedFigure,
                ("source",),
                "reported figure",
                "reported figures",
                select_related=("source", "transfer__from_country", "transfer__to_country"),
                describe=_figure,
            ),
        ),
    ),
    Country: Protection(
        "used by",
        (
            Use(Agreement, ("sending_country", "receiving_country"), "agreement", "agreements"),
            Use(
                Transfer,
                ("from_country", "to_country"),
                "transfer",
                "transfers",
                select_related=_TRANSFER_NAME,
            ),
            Use(
                Transfer,
                ("nationalities",),
                "transfer",
                "transfers",
                suffix=" as a nationality",
                select_related=_TRANSFER_NAME,
                admin_label="transfer (as a nationality)",
            ),
            Use(CourtCase, ("jurisdiction",), "court case", "court cases"),
        ),
    ),
}


def in_use(instance) -> bool:
    """Whether any record uses instance (a Source or a Country): one query."""
    exists = [use.exists_for(OuterRef("pk")) for use in _protection(instance).uses]
    model = instance._meta.concrete_model
    return model.objects.filter(Q(*exists, _connector=Q.OR), pk=instance.pk).exists()


def uses_of(instance):
    """[(use, [records])] for each way records use instance, those with none left out."""
    found = [(use, list(use.records(instance))) for use in _protection(instance).uses]
    return [(use, records) for use, records in found if records]


def refusal(instance):
    """The ProtectedError for deleting instance, or None when nothing uses it."""
    if not in_use(instance):  # the common case, in one query
        return None
    found = uses_of(instance)
    phrases = ", ".join(use.phrase(records) for use, records in found)
    opts = instance._meta
    message = (
        f"Cannot delete the {opts.verbose_name} “{instance}”: "
        f"{_protection(instance).verb} {phrases}. {WAY_OUT}"
    )
    return ProtectedError(message, {record for _, records in found for record in records})


def guard(sender, instance, **kwargs):
    """pre_delete: refuse deleting a source or a country that a record uses."""
    error = refusal(instance)
    if error is not None:
        raise error


def connect():
    """Called once from AgreementsConfig.ready()."""
    for model in PROTECTED:
        pre_delete.connect(guard, sender=model, dispatch_uid=f"protect-{model._meta.label}")


def disconnect():
    for model in PROTECTED:
        pre_delete.disconnect(sender=model, dispatch_uid=f"protect-{model._meta.label}")


class ProtectedDeleteAdmin:
    """For the ModelAdmin of Source and Country: the delete confirmation page (one object or
    the "delete selected" action) lists the records using them as protected objects, so the
    admin refuses the deletion and says what cites them. Uses that Django's collector already
    lists (PROTECT foreign keys) are not listed twice."""

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected)
        for obj in objs:
            for use in _protection(obj).uses:
                if use.refused_by_django:
                    continue
                records = use.records(obj)
                shown = list(records[: ADMIN_LISTED + 1])
                protected += [self._protected_entry(use, record) for record in shown[:ADMIN_LISTED]]
                if len(shown) > ADMIN_LISTED:
                    rest = records.count() - ADMIN_LISTED
                    kind = use.singular if rest == 1 else use.plural
                    protected.append(f"… and {rest} more {kind}{use.suffix}")
        return to_delete, model_count, perms_needed, protected

    def _protected_entry(self, use, record):
        opts = record._meta
        label = capfirst(use.admin_label or opts.verbose_name)
        text = use.describe(record)
        if not self.admin_site.is_registered(type(record)):
            return f"{label}: {text}"
        try:
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                args=[quote(record.pk)],
            )
        except NoReverseMatch:
            return f"{label}: {text}"
        return format_html('{}: <a href="{}">{}</a>', label, url, text)
