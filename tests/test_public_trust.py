"""The public change log, feed and sitemap; withdrawals; figures that sources disagree on."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from agreements.models import ReportedFigure
from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    SourceFactory,
    TransferFactory,
    country,
)

pytestmark = pytest.mark.django_db

SURFACES = ["/", "/agreements/", "/agreements/?q=Vanishing", "/countries/", "/countries/dk/", "/countries/rw/",
            "/transfers/", "/sitemap-agreements.xml",
            "/sitemap-transfers.xml", "/search/?q=vanishing",
            "/trends/", "/api/agreements/",
            "/agreements/export.csv", "/transfers/export.json"]  # fmt: skip
# Where a withdrawn record legitimately stays: its earlier public entries, then the withdrawal.
WITHDRAWAL_SURFACES = ["/changes/", "/changes/feed/", "/agreements/feed/", "/countries/dk/feed/"]


@pytest.fixture
def vanishing():
    agreement = AgreementFactory(
        published=True,
        title="Vanishing Deal",
        slug="vanishing-deal",
        sending_country=country("DK"),
        receiving_country=country("RW"),
    )
    TransferFactory(published=True, agreement=agreement, place="Vanishing Camp")
    agreement.summary = "An edit while published"
    agreement.save()
    return agreement


def test_a_published_record_is_on_every_surface(client, vanishing):
    for url in [
        "/agreements/", "/countries/dk/", "/changes/", "/changes/feed/", "/sitemap-agreements.xml",
    ]:  # fmt: skip
        assert "anishing" in client.get(url).content.decode(), url


def shown_by(url, transfer):
    """What shows the vanishing record on a surface: its title, slug, transfer's address or place;
    on the country list, its sending country's link; on the trends chart, its receiving country."""
    if url == "/countries/":
        return ["/countries/dk/"]
    if url == "/trends/":
        return ["Rwanda"]
    return ["Vanishing Deal", "vanishing-deal", transfer.get_absolute_url(), "Vanishing Camp"]


def test_a_withdrawn_record_disappears_from_every_public_surface(publisher_client, vanishing):
    client = Client()  # anonymous: publisher_client is the logged-in default client
    transfer = vanishing.transfers.get()

    def content_of(url):
        response = client.get(url)
        assert response.status_code == 200, url
        return (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()

    # Each surface shows the record first (and caches the page), so its absence below means
    # the withdrawal removed it.
    for url in SURFACES:
        assert any(marker in content_of(url) for marker in shown_by(url, transfer)), url
    publisher_client.post(
        reverse("admin:agreements_agreement_changelist"),
        {
            "action": "withdraw",
            "_selected_action": [vanishing.pk],
            "reason": "Duplicate of another record.",
            "apply": "1",
        },
    )
    vanishing.refresh_from_db()
    assert vanishing.publication_state == "withdrawn"

    for url in SURFACES:
        content = content_of(url)
        assert not [marker for marker in shown_by(url, transfer) if marker in content], url
    for url in WITHDRAWAL_SURFACES:
        content = content_of(url)
        assert (
            "Withdrawn: Vanishing Deal" in content or "Withdrawn</strong> agreement" in content
        ), url
        assert "Duplicate of another record." in content, url
    assert client.get("/agreements/vanishing-deal/").status_code == 410
    assert client.get(transfer.get_absolute_url()).status_code == 410
    assert client.get("/agreements/vanishing-deal/changes/").status_code == 200
    cache.clear()  # the pages above were cached after the withdrawal; render them to inspect
    assert client.get("/").context["agreement_total"] == 0
    assert client.get("/countries/dk/").context["totals_out"]["transfer_count"] == 0


def test_change_log_shows_what_changed_and_when(client):
    agreement = AgreementFactory(published=True, status="signed", title="Changing Deal")
    agreement.status = "in_force"
    agreement.save()
    content = client.get("/changes/").content.decode()
    assert "Changing Deal" in content
    assert (
        '<del dir="auto">Signed</del> <span class="dir-arrow" aria-hidden="true">→</span> '
        '<ins dir="auto">In force</ins>'
    ) in content


def test_change_log_hides_who_and_private_notes(client, editor):
    agreement = AgreementFactory(published=True, title="Noted Deal")
    # A public change, so the entry is listed and could name its author.
    agreement.title = "Renamed Deal"
    agreement.internal_notes = "Private lead from a source"
    agreement._history_user = editor
    agreement.save()
    content = client.get("/changes/").content.decode()
    assert "Renamed Deal" in content
    assert "Private lead" not in content
    assert "edna" not in content
    assert "Internal notes" not in content


def test_changes_made_while_a_draft_stay_private(client):
    agreement = AgreementFactory(publication_state="draft", title="Quiet Deal")
    agreement.summary = "Draft edit"
    agreement.save()
    agreement.publication_state = "published"
    agreement.save()
    content = client.get("/changes/").content.decode()
    assert content.count("Quiet Deal") == 1  # only "Published", not the draft edit
    assert "Published</strong> agreement" in content


def test_agreement_page_links_to_its_own_changes(client):
    agreement = AgreementFactory(published=True)
    AgreementEventFactory(agreement=agreement, description="Signed in the capital.")
    assert (
        reverse("agreement-changes", args=[agreement.slug])
        in client.get(agreement.get_absolute_url()).content.decode()
    )
    AgreementFactory(published=True, title="Other Deal")
    content = client.get(reverse("agreement-changes", args=[agreement.slug])).content.decode()
    assert agreement.title in content and "Other Deal" not in content


def test_atom_feed_is_valid_atom(client):
    AgreementFactory(published=True, title="Feed Deal")
    response = client.get("/changes/feed/")
    assert response["Content-Type"].startswith("application/atom+xml")
    from xml.etree import ElementTree

    root = ElementTree.fromstring(response.content)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert [e.find("{http://www.w3.org/2005/Atom}title").text for e in entries] == [
        "Published: Feed Deal"
    ]


def test_every_public_record_shows_when_it_was_last_updated(client):
    transfer = TransferFactory(published=True)
    for url in (transfer.agreement.get_absolute_url(), transfer.get_absolute_url()):
        assert "Last updated" in client.get(url).content.decode()


@pytest.fixture
def disputed():
    transfer = TransferFactory(published=True, people=261)
    for people, publisher, minimum in [
        (238, "Outlet A", False),
        (261, "Outlet B", False),
        (200, "Outlet C", True),
    ]:
        ReportedFigure.objects.create(
            transfer=transfer,
            people=people,
            people_is_minimum=minimum,
            source=SourceFactory(publisher=publisher),
        )
    return transfer


def test_conflicting_figures_show_the_range_and_each_source(client, disputed):
    content = client.get(disputed.get_absolute_url()).content.decode()
    assert "sources report 200–261" in content
    for publisher in ("Outlet A", "Outlet B", "Outlet C"):
        assert publisher in content
    assert "at least 200" in content
    assert "261" in content


def test_lists_show_the_range_beside_the_chosen_figure(client, disputed):
    assert "reported 200–261" in client.get("/transfers/").content.decode()


def test_agreeing_figures_show_no_range(client):
    transfer = TransferFactory(published=True, people=17)
    ReportedFigure.objects.create(transfer=transfer, people=17, source=SourceFactory())
    assert "sources report" not in client.get(transfer.get_absolute_url()).content.decode()


def test_seeded_el_salvador_flight_shows_its_disputed_count(client, seeded):
    from agreements.models import Transfer

    transfer = Transfer.objects.get(agreement__slug="us-sv-2025", people=261)
    content = client.get(transfer.get_absolute_url()).content.decode()
    assert "sources report 137–261" in content
