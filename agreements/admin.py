from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.utils.html import format_html

from agreements.models import Agreement, AgreementEvent, Country, Source, Transfer

# Editors paste links without a scheme; assume https (Django 6's default) rather than http.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "alpha3", "region", "is_state"]
    list_filter = ["region", "is_state"]
    search_fields = ["name", "code", "alpha3"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]


class AgreementEventInline(admin.StackedInline):
    model = AgreementEvent
    extra = 0
    fields = [("date", "date_precision", "kind"), "description", "sources"]
    autocomplete_fields = ["sources"]


class TransferInline(admin.StackedInline):
    model = Transfer
    extra = 0
    fields = [
        ("date", "date_precision"),
        ("from_country", "to_country"),
        ("people", "people_is_minimum"),
        "nationalities",
        "place",
        "description",
        "sources",
        "is_published",
    ]
    autocomplete_fields = ["from_country", "to_country", "nationalities", "sources"]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "sending_country",
        "receiving_country",
        "status",
        "kind",
        "is_published",
        "updated_at",
    ]
    list_filter = ["is_published", "status", "kind", "legal_bindingness", "text_disclosure"]
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
        ("Publication", {"fields": ["is_published", ("created_at", "updated_at")]}),
    ]

    @admin.display(description="Public page")
    def public_link(self, obj):
        if obj.pk and obj.is_published:
            return format_html(
                '<a href="{}">{}</a>', obj.get_absolute_url(), obj.get_absolute_url()
            )
        return "Not public until published."


@admin.register(AgreementEvent)
class AgreementEventAdmin(admin.ModelAdmin):
    list_display = ["agreement", "kind", "date", "date_precision"]
    list_filter = ["kind", "date_precision"]
    list_select_related = ["agreement"]
    search_fields = ["description", "agreement__title"]
    autocomplete_fields = ["agreement", "sources"]
    date_hierarchy = "date"


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "agreement",
        "people",
        "people_is_minimum",
        "is_published",
        "updated_at",
    ]
    list_filter = ["is_published", "date_precision", "to_country__region"]
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


class UsageFilter(admin.SimpleListFilter):
    title = "cited"
    parameter_name = "cited"

    def lookups(self, request, model_admin):
        return [("yes", "Cited by a record"), ("no", "Not cited by anything")]

    def queryset(self, request, queryset):
        citations = Count("agreements", distinct=True) + Count("events", distinct=True)
        citations += Count("transfers", distinct=True)
        if self.value() == "yes":
            return queryset.alias(citations=citations).filter(citations__gt=0)
        if self.value() == "no":
            return queryset.alias(citations=citations).filter(citations=0)
        return queryset


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["title", "publisher", "published_on", "kind", "has_archive", "link"]
    list_filter = ["kind", UsageFilter]
    search_fields = ["title", "publisher", "url"]
    formfield_overrides = URL_FIELDS
    date_hierarchy = "published_on"
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(boolean=True, description="archived")
    def has_archive(self, obj):
        return bool(obj.archive_url)

    @admin.display(description="URL")
    def link(self, obj):
        return format_html('<a href="{}" rel="noopener noreferrer">open</a>', obj.url)
