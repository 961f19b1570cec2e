"""Public pages: published records only, and bad query strings never give a 500."""

import pytest

from tests.factories import AgreementEventFactory, AgreementFactory, TransferFactory, country

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    """A draft agreement with a distinctive title, a published transfer under it, and its own
    published transfer with no agreement that is itself a draft."""
    agreement = AgreementFactory(
        title="Secret Draft Deal",
        slug="secret-draft-deal",
        publication_state="draft",
        sending_country=country("DK"),
        receiving_country=country("RW"),
        summary="Unpublished summary text",
    )
    AgreementEventFactory(agreement=agreement, description="Unpublished event text")
    transfer_under_draft = TransferFactory(
        published=True, agreement=agreement, place="Hidden Camp A"
    )
    draft_transfer = TransferFactory(
        agreement=None,
        publication_state="draft",
        place="Hidden Camp B",
        from_country=country("DK"),
        to_country=country("RW"),
    )
    return agreement, transfer_under_draft, draft_transfer


PUBLIC_PAGES = [
    "/",
    "/agreements/",
    "/agreements/?q=Secret",
    "/agreements/?country=DK",
    "/countries/",
    "/countries/dk/",
    "/countries/rw/",
    "/transfers/",
    "/transfers/?country=DK",
]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_drafts_appear_on_no_public_page(client, draft, url):
    content = client.get(url).content.decode()
    for secret in (
        "Secret Draft Deal",
        "Unpublished summary text",
        "Hidden Camp A",
        "Hidden Camp B",
    ):
        assert secret not in content


def test_draft_agreement_page_is_404(client, draft):
    assert client.get("/agreements/secret-draft-deal/").status_code == 404


def test_transfers_of_a_draft_are_404(client, draft):
    _, under_draft, draft_transfer = draft
    assert client.get(under_draft.get_absolute_url()).status_code == 404
    assert client.get(draft_transfer.get_absolute_url()).status_code == 404


def test_drafts_are_not_counted(client, draft):
    AgreementFactory(
        published=True,
        sending_country=country("DK"),
        receiving_country=country("UG"),
        status="signed",
    )
    home = client.get("/")
    assert home.context["agreement_total"] == 1
    assert home.context["transfer_totals"]["transfer_count"] == 0
    denmark = client.get("/countries/dk/")
    assert len(denmark.context["agreements_sent"]) == 1
    assert denmark.context["totals_out"]["transfer_count"] == 0
    countries = {c.code: c for c in client.get("/countries/").context["countries"]}
    assert countries["DK"].agreement_count == 1
    assert "RW" not in countries


def test_agreement_page_shows_dates_at_their_precision(client):
    agreement = AgreementFactory(
        published=True,
        signed_on="2025-03-01",
        signed_precision="month",
        announced_on="2025-01-01",
        announced_precision="year",
    )
    content = client.get(agreement.get_absolute_url()).content.decode()
    assert "March 2025" in content
    assert "2025-03-01" not in content.replace('datetime="2025-03-01"', "")


def test_agreement_page_shows_timeline_transfers_and_sources(client):
    from tests.factories import SourceFactory

    source = SourceFactory(
        title="Flight lands in San Salvador", archive_url="https://archive.example/x"
    )
    agreement = AgreementFactory(published=True, sources=[source])
    AgreementEventFactory(
        agreement=agreement, description="Both governments signed.", sources=[source]
    )
    TransferFactory(published=True, agreement=agreement, people=238, people_is_minimum=True)
    content = client.get(agreement.get_absolute_url()).content.decode()
    assert "Both governments signed." in content
    assert "at least 238" in content
    assert "Flight lands in San Salvador" in content
    assert 'href="https://archive.example/x"' in content


def test_empty_filter_result_explains_itself(client):
    AgreementFactory(published=True, status="in_force")
    content = client.get("/agreements/?status=denied").content.decode()
    assert "No published agreement matches these filters." in content


def test_filter_state_lives_in_the_url_and_pagination_keeps_it(client):
    for _ in range(30):
        AgreementFactory(
            published=True, sending_country=country("US"), receiving_country=country("SV")
        )
    response = client.get("/agreements/?country=SV&status=in_force")
    content = response.content.decode()
    assert response.context["page_obj"].paginator.count == 30
    assert 'href="?country=SV&amp;page=2&amp;status=in_force"' in content


def test_country_code_in_upper_case_redirects(client):
    response = client.get("/countries/SV/")
    assert response.status_code == 301
    assert response["Location"] == "/countries/sv/"


def test_country_index_go_to_form_redirects(client):
    assert client.get("/countries/?code=rw")["Location"] == "/countries/rw/"


@pytest.mark.parametrize(
    "url",
    [
        "/agreements/?country=ZZ",
        "/agreements/?country=%00",
        "/agreements/?sending_country=" + "A" * 5000,
        "/agreements/?status=bogus&status=in_force",
        "/agreements/?kind=%3Cscript%3E",
        "/agreements/?date_from=2025-13-45",
        "/agreements/?date_from=99999999-01-01",
        "/agreements/?date_to=-1",
        "/agreements/?q=" + "x" * 10000,
        "/agreements/?q=%00",
        "/agreements/?q=%27%3B+DROP+TABLE+agreements_agreement%3B--",
        "/agreements/?ordering=password",
        "/agreements/?ordering=-title,title,bogus",
        "/transfers/?agreement=%00",
        "/transfers/?agreement=" + "s" * 500,
        "/transfers/?nationality=XX",
        "/transfers/?date_from=yesterday",
        "/transfers/?ordering=-people",
        "/countries/?code=%00",
        "/countries/?code=" + "z" * 300,
    ],
)
def test_bad_query_parameters_give_200_with_form_errors(client, url):
    AgreementFactory(published=True)
    response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/agreements/?page=999",
        "/agreements/?page=abc",
        "/agreements/?page=99999999999999999999999999",
        "/agreements/?page=-1",
        "/transfers/?page=0",
        "/countries/zz/",
        "/countries/" + "x" * 300 + "/",
        "/agreements/no-such-deal/",
        "/transfers/999999999/",
    ],
)
def test_out_of_range_or_unknown_gives_404(client, url):
    AgreementFactory(published=True)
    assert client.get(url).status_code == 404


def test_form_error_is_shown_to_the_reader(client):
    content = client.get("/agreements/?country=ZZ").content.decode()
    assert "Select a valid choice" in content
    assert "Some filters could not be used" in content


def test_user_input_is_escaped(client):
    content = client.get("/agreements/?q=%3Cscript%3Ealert(1)%3C/script%3E").content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content


def test_the_sitemap_is_an_index_of_paged_section_sitemaps(client, monkeypatch):
    from agreements import sitemaps
    from tests.factories import AgreementFactory

    # Each agreement is listed in four languages: 12 addresses, 8 to a page.
    monkeypatch.setattr(sitemaps.PagedSitemap, "limit", 8)
    for n in range(3):
        AgreementFactory(published=True, slug=f"mapped-{n}")
    index = client.get("/sitemap.xml").content.decode()
    assert "/sitemap-agreements.xml</loc>" in index
    assert "/sitemap-agreements.xml?p=2</loc>" in index
    first = client.get("/sitemap-agreements.xml").content.decode()
    second = client.get("/sitemap-agreements.xml?p=2").content.decode()
    assert first.count("<url>") == 8 and second.count("<url>") == 4
    assert client.get("/sitemap-nothing.xml").status_code == 404
    assert client.get("/sitemap-agreements.xml?p=9").status_code == 404
