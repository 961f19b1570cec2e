"""Trust on the page: the About and methodology page and its definitions, "status as of",
"Cite this page" in four formats, the favicon and the corrections contact."""

import datetime
import json

import pytest
from django.urls import reverse

from agreements.citation import Citation
from agreements.glossary import SECTIONS
from agreements.models import AgreementStatus
from tests.factories import (
    AgreementFactory,
    CourtCaseFactory,
    SourceFactory,
    TransferFactory,
    country,
)

pytestmark = pytest.mark.django_db


def test_every_recorded_value_has_a_definition():
    for section in SECTIONS:
        assert len(section.terms) == len(section.choices.choices)
        assert all(term.definition.strip() for term in section.terms)


def test_the_about_page_defines_each_status_under_its_own_anchor(client):
    page = client.get(reverse("about")).content.decode()
    for value in AgreementStatus.values:
        assert f'id="status-{value}"' in page
    assert 'id="licence"' in page and "CC BY 4.0" in page
    assert 'id="corrections"' in page


def test_every_page_links_to_the_about_page(client):
    agreement = AgreementFactory(published=True)
    for url in ("/", "/agreements/", agreement.get_absolute_url(), "/countries/"):
        assert 'href="/about/"' in client.get(url).content.decode(), url


def test_a_status_links_to_its_definition_and_says_as_of_when(client):
    agreement = AgreementFactory(published=True, status="suspended")
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert 'href="/about/#status-suspended"' in page
    assert f"status as of {agreement.updated_at.day} {agreement.updated_at:%B %Y}" in page
    listed = client.get("/agreements/").content.decode()
    assert 'href="/about/#status-suspended"' in listed and "as of" in listed


def test_the_corrections_contact_is_shown_when_set(client, settings):
    settings.CORRECTIONS_CONTACT = "corrections@tracker.example.org"
    page = client.get(reverse("about")).content.decode()
    assert 'href="mailto:corrections@tracker.example.org"' in page


@pytest.mark.parametrize("kind", ["agreement", "case", "transfer", "country"])
def test_record_pages_offer_a_citation_in_four_formats(client, kind):
    agreement = AgreementFactory(
        published=True, sending_country=country("GB"), receiving_country=country("RW")
    )
    record = {
        "agreement": agreement,
        "case": CourtCaseFactory(published=True, agreements=[agreement]),
        "transfer": TransferFactory(published=True, agreement=agreement, sources=[SourceFactory()]),
        "country": country("RW"),
    }[kind]
    page = client.get(record.get_absolute_url()).content.decode()
    assert "Cite this page" in page
    assert f"http://testserver{record.get_absolute_url()}" in page
    assert "last updated" in page and "accessed" in page
    assert "@misc{tt-" in page and "TY  - ELEC" in page and "&quot;container-title&quot;" in page


CITATION = Citation(
    key="tt-agreement-x",
    title='Deal {A} 100% & "B"\nsecond line',
    url="https://tracker.example.org/agreements/x/",
    updated=datetime.date(2026, 11, 30),
    accessed=datetime.date(2026, 12, 1),
)


def test_bibtex_escapes_what_bibtex_would_read_as_commands():
    assert r"title = {Deal \{A\} 100\% \& " in CITATION.bibtex
    assert "\nsecond" not in CITATION.bibtex


def test_ris_keeps_each_field_on_one_line():
    lines = CITATION.ris.splitlines()
    assert lines[0] == "TY  - ELEC" and lines[-1] == "ER  - "
    assert 'TI  - Deal {A} 100% & "B" second line' in lines
    assert "Y2  - 2026/12/01" in lines


def test_csl_json_is_valid_and_dated():
    (item,) = json.loads(CITATION.csl_json)
    assert item["URL"] == "https://tracker.example.org/agreements/x/"
    assert item["issued"] == {"date-parts": [[2026, 11, 30]]}
    assert item["accessed"] == {"date-parts": [[2026, 12, 1]]}


def test_the_plain_citation_names_the_site_dates_and_permalink():
    assert CITATION.plain == (
        'Transfer Tracker, “Deal {A} 100% & "B" second line”, last updated 30 November 2026, '
        "https://tracker.example.org/agreements/x/ (accessed 1 December 2026)."
    )


def test_favicon_is_linked_and_answered(client):
    assert 'rel="icon"' in client.get("/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
