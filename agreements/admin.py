from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from agreements import publishing, revisions
from agreements.admin_imports import BackgroundImportMixin
from agreements.dates import truncate_to_precision
from agreements.models import (
    EDITOR_STATES,
    Agreement,
    AgreementEvent,
    Country,
    CourtCase,
    CourtRuling,
    LinkHealth,
    ProposedRevision,
    PublicationState,
    ReportedFigure,
    Source,
    Transfer,
    can_publish,
    may_change_publication,
)
from agreements.protection import ProtectedDeleteAdmin
from agreements.resources import AgreementResource, SourceResource, TransferResource
from agreements.translations import (
    TRANSLATED_FIELDS,
    translation_field_names,
    translation_languages,
)

# Editors paste links without a scheme; assume https (Django 6's default) rather than http.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}

NEEDS_SOURCE = publishing.NEEDS_SOURCE
_TRANSLATED = {field for fields in TRANSLATED_FIELDS.values() for field in fields}


def translations_of(*fields):
    """The admin rows for the translations of `fields` (agreements/translations.py): one row per
    field, one box per language."""
    return [tuple(translation_field_names(field)) for field in fields]


TRANSLATIONS_HELP = (
    "The text in each language, for readers of the site in it; leave blank where there is none "
    "(the English then shows, marked as English). Translations are reviewed and published with "
    "the record, like any other field."
)


# --- every change form: the version it was loaded from ------------------------------------------


class CleanTextForm(forms.ModelForm):
    """Refuses control characters in every text field (agreements.publishing's rule): they
    break feeds and highlights, and nobody means to type them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A translation's box is written in its language: Arabic runs right to left.
        for code in translation_languages():
            direction = "rtl" if translation.get_language_info(code)["bidi"] else "ltr"
            for name, field in self.fields.items():
                if name.endswith(f"_{code}") and name.rpartition("_")[0] in _TRANSLATED:
                    field.widget.attrs.update(lang=code, dir=direction)

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):  # add_error removes the field from it
            problem = publishing.control_character_error(value)
            if problem:
                self.add_error(name, problem)
        return cleaned


class VersionedForm(CleanTextForm):
    """Carries the version of the record the form was loaded from. Saving over a newer version
    is refused with what changed meanwhile (the row is locked while checking, so of two
    simultaneous saves the second waits and then sees the first); agreements/publishing.py
    checks once more when it writes."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault("loaded_version", self.instance.version)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        loaded = cleaned.get("loaded_version")
        if loaded is None:
            raise forms.ValidationError(
                "This form does not say which version of the record it was loaded from. "
                "Reload the page and make your change again."
            )
        try:
            publishing.check_version(self.instance, loaded)
        except publishing.Stale as stale:
            raise forms.ValidationError(stale.message) from None
        return cleaned


# --- review before publishing --------------------------------------------------------------------


class PublicationFormMixin:
    """Offers each user only the publication states they may choose; a crafted POST meets the
    same check here and again in agreements/publishing.py, which alone changes the state.

    First in the bases of every form the review admins use (its checks run after the form's
    own); with_user() gives it the requesting user."""

    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        state = self.fields.get("publication_state")
        if state is not None and not can_publish(self.user):
            # Offer editors only what they may choose; a crafted value is still refused below.
            current = (
                self.instance.publication_state if self.instance.pk else PublicationState.DRAFT
            )
            state.choices = [
                (value, label)
                for value, label in PublicationState.choices
                if value in EDITOR_STATES or value == current
            ]
            if current not in EDITOR_STATES:
                state.disabled = True
                state.help_text = "A publisher can withdraw this record or publish it again."

    def clean_publication_state(self):
        new_state = self.cleaned_data["publication_state"]
        old_state = self.instance.publication_state if self.instance.pk else PublicationState.DRAFT
        if not may_change_publication(self.user, old_state, new_state):
            raise forms.ValidationError("Only publishers can publish or withdraw a record.")
        return new_state

    def clean(self):
        cleaned = super().clean()
        # An editor's change to a public record will be a proposal: say now, with the form
        # still filled in, if another is already waiting.
        if (
            self.instance.pk is not None
            and self.user is not None
            and self.has_changed()
            and publishing.needs_review(self.user, self.instance)
        ):
            waiting = ProposedRevision.objects.pending().for_record(self.instance).first()
            if waiting is not None:
                raise forms.ValidationError(
                    f"“{self.instance}” already has a proposed revision awaiting review "
                    f"(#{waiting.pk}, by {waiting.proposed_by}). A publisher must decide "
                    "it first, or its author can withdraw it."
                )
        state = cleaned.get("publication_state")
        old_state = getattr(self.instance, "publication_state", None) if self.instance.pk else None
        if state == PublicationState.WITHDRAWN and old_state != PublicationState.WITHDRAWN:
            if "public_reason" not in self.fields:  # an inline row has no room for the reason
                self.add_error(
                    "publication_state",
                    "Withdraw it from its own page or with the list's action, where you give "
                    "the public reason.",
                )
            elif not (cleaned.get("public_reason") or "").strip():
                self.add_error("public_reason", "Say publicly why the record is withdrawn.")
        return cleaned


class StateChangeFields(forms.Form):
    """What a publisher says when changing the state in the form."""

    public_reason = forms.CharField(
        label="Public reason for withdrawing",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when withdrawing: shown on the record's page and in the change log.",
    )


def with_user(form_class, request):
    """The form class that get_form or get_formset built, told who is asking. Django builds a new
    class at every call of them (modelform_factory), so the user set on it serves this request
    alone; a class that has one already was reused, and is refused."""
    if not issubclass(form_class, PublicationFormMixin) or "user" in vars(form_class):
        raise ImproperlyConfigured(
            f"{form_class.__name__}: a review admin's form starts with PublicationFormMixin, "
            "and is built anew for each request."
        )
    form_class.user = request.user
    return form_class


class PublisherFieldsMixin:
    """Fieldsets without publisher_fields (the choices only publishers make: the public reason
    for withdrawing, ...) for everyone else."""

    publisher_fields = ()

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if can_publish(request.user):
            return fieldsets
        hidden = set(self.publisher_fields)
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]


class PublicLinkMixin:
    @admin.display(description="Page")
    def public_link(self, obj):
        if not obj.pk:
            return "-"
        label = "public page" if obj.is_published else "preview (staff only until published)"
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), label)


class ReviewedAdmin(admin.ModelAdmin):
    """Saves go through agreements/publishing.py: an editor's change of a public record becomes a
    proposed revision; a direct change is version-checked; state changes are the door's actions.
    part_models are inlines that belong to the record's content (an agreement's events, a
    transfer's reported figures)."""

    part_models = ()
    has_publication_state = True

    def get_form(self, request, obj=None, **kwargs):
        return with_user(super().get_form(request, obj, **kwargs), request)

    def save_model(self, request, obj, form, change):
        # Everything is written in save_related, where the inlines are known: an edit waiting
        # for review must not write the record first.
        request._target_state = getattr(obj, "publication_state", None)
        if not change:
            if self.has_publication_state and obj.publication_state not in EDITOR_STATES:
                obj.publication_state = PublicationState.DRAFT  # published by transition below
            self._door(request, lambda: publishing.edit(
                obj, request.user, loaded_version=None, proposed=None, write=obj.save
            ))  # fmt: skip

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        parts = [formset for formset in formsets if formset.model in self.part_models]
        others = [formset for formset in formsets if formset not in parts]
        if not change:
            form.save_m2m()
            for formset in formsets:
                self.save_formset(request, form, formset, change)
        else:
            if self.has_publication_state:
                obj.publication_state = (
                    type(obj).objects.values_list("publication_state", flat=True).get(pk=obj.pk)
                )

            def write():
                obj.save()
                form.save_m2m()
                for formset in parts:
                    self.save_formset(request, form, formset, change)

            request._proposal = self._door(
                request,
                lambda: publishing.edit(
                    obj,
                    request.user,
                    loaded_version=form.cleaned_data.get("loaded_version"),
                    proposed=lambda: revisions.snapshot_from_forms(obj, form, parts),
                    write=write,
                ),
            )
            for formset in others:
                self.save_formset(request, form, formset, change)
        for formset in formsets:  # the admin's log message reads these, saved or proposed
            for name in ("new_objects", "changed_objects", "deleted_objects"):
                if not hasattr(formset, name):
                    setattr(formset, name, [])
        target = request._target_state
        if self.has_publication_state and target != obj.publication_state:
            outcome = self._door(
                request,
                lambda: publishing.transition(
                    obj,
                    request.user,
                    target,
                    reason=form.cleaned_data.get("public_reason", ""),
                    with_transfers=form.cleaned_data.get("publish_transfers", True),
                ),
            )
            for line in publishing.describe(outcome):
                messages.info(request, line)

    def _door(self, request, call):
        """Run a publishing call; a refusal undoes the whole save and says why."""
        try:
            return call()
        except publishing.Refused as refused:
            raise RefusedSave(refused.message) from None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "GET" and object_id:
            self._announce_proposals(request, object_id)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RefusedSave as refused:
            # The transaction rolled back: nothing of this save was kept.
            self.message_user(request, f"Not saved: {refused}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _announce_proposals(self, request, object_id):
        record = self.get_object(request, unquote(object_id))
        if record is None:
            return
        revisions_of = ProposedRevision.objects.for_record(record).select_related(
            "proposed_by", "decided_by"
        )
        pending = revisions_of.pending().first()
        if pending:
            messages.warning(
                request,
                format_html(
                    'A <a href="{}">proposed revision (#{})</a> by {} is awaiting review; '
                    "the public page shows the approved version until a publisher decides.",
                    pending.get_absolute_url(),
                    pending.pk,
                    pending.proposed_by,
                ),
            )
        mine = revisions_of.filter(proposed_by=request.user).exclude(state="pending").last()
        if mine and mine.decided_at:
            text = f"Your proposed revision #{mine.pk} was {mine.get_state_display().lower()}"
            text += f" by {mine.decided_by}" if mine.decided_by else ""
            text += f": {mine.decision_reason}" if mine.decision_reason else "."
            messages.info(request, text)

    def log_change(self, request, obj, message):
        proposal = getattr(request, "_proposal", None)
        if proposal is not None:
            message = f"Proposed revision #{proposal.pk} (awaiting review)"
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        proposal = getattr(request, "_proposal", None)
        if proposal is None:
            return super().response_change(request, obj)
        self.message_user(
            request,
            format_html(
                'Your change was saved as <a href="{}">proposed revision #{}</a>. The public '
                "page keeps the approved version until a publisher approves it.",
                proposal.get_absolute_url(),
                proposal.pk,
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(request.path)

    def add_success_message(self, result, request):
        super().add_success_message(result, request)
        proposals = getattr(result, "proposals", [])
        if proposals:
            self.message_user(
                request,
                f"{len(proposals)} row(s) changed published records and were kept as proposed "
                "revisions (" + ", ".join(f"#{p.pk}" for p in proposals) + ") for a publisher "
                "to review; the public pages are unchanged until then.",
                messages.WARNING,
            )

    # History restore: through the door, never the historical form's own save.
    def history_form_view(self, request, object_id, version_id, extra_context=None):
        record = self.get_object(request, unquote(object_id))
        if record is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not str(version_id).isdigit():
            raise Http404("No such version.")
        # Every POST restores through the door: the library's own save would write the
        # historical row's fields and sources directly.
        if request.method == "POST":
            if not self.has_change_permission(request, record):
                raise PermissionDenied
            version = get_object_or_404(
                self.model.history.model, id=record.pk, history_id=version_id
            )
            try:
                proposal = publishing.restore(
                    record,
                    version,
                    request.user,
                    loaded_version=request.POST.get("loaded_version") or None,
                )
            except publishing.Refused as refused:
                self.message_user(request, f"Not restored: {refused.message}", messages.ERROR)
                return HttpResponseRedirect(request.path)
            if proposal is not None:
                request._proposal = proposal
                return self.response_change(request, record)
            self.message_user(
                request,
                f"Restored the content of the version of "
                f"{version.history_date:%Y-%m-%d %H:%M}; the publication state is unchanged.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[record.pk]
                )
            )
        messages.info(
            request,
            "Reverting restores this version's content, with its sources"
            + (", events" if self.model is Agreement else "")
            + (
                ", nationalities, reported figures and onward links"
                if self.model is Transfer
                else ""
            )
            + (", agreements and rulings" if self.model is CourtCase else "")
            + ", never its publication state. A change to a published record goes to review.",
        )
        response = super().history_form_view(request, object_id, version_id, extra_context)
        adminform = getattr(response, "context_data", {}).get("adminform")
        if adminform is not None and "loaded_version" in adminform.form.fields:
            adminform.form.initial["loaded_version"] = record.version
        return response

    # List actions: the same door.
    def get_actions(self, request):
        actions = super().get_actions(request)
        if not can_publish(request.user):
            for name in ("publish", "publish_alone", "withdraw"):
                actions.pop(name, None)
        return actions

    def _each(self, request, queryset, call, done):
        count = 0
        for record in queryset:
            try:
                with transaction.atomic():
                    outcome = call(record)
            except publishing.Refused as refused:
                self.message_user(request, refused.message, messages.ERROR)
                continue
            count += 1
            for line in publishing.describe(outcome) if outcome else []:
                self.message_user(request, line, messages.INFO)
        self.message_user(request, f"{count} record(s) {done}.")

    @admin.action(description="Submit selected for review", permissions=["change"])
    def submit_for_review(self, request, queryset):
        drafts = queryset.filter(publication_state=PublicationState.DRAFT)
        self._each(request, drafts, lambda r: publishing.submit(r, request.user), "submitted")

    @admin.action(description="Publish selected")
    def publish(self, request, queryset):
        if not can_publish(request.user):
            raise PermissionDenied
        waiting = queryset.exclude(publication_state=PublicationState.PUBLISHED)
        self._each(request, waiting, lambda r: publishing.publish(r, request.user), "published")

    @admin.action(description="Withdraw selected from the public site (asks for a reason)")
    def withdraw(self, request, queryset):
        if not can_publish(request.user):
            raise PermissionDenied
        published = queryset.filter(publication_state=PublicationState.PUBLISHED)
        reason = (request.POST.get("reason") or "").strip()
        if "apply" in request.POST and reason:
            self._each(
                request,
                published,
                lambda r: publishing.withdraw(r, request.user, reason),
                "withdrawn",
            )
            return None
        if "apply" in request.POST:
            self.message_user(request, "Say publicly why they are withdrawn.", messages.ERROR)
        return TemplateResponse(
            request,
            "admin/agreements/withdraw_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Withdraw from the public site",
                "opts": self.opts,
                "records": published,
                "reason": reason,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


class ReadOnlyAdminMixin:
    """Found and read in the admin, written elsewhere (through agreements/publishing.py)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefusedSave(Exception):
    """Raised inside the admin's save transaction so that all of it rolls back."""


class MissingSourceFilter(admin.SimpleListFilter):
    """For publishers: which records lack the sources that publishing requires."""

    title = "sources"
    parameter_name = "sourcing"

    def lookups(self, request, model_admin):
        return [("missing", "Missing a source"), ("complete", "Fully sourced")]

    def queryset(self, request, queryset):
        missing = queryset.model.objects.missing_sources()
        if self.value() == "missing":
            return queryset.filter(pk__in=missing.values("pk"))
        if self.value() == "complete":
            return queryset.exclude(pk__in=missing.values("pk"))
        return queryset


# --- countries ------------------------------------------------------------------------------------


# ProtectedDeleteAdmin: deleting a country in use is refused, naming what uses it.
@admin.register(Country)
class CountryAdmin(ProtectedDeleteAdmin, admin.ModelAdmin):
    list_display = ["name", "code", "alpha3", "region", "is_state"]
    list_filter = ["region", "is_state"]
    search_fields = ["name", "code", "alpha3"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]


# --- agreements, their events and transfers --------------------------------------------------------


class EventInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if self.instance.publication_state != PublicationState.PUBLISHED:
            return
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if data and not data.get("DELETE") and not data.get("sources"):
                form.add_error("sources", NEEDS_SOURCE)


class AgreementEventInline(admin.StackedInline):
    model = AgreementEvent
    form = CleanTextForm
    formset = EventInlineFormSet
    extra = 0
    fields = [
        ("date", "date_precision", "kind"),
        "description",
        *translations_of("description"),
        "court_case",
        "sources",
        "internal_notes",
    ]
    autocomplete_fields = ["sources", "court_case"]


class TransferForm(VersionedForm):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("publication_state") == PublicationState.PUBLISHED and not cleaned.get(
            "sources"
        ):
            self.add_error("sources", NEEDS_SOURCE)
        self._check_continues(cleaned)
        return cleaned

    def _check_continues(self, cleaned):
        """The onward-removal rule in words, before the database trigger refuses it."""
        earlier = list(cleaned.get("continues") or [])
        if not earlier or "continues" not in self.fields:
            return
        if not (cleaned.get("from_country") and cleaned.get("date")):
            return  # the missing field has its own error
        precision = cleaned.get("date_precision") or self.instance.date_precision
        onward = Transfer(
            pk=self.instance.pk,
            from_country=cleaned["from_country"],
            date=truncate_to_precision(cleaned["date"], precision),
            date_precision=precision,
        )
        problems = onward.onward_problems(earlier)
        if self.instance.pk is not None:
            later = {transfer.pk for transfer in self.instance.chain_after()}
            problems += [
                f"“{transfer}” was itself sent on from this transfer: that would be a loop."
                for transfer in earlier
                if transfer.pk in later
            ]
        for problem in problems:
            self.add_error("continues", problem)


class TransferInlineForm(PublicationFormMixin, TransferForm):
    pass


class TransferInline(admin.StackedInline):
    model = Transfer
    form = TransferInlineForm
    extra = 0
    show_change_link = True
    fields = [
        ("date", "date_precision"),
        ("from_country", "to_country"),
        ("people", "people_is_minimum"),
        "nationalities",
        "place",
        "description",
        *translations_of("description"),
        "continues",
        "sources",
        "publication_state",
        "internal_notes",
        "loaded_version",
    ]
    autocomplete_fields = ["from_country", "to_country", "nationalities", "continues", "sources"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        with_user(formset.form, request)
        return formset


class AgreementForm(PublicationFormMixin, VersionedForm):
    public_reason = StateChangeFields.base_fields["public_reason"]
    publish_transfers = forms.BooleanField(
        label="Publish its transfers too",
        required=False,
        initial=True,
        help_text="When publishing: also publish its transfers that cite a source (you are told "
        "which were left and why).",
    )


# Why each base (Python looks a method up from left to right):
# - PublisherFieldsMixin: hides the publisher-only fields (the public reason, publishing the
#   transfers too) from editors.
# - PublicLinkMixin: the "Page" field, a link to the public page or the staff preview.
# - ReviewedAdmin: every save, history restore and list action goes through
#   agreements/publishing.py. It comes before the library admins, which define some of the same
#   methods, so that its own are called: save_model replaces SimpleHistoryAdmin's (publishing.py
#   records the history's user); history_form_view, get_actions, response_change and
#   add_success_message call the libraries' in turn, or, for a restore or a change kept for
#   review, answer in their place.
# - BackgroundImportMixin: CSV imports checked on upload, large files queued
#   (agreements/admin_imports.py); before ImportExportModelAdmin, whose import it overrides.
# - ImportExportModelAdmin: django-import-export's import and export pages.
# - SimpleHistoryAdmin: django-simple-history's history list and version pages.
@admin.register(Agreement)
class AgreementAdmin(
    PublisherFieldsMixin,
    PublicLinkMixin,
    ReviewedAdmin,
    BackgroundImportMixin,
    ImportExportModelAdmin,
    SimpleHistoryAdmin,
):
    resource_classes = [AgreementResource]
    form = AgreementForm
    part_models = (AgreementEvent,)
    list_display = [
        "title",
        "sending_country",
        "receiving_country",
        "status",
        "kind",
        "publication_state",
        "updated_at",
    ]
    list_filter = [
        "publication_state",
        MissingSourceFilter,
        "status",
        "kind",
        "legal_bindingness",
        "text_disclosure",
    ]
    list_select_related = ["sending_country", "receiving_country"]
    search_fields = [
        "title",
        "slug",
        "summary",
        "sending_country__name",
        "receiving_country__name",
    ]
    autocomplete_fields = ["sending_country", "receiving_country", "sources"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "updated_at"
    readonly_fields = ["created_at", "updated_at", "public_link"]
    inlines = [AgreementEventInline, TransferInline]
    formfield_overrides = URL_FIELDS
    actions = ["submit_for_review", "publish", "publish_alone", "withdraw"]
    history_list_display = ["publication_state", "status", "version"]
    fieldsets = [
        (
            None,
            {"fields": ["title", "slug", ("sending_country", "receiving_country"), "public_link"]},
        ),
        (
            "Nature and status",
            {"fields": [("kind", "status"), ("legal_bindingness", "text_disclosure"), "text_url"]},
        ),
        (
            "Dates (a month or a year is stored as its first day)",
            {
                "fields": [
                    ("announced_on", "announced_precision"),
                    ("signed_on", "signed_precision"),
                    ("in_force_on", "in_force_precision"),
                    ("ended_on", "ended_precision"),
                ]
            },
        ),
        (
            "Substance",
            {
                "fields": [
                    "summary",
                    ("compensation_amount", "compensation_currency"),
                    "compensation_notes",
                    "cap",
                    "eligible_populations",
                    "sources",
                ]
            },
        ),
        (
            "Translations",
            {
                "fields": translations_of("title", "summary"),
                "classes": ["collapse"],
                "description": TRANSLATIONS_HELP,
            },
        ),
        (
            "Review and publication",
            {
                "fields": [
                    "publication_state",
                    "public_reason",
                    "publish_transfers",
                    "internal_notes",
                    ("created_at", "updated_at"),
                    "loaded_version",
                ],
                "description": "Editors move a record between Draft and In review; "
                "only publishers can publish or withdraw it. An editor's change to a "
                "published record is kept as a proposed revision until a publisher approves.",
            },
        ),
    ]

    publisher_fields = ("public_reason", "publish_transfers")

    @admin.action(description="Publish selected, without their transfers")
    def publish_alone(self, request, queryset):
        if not can_publish(request.user):
            raise PermissionDenied
        waiting = queryset.exclude(publication_state=PublicationState.PUBLISHED)
        self._each(
            request,
            waiting,
            lambda record: publishing.publish(record, request.user, with_transfers=False),
            "published",
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Transfer:
            return super().save_formset(request, form, formset, change)
        # Each transfer is a record of its own: its own version, state and review.
        for transfer_form in formset.forms:
            if formset.can_delete and formset._should_delete_form(transfer_form):
                continue
            if transfer_form.has_changed():
                self._save_inline_transfer(request, formset, transfer_form)
        return None

    def _save_inline_transfer(self, request, formset, transfer_form):
        transfer = transfer_form.instance
        transfer.agreement = formset.instance
        target = transfer.publication_state
        if transfer.pk is None:
            if target not in EDITOR_STATES:
                transfer.publication_state = PublicationState.DRAFT
            self._door(request, lambda: publishing.edit(
                transfer, request.user, loaded_version=None, proposed=None, write=transfer_form.save
            ))  # fmt: skip
        else:
            transfer.publication_state = Transfer.objects.values_list(
                "publication_state", flat=True
            ).get(pk=transfer.pk)
            proposal = self._door(
                request,
                lambda: publishing.edit(
                    transfer,
                    request.user,
                    loaded_version=transfer_form.cleaned_data.get("loaded_version"),
                    proposed=lambda: revisions.snapshot_from_forms(transfer, transfer_form),
                    write=transfer_form.save,
                ),
            )
            if proposal is not None:
                messages.success(
                    request,
                    f"Your change to the transfer “{transfer}” was saved as proposed revision "
                    f"#{proposal.pk}, for a publisher to review.",
                )
        if target != transfer.publication_state:
            self._door(request, lambda: publishing.transition(transfer, request.user, target))


# ReadOnlyAdminMixin refuses every write; SimpleHistoryAdmin shows each event's history.
@admin.register(AgreementEvent)
class AgreementEventAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Events are part of their agreement's content: they are written only on the agreement's
    page, where a change to a published agreement goes to review with the rest of it. Here they
    can be found and read."""

    list_display = ["agreement", "kind", "date", "date_precision", "source_count"]
    list_filter = ["kind", "date_precision"]
    list_select_related = ["agreement"]
    search_fields = ["description", "agreement__title"]
    autocomplete_fields = ["agreement", "sources"]
    date_hierarchy = "date"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(source_total=Count("sources"))

    @admin.display(description="sources", ordering="source_total")
    def source_count(self, obj):
        return obj.source_total


class ReportedFigureInline(admin.TabularInline):
    model = ReportedFigure
    form = CleanTextForm
    extra = 0
    fields = ["people", "people_is_minimum", "source", "note"]
    autocomplete_fields = ["source"]


class TransferAdminForm(PublicationFormMixin, TransferForm):
    public_reason = StateChangeFields.base_fields["public_reason"]


# The bases as for AgreementAdmin: ReviewedAdmin (writes through agreements/publishing.py) before
# BackgroundImportMixin (checked, queued CSV imports) before the two library admins
# (ImportExportModelAdmin: import and export; SimpleHistoryAdmin: history).
@admin.register(Transfer)
class TransferAdmin(
    ReviewedAdmin, BackgroundImportMixin, ImportExportModelAdmin, SimpleHistoryAdmin
):
    resource_classes = [TransferResource]
    form = TransferAdminForm
    part_models = (ReportedFigure,)
    list_display = [
        "__str__",
        "agreement",
        "people",
        "people_is_minimum",
        "publication_state",
        "updated_at",
    ]
    list_filter = ["publication_state", MissingSourceFilter, "date_precision", "to_country__region"]
    list_select_related = ["agreement", "from_country", "to_country"]
    search_fields = [
        "description",
        "place",
        "agreement__title",
        "from_country__name",
        "to_country__name",
    ]
    autocomplete_fields = [
        "agreement",
        "from_country",
        "to_country",
        "nationalities",
        "continues",
        "sources",
    ]
    date_hierarchy = "date"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ReportedFigureInline]
    actions = ["submit_for_review", "publish", "withdraw"]
    history_list_display = ["publication_state", "people", "version"]

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "loaded_version"]
        if not can_publish(request.user):
            fields = [f for f in fields if f != "public_reason"]
        return [*fields, "loaded_version"]


class UsageFilter(admin.SimpleListFilter):
    title = "cited"
    parameter_name = "cited"

    def lookups(self, request, model_admin):
        return [("yes", "Cited by a record"), ("no", "Not cited by anything")]

    def queryset(self, request, queryset):
        cited = (
            Exists(Agreement.sources.through.objects.filter(source=OuterRef("pk")))
            | Exists(AgreementEvent.sources.through.objects.filter(source=OuterRef("pk")))
            | Exists(Transfer.sources.through.objects.filter(source=OuterRef("pk")))
            | Exists(CourtCase.sources.through.objects.filter(source=OuterRef("pk")))
            | Exists(CourtRuling.sources.through.objects.filter(source=OuterRef("pk")))
        )
        if self.value() == "yes":
            return queryset.filter(cited)
        if self.value() == "no":
            return queryset.exclude(cited)
        return queryset


class ArchiveFilter(admin.SimpleListFilter):
    title = "archive copy"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "No archive URL yet"), ("yes", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(archive_url="")
        if self.value() == "yes":
            return queryset.exclude(archive_url="")
        return queryset


class LinkHealthFilter(admin.SimpleListFilter):
    """The last check of each source's URL (manage.py check_sources): dead links to replace or
    archive, moved ones to update. "Never checked" includes sources whose URL changed since."""

    title = "link health"
    parameter_name = "link"

    def lookups(self, request, model_admin):
        return [*LinkHealth.choices, ("never", "Never checked")]

    def queryset(self, request, queryset):
        current = Q(link_check__url=F("url"))
        if self.value() == "never":
            return queryset.exclude(current)
        if self.value() in LinkHealth.values:
            return queryset.filter(current, link_check__status=self.value())
        return queryset


class SourceForm(PublicationFormMixin, VersionedForm):
    pass


# --- court cases and their rulings ----------------------------------------------------------------


class CourtRulingInline(admin.StackedInline):
    model = CourtRuling
    form = CleanTextForm
    formset = EventInlineFormSet  # a published case's rulings each cite a source
    extra = 0
    fields = [
        ("date", "date_precision", "kind"),
        "court",
        "description",
        *translations_of("description"),
        "sources",
        "internal_notes",
    ]
    autocomplete_fields = ["sources"]


class CourtCaseForm(VersionedForm):
    public_reason = StateChangeFields.base_fields["public_reason"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("publication_state") == PublicationState.PUBLISHED and not cleaned.get(
            "sources"
        ):
            self.add_error("sources", NEEDS_SOURCE)
        return cleaned


class CourtCaseAdminForm(PublicationFormMixin, CourtCaseForm):
    pass


# The bases as for AgreementAdmin: publisher-only fields hidden from editors, the "Page" link,
# writes through agreements/publishing.py, then the history pages. No CSV import.
@admin.register(CourtCase)
class CourtCaseAdmin(PublisherFieldsMixin, PublicLinkMixin, ReviewedAdmin, SimpleHistoryAdmin):
    form = CourtCaseAdminForm
    part_models = (CourtRuling,)
    list_display = ["name", "court", "jurisdiction", "stage", "decided_on", "publication_state"]
    list_filter = ["publication_state", MissingSourceFilter, "stage", "jurisdiction"]
    list_select_related = ["jurisdiction"]
    search_fields = ["name", "docket", "citation", "court", "outcome"]
    autocomplete_fields = ["jurisdiction", "agreements", "sources"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at", "public_link"]
    inlines = [CourtRulingInline]
    formfield_overrides = URL_FIELDS
    actions = ["submit_for_review", "publish", "withdraw"]
    history_list_display = ["publication_state", "stage", "version"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "public_link", ("court", "jurisdiction")]}),
        (
            "Reference (a docket or a neutral citation, or both)",
            {"fields": [("docket", "citation"), "judgment_url"]},
        ),
        (
            "Dates and stage (a month or a year is stored as its first day)",
            {
                "fields": [
                    ("filed_on", "filed_precision"),
                    ("decided_on", "decided_precision"),
                    "stage",
                    "outcome",
                ]
            },
        ),
        ("Substance", {"fields": ["summary", "agreements", "sources"]}),
        (
            "Translations",
            {
                "fields": translations_of("outcome", "summary"),
                "classes": ["collapse"],
                "description": TRANSLATIONS_HELP,
            },
        ),
        (
            "Review and publication",
            {
                "fields": [
                    "publication_state",
                    "public_reason",
                    "internal_notes",
                    ("created_at", "updated_at"),
                    "loaded_version",
                ],
                "description": "Editors move a case between Draft and In review; only "
                "publishers can publish or withdraw it. An editor's change to a published case "
                "is kept as a proposed revision until a publisher approves.",
            },
        ),
    ]

    publisher_fields = ("public_reason",)


# ProtectedDeleteAdmin: deleting a cited source is refused, naming what cites it
# (agreements/protection.py). The others as for AgreementAdmin: ReviewedAdmin (writes through
# agreements/publishing.py, which versions sources too) before BackgroundImportMixin before the
# library admins (import and export; history).
@admin.register(Source)
class SourceAdmin(
    ProtectedDeleteAdmin,
    ReviewedAdmin,
    BackgroundImportMixin,
    ImportExportModelAdmin,
    SimpleHistoryAdmin,
):
    resource_classes = [SourceResource]
    form = SourceForm
    has_publication_state = False
    list_display = [
        "title", "publisher", "published_on", "kind", "has_archive", "link_health", "link",
    ]  # fmt: skip
    list_filter = [ArchiveFilter, LinkHealthFilter, "kind", UsageFilter]
    list_select_related = ["link_check"]
    search_fields = ["title", "publisher", "url"]
    date_hierarchy = "published_on"
    readonly_fields = ["link_health_detail", "created_at", "updated_at"]
    formfield_overrides = URL_FIELDS

    @admin.display(boolean=True, description="archived")
    def has_archive(self, obj):
        return bool(obj.archive_url)

    @admin.display(description="link health", ordering="link_check__status")
    def link_health(self, obj):
        check = obj.current_link_check
        if check is None:
            return "never checked"
        if check.http_status:
            return f"{check.get_status_display()} (HTTP {check.http_status})"
        return check.get_status_display()

    @admin.display(description="last link check")
    def link_health_detail(self, obj):
        """Read-only: what manage.py check_sources last saw (agreements/links.py)."""
        check = obj.current_link_check if obj.pk else None
        if check is None:
            return "Never checked (manage.py check_sources checks every source daily)."
        return format_html(
            "{} on {}{}{}",
            self.link_health(obj),
            timezone.localtime(check.checked_at).strftime("%Y-%m-%d %H:%M"),
            format_html(
                ' — now at <a href="{}" rel="noopener noreferrer">{}</a>',
                check.final_url,
                check.final_url,
            )
            if check.status == LinkHealth.MOVED
            else "",
            format_html(" — {}", check.error) if check.error else "",
        )

    @admin.display(description="URL")
    def link(self, obj):
        return format_html('<a href="{}" rel="noopener noreferrer">open</a>', obj.url)


from agreements import admin_review  # noqa: E402, F401
