from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Exists, OuterRef
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from agreements.models import (
    EDITOR_STATES,
    Agreement,
    AgreementEvent,
    Country,
    PublicationState,
    ReportedFigure,
    Source,
    Transfer,
    can_publish,
    may_change_publication,
)
from agreements.resources import AgreementResource, SourceResource, TransferResource

# Editors paste links without a scheme; assume https (Django 6's default) rather than http.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}

NEEDS_SOURCE = "Cite at least one source before publishing."


# --- review before publishing --------------------------------------------------------------------


class PublicationFormMixin:
    """Refuses publication-state changes the user may not make. The form is the only way in,
    so a crafted POST meets the same check; save_model checks once more."""

    user = None  # set per request by PublicationAdminMixin

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


class PublicationAdminMixin:
    def _with_user(self, form_class, request):
        return type(form_class.__name__, (PublicationFormMixin, form_class), {"user": request.user})


class PublicationModelAdmin(PublicationAdminMixin, admin.ModelAdmin):
    def get_form(self, request, obj=None, **kwargs):
        return self._with_user(super().get_form(request, obj, **kwargs), request)

    def save_model(self, request, obj, form, change):
        old_state = (
            form.initial.get("publication_state", PublicationState.DRAFT)
            if change
            else PublicationState.DRAFT
        )
        if not may_change_publication(request.user, old_state, obj.publication_state):
            raise PermissionDenied("Only publishers can publish or withdraw a record.")
        super().save_model(request, obj, form, change)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not can_publish(request.user):
            actions.pop("publish", None)
            actions.pop("withdraw", None)
        return actions

    @admin.action(description="Submit selected for review", permissions=["change"])
    def submit_for_review(self, request, queryset):
        updated = 0
        for record in queryset.filter(publication_state=PublicationState.DRAFT):
            record.publication_state = PublicationState.IN_REVIEW
            record.save()
            updated += 1
        self.message_user(request, f"{updated} record(s) submitted for review.")

    @admin.action(description="Publish selected")
    def publish(self, request, queryset):
        if not can_publish(request.user):
            raise PermissionDenied
        unsourced = self.unsourced(queryset)
        if unsourced:
            self.message_user(
                request,
                f"Not published: {', '.join(map(str, unsourced))}. {NEEDS_SOURCE}",
                messages.ERROR,
            )
        published = 0
        for record in queryset.exclude(pk__in=[r.pk for r in unsourced]):
            if record.publication_state != PublicationState.PUBLISHED:
                record.publication_state = PublicationState.PUBLISHED
                record.save()
                published += 1
        self.message_user(request, f"{published} record(s) published.")

    @admin.action(description="Withdraw selected from the public site")
    def withdraw(self, request, queryset):
        if not can_publish(request.user):
            raise PermissionDenied
        withdrawn = 0
        for record in queryset.filter(publication_state=PublicationState.PUBLISHED):
            record.publication_state = PublicationState.WITHDRAWN
            record.save()
            withdrawn += 1
        self.message_user(request, f"{withdrawn} record(s) withdrawn.")

    def unsourced(self, queryset):
        """Records in queryset that may not be published for lack of sources."""
        raise NotImplementedError


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


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
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
    formset = EventInlineFormSet
    extra = 0
    fields = [("date", "date_precision", "kind"), "description", "sources", "internal_notes"]
    autocomplete_fields = ["sources"]


class TransferForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("publication_state") == PublicationState.PUBLISHED and not cleaned.get(
            "sources"
        ):
            self.add_error("sources", NEEDS_SOURCE)
        return cleaned


class TransferInline(PublicationAdminMixin, admin.StackedInline):
    model = Transfer
    form = TransferForm
    extra = 0
    show_change_link = True
    fields = [
        ("date", "date_precision"),
        ("from_country", "to_country"),
        ("people", "people_is_minimum"),
        "nationalities",
        "place",
        "description",
        "sources",
        "publication_state",
        "internal_notes",
    ]
    autocomplete_fields = ["from_country", "to_country", "nationalities", "sources"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = self._with_user(formset.form, request)
        return formset


@admin.register(Agreement)
class AgreementAdmin(ImportExportModelAdmin, SimpleHistoryAdmin, PublicationModelAdmin):
    resource_classes = [AgreementResource]
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
    actions = ["submit_for_review", "publish", "withdraw"]
    history_list_display = ["publication_state", "status"]
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
            "Review and publication",
            {
                "fields": ["publication_state", "internal_notes", ("created_at", "updated_at")],
                "description": "Editors move a record between Draft and In review; "
                "only publishers can publish or withdraw it.",
            },
        ),
    ]

    @admin.display(description="Page")
    def public_link(self, obj):
        if not obj.pk:
            return "-"
        label = "public page" if obj.is_published else "preview (staff only until published)"
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), label)

    def unsourced(self, queryset):
        return list(queryset.filter(pk__in=Agreement.objects.missing_sources().values("pk")))


class EventForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        agreement = cleaned.get("agreement")
        if agreement and agreement.is_published and not cleaned.get("sources"):
            self.add_error("sources", "The agreement is published: " + NEEDS_SOURCE)
        return cleaned


@admin.register(AgreementEvent)
class AgreementEventAdmin(SimpleHistoryAdmin):
    form = EventForm
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
    extra = 0
    fields = ["people", "people_is_minimum", "source", "note"]
    autocomplete_fields = ["source"]


@admin.register(Transfer)
class TransferAdmin(ImportExportModelAdmin, SimpleHistoryAdmin, PublicationModelAdmin):
    resource_classes = [TransferResource]
    form = TransferForm
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
    autocomplete_fields = ["agreement", "from_country", "to_country", "nationalities", "sources"]
    date_hierarchy = "date"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ReportedFigureInline]
    actions = ["submit_for_review", "publish", "withdraw"]
    history_list_display = ["publication_state", "people"]

    def unsourced(self, queryset):
        return list(queryset.filter(pk__in=Transfer.objects.missing_sources().values("pk")))


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


@admin.register(Source)
class SourceAdmin(ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [SourceResource]
    list_display = ["title", "publisher", "published_on", "kind", "has_archive", "link"]
    list_filter = [ArchiveFilter, "kind", UsageFilter]
    search_fields = ["title", "publisher", "url"]
    date_hierarchy = "published_on"
    readonly_fields = ["created_at", "updated_at"]
    formfield_overrides = URL_FIELDS

    @admin.display(boolean=True, description="archived")
    def has_archive(self, obj):
        return bool(obj.archive_url)

    @admin.display(description="URL")
    def link(self, obj):
        return format_html('<a href="{}" rel="noopener noreferrer">open</a>', obj.url)
