"""CSV and JSON downloads and the JSON API: exactly the filtered, published rows."""

import csv
import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from openapi_spec_validator import validate

from tests.factories import (
    AgreementFactory,
    CourtCaseFactory,
    CourtRulingFactory,
    SourceFactory,
    TransferFactory,
    country,
)

pytestmark = pytest.mark.django_db


def streamed(response):
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def records():
    cited = SourceFactory(title="Cited story")
    SourceFactory(title="Uncited story")
    rw = AgreementFactory(
        published=True,
        slug="gb-rw",
        sending_country=country("GB"),
        receiving_country=country("RW"),
        status="terminated",
    )
    sv = AgreementFactory(
        published=True,
        slug="us-sv",
        sending_country=country("US"),
        receiving_country=country("SV"),
        sources=[cited],
    )
    AgreementFactory(
        slug="draft-deal",
        publication_state="draft",
        sending_country=country("DK"),
        receiving_country=country("RW"),
    )
    TransferFactory(
        published=True,
        agreement=sv,
        people=261,
        nationalities=[country("VE"), country("SV")],
        sources=[cited],
    )
    TransferFactory(published=True, agreement=rw, people=1, sources=[cited])
    TransferFactory(agreement=sv, publication_state="draft", people=99)
    case = CourtCaseFactory(published=True, slug="r-aaa", agreements=[rw], sources=[cited])
    CourtRulingFactory(case=case, sources=[cited])
    return rw, sv


def test_csv_has_exactly_the_filtered_published_rows(client, records):
    response = client.get("/agreements/export.csv?receiving_country=RW")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert [row["slug"] for row in rows] == ["gb-rw"]
    assert rows[0]["status"] == "terminated"


def test_json_has_exactly_the_filtered_published_rows(client, records):
    rows = json.loads(streamed(client.get("/transfers/export.json?to_country=SV")))
    assert [(row["people"], row["nationalities"]) for row in rows] == [(261, ["SV", "VE"])]


def test_unfiltered_download_excludes_drafts(client, records):
    slugs = {row["slug"] for row in json.loads(streamed(client.get("/agreements/export.json")))}
    assert slugs == {"gb-rw", "us-sv"}
    people = {row["people"] for row in json.loads(streamed(client.get("/transfers/export.json")))}
    assert people == {261, 1}


def test_source_download_lists_only_publicly_cited_sources(client, records):
    titles = [row["title"] for row in json.loads(streamed(client.get("/sources/export.json")))]
    assert titles == ["Cited story"]


def test_country_download_counts_published_records(client, records):
    rows = {row["code"]: row for row in json.loads(streamed(client.get("/countries/export.json")))}
    assert rows["RW"]["agreement_count"] == 1
    assert rows["SV"]["transfer_count"] == 1


def test_download_with_a_malformed_filter_is_a_400(client, records):
    response = client.get("/agreements/export.csv?country=ZZ")
    assert response.status_code == 400
    assert "country" in response.json()["fields"]


def test_api_pages_the_filtered_rows(client, records):
    body = client.get("/api/agreements/?country=RW&page_size=1").json()
    assert body["count"] == 1
    assert [row["slug"] for row in body["results"]] == ["gb-rw"]
    assert body["next"] is None


def test_api_next_and_previous_links(client, records):
    first = client.get("/api/transfers/?page_size=1").json()
    assert first["count"] == 2 and first["next"].endswith("page_size=1&page=2")
    second = client.get("/api/transfers/?page_size=1&page=2").json()
    assert second["previous"] and second["next"] is None
    assert first["results"][0]["id"] != second["results"][0]["id"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/agreements/?country=ZZ",
        "/api/agreements/?status=bogus",
        "/api/agreements/?date_from=2025-13-01",
        "/api/agreements/?page=0",
        "/api/agreements/?page=abc",
        "/api/agreements/?page=99",
        "/api/agreements/?page_size=100000",
        "/api/transfers/?agreement=%00",
        "/api/sources/?kind=blog",
        "/api/countries/?region=atlantis",
    ],
)
def test_api_answers_malformed_parameters_with_400_json(client, records, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["error"]


def test_openapi_schema_is_valid(client):
    schema = client.get("/api/openapi.json").json()
    validate(schema)
    assert set(schema["paths"]) == {
        "/api/agreements/",
        "/api/transfers/",
        "/api/cases/",
        "/api/sources/",
        "/api/countries/",
    }


def test_api_rows_match_their_openapi_schema(client, records):
    from openapi_schema_validator import OAS30Validator

    schema = client.get("/api/openapi.json").json()
    for name in ("agreements", "transfers", "cases", "sources", "countries"):
        row_schema = schema["components"]["schemas"][name]
        for row in client.get(f"/api/{name}/").json()["results"]:
            OAS30Validator(row_schema).validate(row)


def test_list_pages_link_to_downloads_with_their_filters(client, records):
    content = client.get("/agreements/?receiving_country=RW").content.decode()
    assert 'href="/agreements/export.csv?receiving_country=RW"' in content
    assert 'href="/agreements/export.json?receiving_country=RW"' in content


def test_data_documentation_is_up_to_date(capsys):
    call_command("data_schema")
    assert capsys.readouterr().out == (settings.BASE_DIR / "docs" / "DATA.md").read_text()


def test_a_large_export_streams(client, records, django_assert_max_num_queries):
    for _ in range(30):
        TransferFactory(published=True, agreement=records[1], nationalities=[country("VE")])
    response = client.get("/transfers/export.csv")
    assert response.streaming
    with django_assert_max_num_queries(3):  # the filter form's choices are not rendered; one SELECT
        lines = streamed(response).splitlines()
    assert len(lines) == 33


def test_sources_page_lists_only_publicly_cited_sources(client, records):
    content = client.get("/sources/").content.decode()
    assert "Cited story" in content and "Uncited story" not in content
    assert 'href="/sources/export.csv?"' in content


def test_sources_page_filters_by_kind_and_words(client, records):
    SourceFactory(title="Court ruling on transfers", kind="court")
    assert client.get("/sources/?kind=court").context["page_obj"].paginator.count == 0  # uncited
    assert client.get("/sources/?q=cited").context["page_obj"].paginator.count == 1


def test_the_transfers_csv_written_by_postgres_matches_the_python_writer(client):
    """The big download is COPY'd by Postgres; its bytes must equal what csv.writer makes of
    the same rows (awkward values included)."""
    import datetime

    from django.http import QueryDict

    from agreements import exports
    from agreements.api import DATASETS

    deal = AgreementFactory(published=True, slug="csv-deal")
    awkward = [
        {"place": 'Camp "North", block 7', "description": "line one\nline two", "people": None},
        {"place": "", "description": "", "people": 0, "people_is_minimum": True},
        {"place": "Zürich – ünïcode", "description": "semi;colon, comma", "people": 12},
        # Formulas (OWASP's CSV injection): both writers must neutralise them the same way.
        {"place": '=HYPERLINK("http://x")', "description": "-2+3", "people": 1},
        {"place": "@SUM(A1)", "description": "\t=1+1", "people": 2},
        {"place": "+1", "description": "\r=cmd", "people": 3},
    ]
    for number, fields in enumerate(awkward):
        TransferFactory(
            published=True,
            agreement=deal if number != 1 else None,
            date=[datetime.date(2025, 3, 16), datetime.date(2025, 3, 1), datetime.date(2025, 1, 1)][
                number % 3
            ],
            date_precision=["day", "month", "year"][number % 3],
            nationalities=[country("VE"), country("SV")][: number + 1] if number else [],
            sources=[SourceFactory(url=f"https://example.org/{number},x")] if number != 1 else [],
            **fields,
        )
    for ordering in ("", "?ordering=people", "?to_country=SV"):
        copied = client.get(f"/transfers/export.csv{ordering}").getvalue()
        queryset = DATASETS["transfers"].filtered(QueryDict(ordering.lstrip("?")))
        written = b"".join(
            chunk
            for chunk in exports.csv_response(
                exports.transfer_rows(queryset), exports.TRANSFER_COLUMNS, "x"
            ).streaming_content
        )
        assert copied == written, ordering
    copied = client.get("/transfers/export.csv").getvalue()
    assert b"'=HYPERLINK" in copied and b"'@SUM" in copied and b"'\t=1+1" in copied
    assert b"'\n=cmd" in copied  # a lone carriage return would break the row for CSV readers


@pytest.mark.parametrize("dataset", ["agreements", "transfers", "sources"])
def test_no_csv_cell_starts_a_formula(client, dataset):
    """Every CSV download, whichever writer makes it: no cell begins with = + - @ tab or CR."""
    import csv
    import io

    from tests.factories import AgreementFactory, SourceFactory, TransferFactory

    source = SourceFactory(title="=1+1", publisher="@evil", url="https://example.org/=x")
    deal = AgreementFactory(
        published=True, title="+deal", summary="-cmd|' /C calc'!A0", sources=[source]
    )
    TransferFactory(
        published=True, agreement=deal, place="=2+2", description="\r@x", sources=[source]
    )
    text = b"".join(client.get(f"/{dataset}/export.csv").streaming_content).decode()
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert cells and not [
        cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    ]
