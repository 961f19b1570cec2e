"""Data downloads (CSV, JSON) and the read-only JSON API, with an OpenAPI description.

Each list is a Dataset: its FilterSet (the same one the HTML page uses), its published rows,
and its row schema. Malformed parameters get a 400 with a JSON message, never a 500.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import pgettext_lazy
from django_filters import filters

from agreements import exports
from agreements.filters import (
    AgreementFilter,
    CaseFilter,
    CountryFilter,
    CountryListFilter,
    SourceFilter,
    TransferFilter,
)
from agreements.models import Agreement, Country, CourtCase, Source, Transfer
from tracker.query import filter_parameters, reads_query

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str  # lazily translated for /data/; English in the API (exports.english)
    filterset: type
    queryset: Callable
    rows: Callable
    columns: list
    key: str  # the row's identifying column
    key_field: str  # the model field behind it
    # For the largest list: its CSV cells as SQL, so Postgres writes the CSV (exports.py).
    csv_cells: Callable | None = None

    def filtered(self, params):
        filterset = self.filterset(params, queryset=self.queryset())
        if not filterset.is_valid():
            raise BadRequest("Invalid parameters.", filterset.form.errors.get_json_data())
        return filterset.qs


def _countries():
    return Country.objects.with_records().order_by("name", "code")


DATASETS = {
    "agreements": Dataset(
        "agreements",
        pgettext_lazy("data dictionary", "Published agreements."),
        AgreementFilter,
        lambda: Agreement.objects.published().with_first_date(),
        exports.agreement_rows,
        exports.AGREEMENT_COLUMNS,
        "slug",
        "slug",
    ),
    "transfers": Dataset(
        "transfers",
        pgettext_lazy("data dictionary", "Published transfers."),
        TransferFilter,
        lambda: Transfer.objects.published(),
        exports.transfer_rows,
        exports.TRANSFER_COLUMNS,
        "id",
        "id",
        csv_cells=exports.transfer_csv_cells,
    ),
    "cases": Dataset(
        "cases",
        pgettext_lazy("data dictionary", "Published court cases about the agreements."),
        CaseFilter,
        lambda: CourtCase.objects.published(),
        exports.case_rows,
        exports.CASE_COLUMNS,
        "slug",
        "slug",
    ),
    "sources": Dataset(
        "sources",
        pgettext_lazy("data dictionary", "Sources cited by published records."),
        SourceFilter,
        lambda: Source.objects.listed_publicly(),
        exports.source_rows,
        exports.SOURCE_COLUMNS,
        "url",
        "url",
    ),
    "countries": Dataset(
        "countries",
        pgettext_lazy(
            "data dictionary", "Countries with at least one published agreement or transfer."
        ),
        CountryListFilter,
        _countries,
        exports.country_rows,
        exports.COUNTRY_COLUMNS,
        "code",
        "code",
    ),
}


class BadRequest(Exception):
    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


def _dataset(name):
    try:
        return DATASETS[name]
    except KeyError:
        raise Http404("No such list") from None


def _bad_request(error):
    return JsonResponse({"error": error.message, "fields": error.fields}, status=400)


def _dataset_parameters(dataset, **kwargs):
    data = DATASETS.get(dataset)
    return filter_parameters(data.filterset) if data else ()


def _api_parameters(dataset, **kwargs):
    return {*_dataset_parameters(dataset), "page", "page_size"}


@reads_query(per_url=_dataset_parameters)
def download(request, dataset, fmt):
    """/<list>/export.csv and /<list>/export.json: every filtered row, streamed."""
    data = _dataset(dataset)
    try:
        queryset = data.filtered(request.GET)
    except BadRequest as error:
        return _bad_request(error)
    filename = f"transfer-tracker-{data.name}"
    if fmt == "csv" and data.csv_cells:
        return exports.copy_csv_response(data.csv_cells(queryset), data.columns, filename)
    rows = data.rows(queryset)
    if fmt == "csv":
        return exports.csv_response(rows, data.columns, filename)
    if fmt == "json":
        return exports.json_response(rows, filename)
    raise Http404("Unknown format")


def _positive_int(params, name, default, maximum):
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9 or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"{name} must be a whole number from 1 to {maximum}.", {name: [raw[:50]]})
    return int(raw)


@reads_query(per_url=_api_parameters)
def api_list(request, dataset):
    data = _dataset(dataset)
    try:
        page_size = _positive_int(request.GET, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        page = _positive_int(request.GET, "page", 1, 10**8)
        queryset = data.filtered(request.GET)
    except BadRequest as error:
        return _bad_request(error)
    count = queryset.count()
    start = (page - 1) * page_size
    if start and start >= count:
        return _bad_request(BadRequest("page is past the last page.", {"page": [str(page)]}))
    # The page's keys first, then their rows: row aggregates and slicing do not mix in one query.
    keys = list(queryset.values_list(data.key_field, flat=True)[start : start + page_size])
    found = data.queryset().filter(**{f"{data.key_field}__in": keys})
    by_key = {row[data.key]: row for row in data.rows(found)}
    results = [by_key[key] for key in keys]

    def link(number):
        query = request.GET.copy()
        query["page"] = str(number)
        return request.build_absolute_uri(request.path + "?" + query.urlencode())

    last_page = max(1, -(-count // page_size))
    return JsonResponse(
        {
            "count": count,
            "page": page,
            "page_size": page_size,
            "next": link(page + 1) if page < last_page else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": results,
        },
        json_dumps_params={"ensure_ascii": False},
    )


@reads_query()
def api_index(request):
    return JsonResponse(
        {
            "openapi": request.build_absolute_uri(reverse("api-schema")),
            "documentation": "docs/DATA.md in the source repository",
            "lists": {
                name: {
                    "description": exports.english(data.description),
                    "url": request.build_absolute_uri(reverse("api-list", args=[name])),
                    "csv": request.build_absolute_uri(reverse("download", args=[name, "csv"])),
                    "json": request.build_absolute_uri(reverse("download", args=[name, "json"])),
                }
                for name, data in DATASETS.items()
            },
        }
    )


# --- OpenAPI ---------------------------------------------------------------------------------------

_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "partial-date": {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
    "list": {"type": "array", "items": {"type": "string"}},
    "integer-list": {"type": "array", "items": {"type": "integer"}},
}


def _column_schema(column):
    schema = dict(_TYPES[column.type])
    if column.enum:
        schema["enum"] = list(column.enum)
    if column.nullable:
        schema["nullable"] = True
    schema["description"] = exports.english(column.description)
    return schema


def _parameter(name, flt):
    description = str(flt.label or name)
    if isinstance(flt, filters.OrderingFilter):
        schema = {"type": "string", "enum": [value for value, _ in flt.extra["choices"]]}
    elif isinstance(flt, CountryFilter):
        schema = {"type": "string", "pattern": "^[A-Za-z]{2}$"}
    elif isinstance(flt, filters.MultipleChoiceFilter):
        schema = {
            "type": "array",
            "items": {"type": "string", "enum": [v for v, _ in flt.extra["choices"]]},
        }
        return {
            "name": name,
            "in": "query",
            "description": description,
            "schema": schema,
            "style": "form",
            "explode": True,
        }
    elif isinstance(flt, filters.ModelChoiceFilter):  # before ChoiceFilter, its parent
        schema = {"type": "string", "maxLength": 100}
    elif isinstance(flt, filters.ChoiceFilter) and callable(flt.extra["choices"]):
        # Choices that follow the data (the courts of published cases): any short text.
        schema = {"type": "string", "maxLength": 200}
    elif isinstance(flt, filters.ChoiceFilter):
        schema = {"type": "string", "enum": [v for v, _ in flt.extra["choices"]]}
    elif isinstance(flt, filters.DateFilter):
        schema = {"type": "string", "format": "date"}
    else:
        schema = {"type": "string", "maxLength": 200}
    return {"name": name, "in": "query", "description": description, "schema": schema}


@reads_query()
def openapi_schema(request):
    # One document for every language: in English (the schemas' texts, the filters' labels)
    # whatever language is active.
    with translation.override(settings.LANGUAGE_CODE):
        return JsonResponse(_openapi_document())


def _openapi_document():
    error = {
        "description": "Malformed parameters.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}, "fields": {"type": "object"}},
                    "required": ["error"],
                }
            }
        },
    }
    paths, schemas = {}, {}
    for name, data in DATASETS.items():
        parameters = [_parameter(key, flt) for key, flt in data.filterset.base_filters.items()]
        paging = [
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "page_size",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
        row = {
            "type": "object",
            "properties": {column.name: _column_schema(column) for column in data.columns},
            "required": [column.name for column in data.columns],
        }
        page = {
            "type": "object",
            "properties": {
                "count": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "next": {"type": "string", "nullable": True},
                "previous": {"type": "string", "nullable": True},
                "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
            },
            "required": ["count", "results"],
        }
        paths[reverse("api-list", args=[name])] = {
            "get": {
                "summary": exports.english(data.description),
                "operationId": f"list_{name}",
                "parameters": parameters + paging,
                "responses": {
                    "200": {
                        "description": "A page of rows.",
                        "content": {"application/json": {"schema": page}},
                    },
                    "400": error,
                },
            }
        }
        schemas[name] = row
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Transfer Tracker API",
            "version": "1",
            "description": "Read-only access to the tracker's published records. "
            "The same filters work on the HTML lists and on the CSV and JSON downloads.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
