"""FilterSets for the public lists: the one query builder each list page (and later its
exports and feeds) uses. Every parameter is validated by a form field before it reaches SQL,
so a malformed query string becomes a form error, never a database error."""

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import ExtractYear
from django.utils.http import urlencode

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
from tracker.caching import memoize

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


class CountryFilter(django_filters.ModelChoiceFilter):
    """A country by its ISO code, in either case: ?country=sv or ?country=SV."""

    field_class = CodeChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Country.objects.all())
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("empty_label", "Any country")
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
            raise forms.ValidationError("The start date must not be after the end date.")
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
        method="search", label="Text in title or summary", **_text_field_kwargs()
    )
    country = CountryFilter(
        label="Country (either side)",
        method=_country_either_side("sending_country", "receiving_country"),
    )
    sending_country = CountryFilter(field_name="sending_country", label="Sending country")
    receiving_country = CountryFilter(field_name="receiving_country", label="Receiving country")
    status = django_filters.MultipleChoiceFilter(
        choices=AgreementStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Status",
    )
    kind = django_filters.ChoiceFilter(
        choices=AgreementKind.choices, empty_label="Any kind", label="Kind"
    )
    # first_date is annotated by AgreementQuerySet.with_first_date().
    date_from = _date_filter("gte", "Dated from", "first_date")
    date_to = _date_filter("lte", "Dated to", "first_date")
    year = YearFilter(
        field_name="first_date",
        lookup_expr="year",
        label="Year (earliest known date)",
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
            "updated_at": "Least recently updated",
            "-updated": "Recently updated",
            "first_date": "Oldest first",
            "-date": "Newest first",
            "title": "Title A–Z",
            "-title": "Title Z–A",
            "status": "Status, from reported to ended",
            "-status": "Status, from ended to reported",
        },
        # The lifecycle, as AgreementStatus lists it: reported ... in force ... terminated.
        orders={"status": AgreementStatus.values},
        label="Sort by",
        empty_label="Recently updated",
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
        params = sorted(
            (key, tuple(values)) for key, values in self.data.lists() if key != "page"
        ) if self.is_bound else []  # fmt: skip
        return memoize("facets", lambda: self._facets(limit), limit, params)

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
                        "label": row[label_path] if label_path else labels.get(value, value),
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


class AgreementChoiceField(CodeChoiceField):
    def label_from_instance(self, obj):
        return obj.title


class AgreementChoiceFilter(django_filters.ModelChoiceFilter):
    """A published agreement by its slug."""

    field_class = AgreementChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Agreement.objects.published().order_by("title"))
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("empty_label", "Any agreement")
        kwargs.setdefault("label", "Agreement")
        super().__init__(*args, **kwargs)


ONWARD_CHOICES = [
    ("yes", "Onward removals only"),
    ("no", "First transfers only (no onward removals)"),
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
        label="Country (either side)",
        method=_country_either_side("from_country", "to_country"),
    )
    from_country = CountryFilter(field_name="from_country", label="From")
    to_country = CountryFilter(field_name="to_country", label="To")
    nationality = CountryFilter(field_name="nationalities", label="Nationality")
    agreement = AgreementChoiceFilter()
    date_from = _date_filter("gte", "From date", "date")
    date_to = _date_filter("lte", "To date", "date")
    # A choice, not a checkbox: "?onward=yes" reads plainly in a shared link, and any other
    # value is the form's "Select a valid choice" rather than a silent "no".
    onward = django_filters.ChoiceFilter(
        choices=ONWARD_CHOICES,
        empty_label="All transfers",
        label="Onward removals",
        method=_onward_removals,
    )
    ordering = NullsLastOrderingFilter(
        fields=(("date", "date"), ("people", "people")),
        field_labels={
            "date": "Oldest first",
            "-date": "Newest first",
            "people": "Fewest people",
            "-people": "Most people",
        },
        label="Sort by",
        empty_label="Newest first",
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
        published = memoize("published-agreements", Agreement.objects.published().count)
        if published > self.AGREEMENT_MENU_LIMIT:
            field = self.form.fields["agreement"]
            field.widget = forms.TextInput(
                attrs={"maxlength": 100, "placeholder": "e.g. us-el-salvador-2025"}
            )
            field.help_text = "The agreement's short name, as in its address: /agreements/<name>/"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*queryset.query.order_by, "-date", "-id")


class SourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Text in title or publisher", **_text_field_kwargs()
    )
    kind = django_filters.ChoiceFilter(
        choices=SourceKind.choices, empty_label="Any kind", label="Kind"
    )

    class Meta:
        model = Source
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(publisher__icontains=value))


def _published_courts():
    """(court, court) for the courts of published cases, for the court menu."""
    courts = (
        CourtCase.objects.published().order_by("court").values_list("court", flat=True).distinct()
    )
    return [(court, court) for court in memoize("case-courts", lambda: list(courts))]


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Text in name, citation, court or outcome", **_text_field_kwargs()
    )
    country = CountryFilter(label="Country (its courts or its agreements)", method="involving")
    agreement = AgreementChoiceFilter(field_name="agreements")
    court = django_filters.ChoiceFilter(
        choices=_published_courts, empty_label="Any court", label="Court"
    )
    stage = django_filters.ChoiceFilter(
        choices=CaseStage.choices, empty_label="Any stage", label="Stage"
    )
    ordering = NullsLastOrderingFilter(
        fields=(("decided_on", "decided"), ("filed_on", "filed"), ("name", "name")),
        field_labels={
            "decided_on": "Decided, oldest first",
            "-decided": "Decided, newest first",
            "filed_on": "Filed, oldest first",
            "-filed": "Filed, newest first",
            "name": "Name A–Z",
            "-name": "Name Z–A",
        },
        label="Sort by",
        empty_label="Filed, newest first",
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
        choices=Region.choices, empty_label="Any region", label="Region"
    )

    class Meta:
        model = Country
        fields = []
