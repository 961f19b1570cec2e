"""Generated query strings against every public list: the answer each page promises (never a
5xx), never unescaped input."""

import pytest
from django.urls import resolve
from django.utils.http import urlencode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreements.models import Country
from tests.factories import (
    AgreementFactory,
    CourtCaseFactory,
    CourtRulingFactory,
    SourceFactory,
    TransferFactory,
)
from tracker.query import declared_parameters

pytestmark = pytest.mark.django_db

KEYS = [
    "q", "country", "sending_country", "receiving_country", "status", "kind", "date_from", "date_to",
    "ordering", "page", "from_country", "to_country", "nationality", "agreement", "code", "page_size",
    "onward", "court", "stage",
]  # fmt: skip
NASTY = [
    "", "0", "-1", "9" * 40, "2025-13-40", "2025-02-29", "0000-00-00", "99999-01-01", "US", "us", "ZZ",
    "<script>x</script>", "' OR 1=1 --", "\x00", "%00", "../../etc/passwd", "in_force", "-title", "☃", "🇺🇸",
    "x" * 3000,
]  # fmt: skip
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=60))
query = st.lists(st.tuples(st.sampled_from(KEYS), values), max_size=6)


@pytest.fixture
def records(settings):
    settings.RATELIMIT_ENABLED = False  # input handling is under test here, not the limits
    transfer = TransferFactory(
        published=True,
        agreement=AgreementFactory(published=True, title="Sample deal", slug="sample-deal"),
    )
    case = CourtCaseFactory(published=True, slug="sample-case", agreements=[transfer.agreement])
    CourtRulingFactory(case=case)
    return transfer


# Every public URL: pages, their detail pages, feeds, downloads and the API.
PATHS = [
    "/", "/agreements/", "/agreements/sample-deal/", "/transfers/{transfer}/", "/agreements/sample-deal/changes/",
    "/agreements/feed/", "/transfers/", "/countries/", "/countries/us/", "/countries/us/feed/",
    "/changes/", "/changes/feed/", "/search/", "/trends/", "/sources/", "/sitemap.xml",
    "/sitemap-transfers.xml", "/cases/", "/cases/sample-case/", "/sitemap-cases.xml", "/about/",
    "/api/", "/api/openapi.json", "/api/agreements/", "/api/transfers/", "/api/sources/",
    "/api/cases/", "/cases/export.csv", "/cases/export.json",
    "/api/countries/", "/agreements/export.csv", "/agreements/export.json",
    "/transfers/export.csv", "/transfers/export.json", "/sources/export.csv",
    "/countries/export.csv",
]  # fmt: skip
# The filtered lists (PublicListView): a submitted form's empty fields are dropped by a redirect
# (tracker/query.py), and their page number is read as Django's ListView reads it.
LISTS = {"/agreements/", "/transfers/", "/cases/", "/sources/"}
# The change logs read a page number with Paginator.page(), which knows no "last".
CHANGE_LOGS = {"/changes/", "/agreements/sample-deal/changes/"}
# The API and the downloads answer a query their filters refuse with a 400 naming the field.
DATA = {path for path in PATHS if path.startswith("/api/") or "/export." in path} - {
    "/api/",
    "/api/openapi.json",
}
# The country index's "go to country" form: a code naming a country goes to that country's page.
COUNTRY_INDEX = "/countries/"
# Every other page reads no parameter that can be wrong: whatever the query string, a 200.


def is_first_page(value, last_allowed):
    """Whether a page parameter names the only page the sample records fill."""
    try:
        return int(value) == 1
    except ValueError:
        return last_allowed and value == "last"


def expected_status(path, params):
    if path in LISTS:
        if any(not value.strip() for _, value in params):
            return 302
        pages = [value for key, value in params if key == "page"]
        return 200 if not pages or is_first_page(pages[-1], last_allowed=True) else 404
    if path in CHANGE_LOGS:
        pages = [value for key, value in params if key == "page"]
        return 200 if not pages or is_first_page(pages[-1], last_allowed=False) else 404
    if path in DATA:
        return None  # 200 or 400: checked against the parameters below
    if path == COUNTRY_INDEX:
        codes = [value for key, value in params if key == "code"]
        code = codes[-1].strip().upper() if codes else ""
        named = len(code) == 2 and code.isalpha() and Country.objects.filter(code=code).exists()
        return 302 if named else 200  # an unknown code: the index, saying it was not found
    return 200


@pytest.mark.parametrize("path", PATHS)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=query)
def test_generated_query_strings_get_the_answer_their_page_promises(client, records, path, params):
    url = path.format(transfer=records.pk)
    response = client.get(url + "?" + urlencode(params))
    expected = expected_status(path, params)
    if expected is not None:
        assert response.status_code == expected, (params, response.status_code)
    else:
        assert response.status_code in (200, 400), (params, response.status_code)
        declared = declared_parameters(resolve(url))
        if not declared & {key for key, _ in params}:
            assert response.status_code == 200, params  # nothing it reads was sent
    if response.status_code == 302 and path == COUNTRY_INDEX:
        code = [value for key, value in params if key == "code"][-1].strip().lower()
        assert response["Location"] == f"/countries/{code}/"
    elif response.status_code == 302:
        # The same list, without the empty fields a submitted form sends.
        kept = [(key, value) for key, value in params if value.strip()]
        assert response["Location"] == url + (f"?{urlencode(kept)}" if kept else "")
    if response.status_code == 400:
        # A JSON message that names the parameters at fault, all of them ones that were sent.
        error = response.json()
        assert error["error"] and error["fields"], error
        assert set(error["fields"]) <= {key for key, _ in params}, (params, error)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    body = body.decode()
    for _, value in params:
        # HTML pages escape what they echo; JSON errors may quote it (as JSON, not markup).
        if "<" in value and len(value) > 3 and response["Content-Type"].startswith("text/html"):
            assert value not in body  # HTML pages escape what they echo


# Stored text as hostile as it comes: markup, formulas, control characters, quotes, scripts.
# Written with update(), as rows arriving through the database (a restore, a script) would be:
# the forms refuse control characters, the outputs must still hold for rows already stored
# (all but NUL, which Postgres text cannot hold).
HOSTILE_ALPHABET = st.sampled_from(
    list("<>&\"';=+-@|/\\\t\r\n\x01\x0b\x0c\x1b\x7f ") + ["\u2028", "\ufeff", "é", "ع", "🇸"]
)
hostile_text = st.one_of(
    st.sampled_from(
        [
            "=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
            "<img src=x onerror=alert(1)>", "<a href=\"javascript:alert(1)\">x</a>", "]]>", "\x0cform feed",
        ]
    ),
    st.text(HOSTILE_ALPHABET, min_size=1, max_size=30),
)  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def uncached_records(records, settings):
    # Rows change under update(), which (like a restore) bumps nothing: no cache between examples.
    settings.PAGE_CACHE_SECONDS = 0
    settings.DATA_CACHE = False
    records.agreement.sources.add(SourceFactory())
    return records


def _marked(text):
    """text between markers no page has: found in a page as it is, it was not escaped."""
    return f"\u27e6{text}\u27e7"


def _store(transfer, text):
    from agreements.models import Agreement, CourtCase, CourtRuling, Source, Transfer

    Agreement.objects.filter(pk=transfer.agreement_id).update(title=text, summary=text)
    cases = CourtCase.objects.filter(slug="sample-case")
    cases.update(name=text, court=text, docket=text, outcome=text, summary=text)
    CourtRuling.objects.filter(case__in=cases).update(description=text, court=text)
    Transfer.objects.filter(pk=transfer.pk).update(description=text, place=text)
    cited = Source.objects.filter(pk__in=transfer.agreement.sources.values("pk"))
    assert cited.update(title=text, publisher=text)


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile_text)
def test_stored_hostile_text_keeps_feeds_well_formed_and_plain(client, uncached_records, text):
    from xml.etree import ElementTree

    _store(uncached_records, text)
    code = uncached_records.agreement.sending_country.code.lower()
    for path in ("/agreements/feed/", f"/countries/{code}/feed/", "/changes/feed/"):
        response = client.get(path)
        assert response.status_code == 200, path
        feed = ElementTree.fromstring(_body(response))  # well-formed XML 1.0
        atom = "{http://www.w3.org/2005/Atom}"
        for summary in feed.iter(f"{atom}summary"):
            assert summary.get("type") == "text"  # never markup to a feed reader
            assert not list(summary)  # no child elements smuggled in


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile_text)
def test_stored_hostile_text_never_starts_a_csv_cell_as_a_formula(client, uncached_records, text):
    import csv
    import io

    _store(uncached_records, text)
    for dataset in ("agreements", "transfers", "cases", "sources"):
        response = client.get(f"/{dataset}/export.csv")
        assert response.status_code == 200, dataset
        rows = list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))
        header, data = rows[0], rows[1:]
        assert data, dataset
        for row in data:
            assert len(row) == len(header), (dataset, row)  # no row broken by a line end
            for cell in row:
                assert not cell.startswith(FORMULA_START), (dataset, cell)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile_text)
def test_stored_hostile_text_comes_back_intact_from_json_and_escaped_in_html(
    client, uncached_records, text
):
    import json

    from django.utils.html import escape

    marked = _marked(text)
    _store(uncached_records, marked)
    for path in ("/api/agreements/", "/agreements/export.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        data = json.loads(_body(response))
        rows = data["results"] if isinstance(data, dict) else data
        assert rows[0]["title"] == marked  # JSON carries the text exactly, as data
    slug = uncached_records.agreement.slug
    response = client.get("/api/cases/")
    assert response.json()["results"][0]["name"] == marked
    pages = ("/agreements/", f"/agreements/{slug}/", f"/transfers/{uncached_records.pk}/")
    for path in (*pages, "/cases/", "/cases/sample-case/", f"/search/?q={slug}"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        if any(character in text for character in "<>&\"'"):
            assert marked not in body, path  # escaped, not as stored
        if path == f"/agreements/{slug}/" and text.strip() and text.isprintable():
            assert escape(marked) in body  # the title is on its page, escaped
