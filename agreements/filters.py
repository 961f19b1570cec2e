"""FilterSets for the public lists: the one query builder each list page (and later its
exports and feeds) uses. Every parameter is validated by a form field before it reaches SQL,
so a malformed query string becomes a form error, never a database error."""

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from agreements import l10n
from agreements.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    CaseStage,
    Country,
    CourtCase,
    Region,
    Source,
    SourceKind,
    Transfer,
)
from agreements.translations import translated
from tracker.caching import cached_per_version

MAX_QUERY_LENGTH = 200


class CodeChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that checks the shape of the value before querying with it.

    ModelChoiceField passes any string to the database; a NUL byte there is a DataError (500).
    """

    def __init__(self, *args, max_length=100, uppercase=False, **kwargs):
        self.max_length = max_length
        self.uppercase = uppercase
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value not in self.empty_values:
            value = str(value).strip()
            if len(value) > self.max_length or "\x00" in value:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                )
            if self.uppercase:
                value = value.upper()
        return super().to_python(value)


class CountryChoiceIterator(forms.models.ModelChoiceIterator):
    """The countries in the alphabetical order of their names in the page's language."""

    def __iter__(self):
        if l10n.is_default_language():
            yield from super().__iter__()
            return
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        countries = sorted(self.queryset, key=lambda country: l10n.sort_key(country.local_name))
        for country in countries:
            yield self.choice(country)


class CountryChoiceField(CodeChoiceField):
    """Countries named in the page's language: "Rwanda", "Ruanda"."""

    iterator = CountryChoiceIterator

    def label_from_instance(self, obj):
        return obj.local_name


class CountryFilter(django_filters.ModelChoiceFilter):
    """A country by its ISO code, in either case: ?country=sv or ?country=SV."""

    field_class = CountryChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Country.objects.all())
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("empty_label", _("Any country"))
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("uppercase", True)
        super().__init__(*args, **kwargs)


def _country_either_side(first: str, second: str):
    def method(queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Q(**{first: value}) | Q(**{second: value}))

    return method


def _text_field_kwargs():
    return {
        "max_length": MAX_QUERY_LENGTH,
        "validators": [ProhibitNullCharactersValidator()],
    }


class DateRangeForm(forms.Form):
    """Refuses a range whose start is after its end instead of showing an empty list."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(gettext("The start date must not be after the end date."))
        return cleaned


def _date_filter(lookup: str, label: str, field_name: str):
    return django_filters.DateFilter(
        field_name=field_name,
        lookup_expr=lookup,
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Unknown values (no date, no head-count) sort last in either direction.

    `default` is the ordering the list has with no parameter: the menu's empty choice (its
    empty_label) stands for it, so the menu does not offer it a second time under its own
    value (which stays valid, for links made before). `orders` maps a field to the order of
    its values where that is not the alphabet's (a status sorts by its lifecycle)."""

    def __init__(self, *args, default=None, orders=None, **kwargs):
        self.default = default
        self.orders = orders or {}
        super().__init__(*args, **kwargs)

    @property
    def field(self):
        field = super().field
        if self.default:
            field.widget.choices = [choice for choice in field.choices if choice[0] != self.default]
        return field

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        name = value.removeprefix("-")
        if name in self.orders:
            expression = Case(
                *(
                    When(**{name: item}, then=Value(rank))
                    for rank, item in enumerate(self.orders[name])
                ),
                default=Value(len(self.orders[name])),
            )
        else:
            expression = F(name)
        if value.startswith("-"):
            return expression.desc(nulls_last=True)
        return expression.asc(nulls_last=True)


class YearFilter(django_filters.NumberFilter):
    """A whole year within bounds: a decimal or a year 99999 never reaches the date lookup."""

    field_class = forms.IntegerField


class AgreementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Text in title or summary"), **_text_field_kwargs()
    )
    country = CountryFilter(
        label=_("Country (either side)"),
        method=_country_either_side("sending_country", "receiving_country"),
    )
    sending_country = CountryFilter(field_name="sending_country", label=_("Sending country"))
    receiving_country = CountryFilter(field_name="receiving_country", label=_("Receiving country"))
    status = django_filters.MultipleChoiceFilter(
        choices=AgreementStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        label=_("Status"),
    )
    kind = django_filters.ChoiceFilter(
        choices=AgreementKind.choices,
        empty_label=pgettext_lazy("kind of instrument", "Any kind"),
        label=_("Kind"),
    )
    # first_date is annotated by AgreementQuerySet.with_first_date().
    date_from = _date_filter("gte", _("Dated from"), "first_date")
    date_to = _date_filter("lte", _("Dated to"), "first_date")
    year = YearFilter(
        field_name="first_date",
        lookup_expr="year",
        label=_("Year (earliest known date)"),
        min_value=1900,
        max_value=2100,
        widget=forms.NumberInput(attrs={"min": 1900, "max": 2100}),
    )
    ordering = NullsLastOrderingFilter(
        fields=(
            ("updated_at", "updated"),
            ("first_date", "date"),
            ("title", "title"),
            ("status", "status"),
        ),
        # Ascending labels are keyed by field, descending ones by "-param" (django-filter).
        field_labels={
            "updated_at": _("Least recently updated"),
            "-updated": _("Recently updated"),
            "first_date": _("Oldest first"),
            "-date": _("Newest first"),
            # Translators: Alphabetical order, first to last letter of your alphabet.
            "title": _("Title A–Z"),
            # Translators: Alphabetical order, last to first letter of your alphabet.
            "-title": _("Title Z–A"),
            "status": _("Status, from reported to ended"),
            "-status": _("Status, from ended to reported"),
        },
        # The lifecycle, as AgreementStatus lists it: reported ... in force ... terminated.
        orders={"status": AgreementStatus.values},
        label=_("Sort by"),
        empty_label=_("Recently updated"),
        default="-updated",
    )

    class Meta:
        model = Agreement
        fields = []
        form = DateRangeForm

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.search(value) if value else queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # Ties in any ordering are broken so that pages never overlap.
        return queryset.order_by(*queryset.query.order_by, "-updated_at", "id")

    # Facets: parameter -> (value path, label path or None for choices). Year is annotated.
    FACETS = {
        "status": ("status", None),
        "kind": ("kind", None),
        "sending_country": ("sending_country__code", "sending_country__name"),
        "receiving_country": ("receiving_country__code", "receiving_country__name"),
        "year": ("facet_year", None),
    }

    def facets(self, limit=12):
        """For each facet, its options with the number of results each would give, counting
        every other active filter but not its own (one grouped query per facet), and the link
        that selects or removes it. Call on a valid FilterSet.

        Computed once per filter combination and change of the data (the counts are the
        expensive part of the list page)."""
        return _facets(self, limit)

    def cache_key(self):
        """What the facets depend on (tracker.caching reads this): the FilterSet's class, its
        base queryset and its parameters, but not the page."""
        params = tuple(sorted(
            (key, tuple(values)) for key, values in self.data.lists() if key != "page"
        )) if self.is_bound else None  # fmt: skip
        return (type(self), self.queryset, params)

    def _facet_url(self, name, value, multiple):
        """This page's query with one facet value selected (or, if selected, removed)."""
        query = {key: list(values) for key, values in self.data.lists() if key != "page"}
        current = query.get(name, [])
        if value in current:
            current = [v for v in current if v != value]
        elif multiple:
            current = [*current, value]
        else:
            current = [value]
        query[name] = current
        return "?" + urlencode(sorted((k, v) for k, v in query.items() if v), doseq=True)

    def _facets(self, limit):
        result = []
        for name, (path, label_path) in self.FACETS.items():
            # Every active filter but this facet's own, from the already validated form.
            queryset = self.queryset
            for other, value in (self.form.cleaned_data if self.is_bound else {}).items():
                if other not in (name, "ordering"):
                    queryset = self.filters[other].filter(queryset, value)
            queryset = queryset.order_by().annotate(facet_year=ExtractYear("first_date"))
            fields = [path, label_path] if label_path else [path]
            rows = (
                queryset.filter(**{f"{path}__isnull": False})
                .values(*fields)
                .annotate(count=Count("pk"))
                .order_by("-count", path)
            )
            selected = [str(value) for value in self.data.getlist(name)] if self.is_bound else []
            labels = dict(self.base_filters[name].extra.get("choices") or [])
            options = []
            for row in rows[:limit]:
                value = str(row[path])
                options.append(
                    {
                        "value": value,
                        "label": l10n.country_name(value, row[label_path])
                        if label_path
                        else labels.get(value, value),
                        "count": row["count"],
                        "selected": value in selected,
                    }
                )
            facet_filter = self.base_filters[name]
            multiple = isinstance(facet_filter, django_filters.MultipleChoiceFilter)
            for option in options:
                option["url"] = self._facet_url(name, option["value"], multiple)
            result.append(
                {
                    "name": name,
                    "label": facet_filter.label,
                    "multiple": multiple,
                    "options": options,
                }
            )
        return result


@cached_per_version
def _facets(filterset, limit):
    return filterset._facets(limit)


class AgreementChoiceField(CodeChoiceField):
    def label_from_instance(self, obj):
        return translated(obj, "title")[0]


class AgreementChoiceFilter(django_filters.ModelChoiceFilter):
    """A published agreement by its slug."""

    field_class = AgreementChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Agreement.objects.published().order_by("title"))
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("empty_label", _("Any agreement"))
        kwargs.setdefault("label", _("Agreement"))
        super().__init__(*args, **kwargs)


ONWARD_CHOICES = [
    ("yes", _("Onward removals only")),
    ("no", _("First transfers only (no onward removals)")),
]


def _onward_removals(queryset, name, value):
    """yes: transfers that continue a published transfer; no: those that continue none."""
    if value == "yes":
        return queryset.onward()
    if value == "no":
        return queryset.first_legs()
    return queryset


class TransferFilter(django_filters.FilterSet):
    country = CountryFilter(
        label=_("Country (either side)"),
        method=_country_either_side("from_country", "to_country"),
    )
    # Translators: The country a transfer left.
    from_country = CountryFilter(field_name="from_country", label=pgettext_lazy("transfer", "From"))
    # Translators: The country a transfer went to.
    to_country = CountryFilter(field_name="to_country", label=pgettext_lazy("transfer", "To"))
    nationality = CountryFilter(field_name="nationalities", label=_("Nationality"))
    agreement = AgreementChoiceFilter()
    date_from = _date_filter("gte", _("From date"), "date")
    date_to = _date_filter("lte", _("To date"), "date")
    # A choice, not a checkbox: "?onward=yes" reads plainly in a shared link, and any other
    # value is the form's "Select a valid choice" rather than a silent "no".
    onward = django_filters.ChoiceFilter(
        choices=ONWARD_CHOICES,
        empty_label=_("All transfers"),
        label=_("Onward removals"),
        method=_onward_removals,
    )
    ordering = NullsLastOrderingFilter(
        fields=(("date", "date"), ("people", "people")),
        field_labels={
            "date": _("Oldest first"),
            "-date": _("Newest first"),
            "people": _("Fewest people"),
            "-people": _("Most people"),
        },
        label=_("Sort by"),
        empty_label=_("Newest first"),
        default="-date",
    )

    class Meta:
        model = Transfer
        fields = []
        form = DateRangeForm

    # Past this many published agreements a menu is unusable (and megabytes on every page):
    # the agreement is then typed as its slug, which its page shows in the address bar.
    AGREEMENT_MENU_LIMIT = 300

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        published = _published_agreement_count()
        if published > self.AGREEMENT_MENU_LIMIT:
            field = self.form.fields["agreement"]
            field.widget = forms.TextInput(
                attrs={
                    "maxlength": 100,
                    # Translators: A text box's placeholder; keep the example (a short name) as it is.
                    "placeholder": gettext("e.g. %(example)s") % {"example": "us-el-salvador-2025"},
                }
            )
            # "/agreements/<name>/", with the language's prefix ("/es/agreements/<nombre>/").
            # Translators: Stands for an agreement's short name in its address: /agreements/<name>/
            slot = "<{}>".format(pgettext("placeholder in an address", "name"))
            address = reverse("agreement-detail", kwargs={"slug": "SLUG"}).replace("SLUG", slot)
            field.help_text = gettext(
                "The agreement's short name, as in its address: %(address)s"
            ) % {"address": address}

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*queryset.query.order_by, "-date", "-id")


class SourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Text in title or publisher"), **_text_field_kwargs()
    )
    kind = django_filters.ChoiceFilter(
        choices=SourceKind.choices,
        empty_label=pgettext_lazy("kind of source", "Any kind"),
        label=_("Kind"),
    )

    class Meta:
        model = Source
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(publisher__icontains=value))


@cached_per_version
def _published_agreement_count():
    return Agreement.objects.published().count()


@cached_per_version
def _published_courts():
    """(court, court) for the courts of published cases, for the court menu."""
    courts = (
        CourtCase.objects.published().order_by("court").values_list("court", flat=True).distinct()
    )
    return [(court, court) for court in courts]


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Text in name, citation, court or outcome"), **_text_field_kwargs()
    )
    country = CountryFilter(label=_("Country (its courts or its agreements)"), method="involving")
    agreement = AgreementChoiceFilter(field_name="agreements")
    court = django_filters.ChoiceFilter(
        choices=_published_courts, empty_label=_("Any court"), label=_("Court")
    )
    stage = django_filters.ChoiceFilter(
        choices=CaseStage.choices, empty_label=_("Any stage"), label=_("Stage")
    )
    ordering = NullsLastOrderingFilter(
        fields=(("decided_on", "decided"), ("filed_on", "filed"), ("name", "name")),
        field_labels={
            "decided_on": _("Decided, oldest first"),
            "-decided": _("Decided, newest first"),
            "filed_on": _("Filed, oldest first"),
            "-filed": _("Filed, newest first"),
            # Translators: Alphabetical order, first to last letter of your alphabet.
            "name": _("Name A–Z"),
            # Translators: Alphabetical order, last to first letter of your alphabet.
            "-name": _("Name Z–A"),
        },
        label=_("Sort by"),
        empty_label=_("Filed, newest first"),
        default="-filed",
    )

    class Meta:
        model = CourtCase
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.search(value) if value else queryset

    def involving(self, queryset, name, value):
        return queryset.involving(value) if value else queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # Default order, and ties broken so that pages never overlap.
        ordering = queryset.query.order_by or (F("filed_on").desc(nulls_last=True),)
        return queryset.order_by(*ordering, "name", "id")


class CountryListFilter(django_filters.FilterSet):
    region = django_filters.ChoiceFilter(
        choices=Region.choices, empty_label=_("Any region"), label=_("Region")
    )

    class Meta:
        model = Country
        fields = []
