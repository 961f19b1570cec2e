"""A withdrawn record answers 410 Gone saying when and why; its public history stays, followed by
the withdrawal, in the change log and the feeds."""

import datetime
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    TransferFactory,
    country,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
REASON = "Duplicate of another record."
JUNE_2 = datetime.datetime(2025, 6, 2, 9, 30, tzinfo=datetime.UTC)


def withdraw(record, reason=REASON, when=None):
    """As a Publisher's withdrawal leaves it (agreements/publishing.py), without the admin."""
    record.publication_state = "withdrawn"
    record.withdrawn_at = when or timezone.now()
    record.withdrawal_reason = reason
    record.save()
    return record


def republish(record):
    record.publication_state = "published"
    record.withdrawn_at = None
    record.withdrawal_reason = ""
    record.save()
    return record


@pytest.fixture
def agreement():
    return AgreementFactory(
        published=True,
        title="Gone Deal",
        slug="gone-deal",
        sending_country=country("DK"),
        receiving_country=country("RW"),
    )


def feed_entries(client, url):
    """(title, summary, updated) of each entry of the Atom feed at url, which must parse."""
    response = client.get(url)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return [
        (
            entry.findtext(f"{ATOM}title"),
            entry.findtext(f"{ATOM}summary"),
            entry.findtext(f"{ATOM}updated"),
        )
        for entry in root.findall(f"{ATOM}entry")
    ]


# --- the withdrawn record's own page ---------------------------------------------------------


def test_a_withdrawn_agreement_answers_410_saying_when_and_why(client, agreement):
    withdraw(agreement, when=JUNE_2)
    response = client.get("/agreements/gone-deal/")
    assert response.status_code == 410
    assert [t.name for t in response.templates][:2] == ["agreements/withdrawn.html", "base.html"]
    content = response.content.decode()
    assert "<h1>Gone Deal</h1>" in content
    assert "withdrawn from the tracker on" in content and "2 June 2025" in content
    assert REASON in content
    assert 'href="/agreements/gone-deal/changes/"' in content


def test_a_withdrawn_transfer_answers_410_saying_when_and_why(client, agreement):
    transfer = TransferFactory(published=True, agreement=agreement, date=datetime.date(2025, 3, 16))
    withdraw(transfer, reason="The flight never took place.", when=JUNE_2)
    response = client.get(transfer.get_absolute_url())
    assert response.status_code == 410
    content = response.content.decode()
    assert "Transfer from Denmark to Rwanda, 16 March 2025" in content
    assert "2 June 2025" in content and "The flight never took place." in content
    assert 'href="/changes/"' in content


def test_a_transfer_under_a_withdrawn_agreement_is_gone_with_the_agreements_reason(
    client, agreement
):
    transfer = TransferFactory(published=True, agreement=agreement)  # itself still "published"
    withdraw(agreement, when=JUNE_2)
    response = client.get(transfer.get_absolute_url())
    assert response.status_code == 410
    content = response.content.decode()
    assert REASON in content and "2 June 2025" in content
    assert 'with its agreement, <a href="/agreements/gone-deal/">Gone Deal</a>' in content


def test_only_records_that_were_published_get_a_tombstone(client, agreement):
    withdraw(agreement)
    draft = AgreementFactory(publication_state="draft")
    in_review = TransferFactory(publication_state="in_review", agreement__published=True)
    never_public = withdraw(AgreementFactory(publication_state="draft"))
    never_public_transfer = withdraw(
        TransferFactory(publication_state="draft", agreement__published=True)
    )
    assert client.get(agreement.get_absolute_url()).status_code == 410
    for record in (draft, in_review, never_public, never_public_transfer):
        assert client.get(record.get_absolute_url()).status_code == 404, record
    for record in (draft, never_public):
        assert client.get(f"/agreements/{record.slug}/changes/").status_code == 404, record


def test_staff_who_can_preview_see_the_marked_preview_instead(client, editor, agreement):
    transfer = TransferFactory(published=True, agreement=agreement)
    withdraw(agreement)
    for url in (agreement.get_absolute_url(), transfer.get_absolute_url()):
        assert client.get(url).status_code == 410, url  # readers
        client.force_login(editor)
        response = client.get(url)
        client.logout()
        assert response.status_code == 200, url
        assert "<strong>Preview:</strong>" in response.content.decode(), url


def test_the_reason_is_escaped_and_keeps_its_line_breaks(client, agreement):
    withdraw(agreement, reason="<script>alert(1)</script>\nA second line.")
    expected = "&lt;script&gt;alert(1)&lt;/script&gt;<br>A second line."
    for url in ("/agreements/gone-deal/", "/changes/", "/agreements/gone-deal/changes/"):
        content = client.get(url).content.decode()
        assert "<script>alert" not in content, url
        assert expected in content, url


def test_a_tombstone_costs_three_queries(client, agreement, django_assert_max_num_queries):
    transfer = TransferFactory(published=True, agreement=agreement)
    withdraw(agreement)
    for url in (agreement.get_absolute_url(), transfer.get_absolute_url()):
        # the content version, the published record (not found), the withdrawn one
        with django_assert_max_num_queries(3):
            assert client.get(url).status_code == 410


def test_a_tombstone_is_cached_as_410_until_the_record_is_published_again(client, agreement):
    withdraw(agreement)
    first, second = client.get("/agreements/gone-deal/"), client.get("/agreements/gone-deal/")
    assert (first.status_code, first["X-Cache"]) == (410, "miss")
    assert (second.status_code, second["X-Cache"]) == (410, "hit")
    assert second.content == first.content
    republish(agreement)
    again = client.get("/agreements/gone-deal/")
    assert (again.status_code, again["X-Cache"]) == (200, "miss")


# --- the change log ----------------------------------------------------------------------------


def test_the_change_log_keeps_earlier_entries_then_the_withdrawal(client, agreement):
    agreement.status = "suspended"
    agreement.save()
    withdraw(agreement)
    entries = client.get("/changes/").context["entries"]
    assert [(e.action, e.record) for e in entries] == [
        ("Withdrawn", "Gone Deal"),
        ("Updated", "Gone Deal"),
        ("Published", "Gone Deal"),
    ]
    assert entries[0].reason == REASON
    assert all(e.url == "/agreements/gone-deal/" for e in entries)


def test_the_change_log_shows_the_reason_of_a_withdrawal(client, agreement):
    withdraw(agreement)
    content = client.get("/changes/").content.decode()
    assert "<strong>Withdrawn</strong> agreement" in content
    assert f"Why: {REASON}" in content


def test_a_withdrawn_transfer_keeps_its_entries_then_the_withdrawal(client, agreement):
    transfer = TransferFactory(published=True, agreement=agreement, people=10)
    transfer.people = 12
    transfer.save()
    withdraw(transfer, reason="Counted twice.")
    entries = [e for e in client.get("/changes/").context["entries"] if e.kind == "transfer"]
    assert [e.action for e in entries] == ["Withdrawn", "Updated", "Published"]
    assert entries[0].reason == "Counted twice."
    assert entries[0].url == transfer.get_absolute_url()


def test_changes_made_after_the_withdrawal_stay_private(client, agreement):
    event = AgreementEventFactory(agreement=agreement, description="Signed.")
    transfer = TransferFactory(published=True, agreement=agreement, people=10)
    withdraw(agreement)
    agreement.status = "terminated"  # edits while withdrawn were never public
    agreement.save()
    event.date = datetime.date(2025, 4, 1)
    event.save()
    transfer.people = 99
    transfer.save()
    entries = client.get("/changes/").context["entries"]
    assert [(e.action, e.kind) for e in entries] == [
        ("Withdrawn", "agreement"),
        ("Published", "transfer"),
        ("Added", "event"),
        ("Published", "agreement"),
    ]
    assert "Terminated" not in client.get("/changes/").content.decode()


def test_a_withdrawn_agreements_own_change_log_still_works(client, agreement):
    AgreementFactory(published=True, title="Other Deal")
    withdraw(agreement, when=timezone.now())
    response = client.get("/agreements/gone-deal/changes/")
    assert response.status_code == 200
    assert [e.action for e in response.context["entries"]] == ["Withdrawn", "Published"]
    content = response.content.decode()
    assert "This agreement was withdrawn on" in content
    assert "Other Deal" not in content


def test_a_republished_record_shows_as_published_again(client, agreement):
    withdraw(agreement)
    republish(agreement)
    assert client.get("/agreements/gone-deal/").status_code == 200
    actions = [e.action for e in client.get("/changes/").context["entries"]]
    assert actions == ["Published", "Withdrawn", "Published"]
    assert [title for title, _, _ in feed_entries(client, "/agreements/feed/")] == ["Gone Deal"]


# --- feeds and sitemap -------------------------------------------------------------------------


def test_the_changes_feed_carries_the_withdrawal(client, agreement):
    withdraw(agreement)
    entries = feed_entries(client, "/changes/feed/")
    assert entries[0][:2] == ("Withdrawn: Gone Deal", REASON)
    assert [title for title, _, _ in entries[1:]] == ["Published: Gone Deal"]


@pytest.mark.parametrize("url", ["/agreements/feed/", "/countries/dk/feed/"])
def test_the_agreement_feeds_carry_the_withdrawal(client, agreement, url):
    withdraw(agreement, when=JUNE_2)
    AgreementFactory(
        published=True,
        title="Live Deal",
        sending_country=country("DK"),
        receiving_country=country("UG"),
    )
    entries = feed_entries(client, url)
    assert ("Withdrawn: Gone Deal", REASON, "2025-06-02T09:30:00+00:00") in entries
    assert "Live Deal" in [title for title, _, _ in entries]


def test_the_agreement_feed_carries_withdrawals_never_drafts(client, agreement):
    withdraw(agreement)
    AgreementFactory(title="Draft Deal", publication_state="draft")
    withdraw(AgreementFactory(title="Never Public Deal", publication_state="draft"))
    titles = [title for title, _, _ in feed_entries(client, "/agreements/feed/")]
    assert titles == ["Withdrawn: Gone Deal"]


def test_feeds_stay_valid_xml_whatever_the_reason_holds(client, agreement):
    withdraw(agreement, reason="Bad\x0bcharacter & <markup>\nSecond line")
    expected = "Badcharacter & <markup>\nSecond line"  # plain text, in a type="text" summary
    assert feed_entries(client, "/changes/feed/")[0][1] == expected
    assert feed_entries(client, "/agreements/feed/")[0][1] == expected


def test_a_tombstone_is_not_offered_to_search_engines(client, agreement):
    transfer = TransferFactory(published=True, agreement=agreement)
    withdraw(agreement)
    for url in (agreement.get_absolute_url(), transfer.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 410, url
        assert '<meta name="robots" content="noindex">' in response.content.decode(), url
    assert "gone-deal" not in client.get("/sitemap-agreements.xml").content.decode()
    assert transfer.get_absolute_url() not in client.get("/sitemap-transfers.xml").content.decode()
