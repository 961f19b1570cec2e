"""The review queue: publishers read a proposed revision as a diff of the live record and
approve or reject it; editors follow theirs (agreements/admin_review.py)."""

import datetime

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from agreements import publishing, revisions
from agreements.models import Agreement, ProposedRevision, RevisionState
from tests.factories import AgreementEventFactory, AgreementFactory, SourceFactory, TransferFactory
from tests.helpers import change_url, loaded_form

pytestmark = pytest.mark.django_db

QUEUE_URL = "admin:agreements_review_queue"


def propose(agreement, user, **fields):
    """A pending proposal of agreement by user, changing the given fields."""
    data = revisions.snapshot(agreement)
    data["fields"].update(fields)
    return publishing.propose(agreement, data, user, base_version=agreement.version)


def decide(client, proposal, **post):
    return client.post(change_url(proposal), post, follow=True)


def shown(response):
    return [str(message) for message in response.context["messages"]]


def test_publisher_sees_the_diff_with_the_old_and_new_summary_and_an_added_event(
    publisher_client, editor
):
    source = SourceFactory()
    agreement = AgreementFactory(published=True, summary="The approved summary.")
    AgreementEventFactory(agreement=agreement, sources=[source])
    data = revisions.snapshot(agreement)
    data["fields"]["summary"] = "The proposed summary."
    added = {**data["events"][0], "id": None}
    added["fields"] = {**added["fields"], "kind": "in_force", "description": "It took effect."}
    data["events"].append(added)
    proposal = publishing.propose(agreement, data, editor, base_version=agreement.version)

    response = publisher_client.get(change_url(proposal))

    assert response.status_code == 200
    rows = [(d.where, d.label, d.old, d.new) for d in response.context["differences"]]
    assert ("Agreement", "summary", "The approved summary.", "The proposed summary.") in rows
    assert any(
        where.startswith("Event:") and label == "added" and new == "It took effect."
        for where, label, _old, new in rows
    )
    content = response.content.decode()
    assert "The approved summary." in content and "The proposed summary." in content
    assert "It took effect." in content
    assert 'name="approve"' in content and 'name="reject"' in content


def test_publisher_approves_through_the_page(client, editor, publisher):
    agreement = AgreementFactory(published=True, summary="Old")
    client.force_login(editor)  # the editor's change of a published record is a proposal
    data = loaded_form(client, change_url(agreement))
    data["summary"] = "New"
    client.post(change_url(agreement), data)
    proposal = ProposedRevision.objects.get()

    client.force_login(publisher)
    response = decide(client, proposal, approve="Approve")

    agreement.refresh_from_db()
    proposal.refresh_from_db()
    assert agreement.summary == "New"
    assert proposal.state == RevisionState.APPROVED
    assert any(f"Approved proposed revision #{proposal.pk}" in m for m in shown(response))
    assert change_url(agreement) in response.content.decode()  # the message links the record


def test_reject_without_a_reason_is_refused(publisher_client, editor):
    proposal = propose(AgreementFactory(published=True), editor, summary="New")

    response = decide(publisher_client, proposal, reject="Reject", reason="  ")

    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.state == RevisionState.PENDING
    assert any("Say why the revision is rejected" in m for m in shown(response))


def test_editor_sees_the_reason_for_the_rejection(client, publisher, editor):
    proposal = propose(AgreementFactory(published=True), editor, summary="New")
    client.force_login(publisher)
    decide(client, proposal, reject="Reject", reason="The source says otherwise.")

    client.force_login(editor)
    response = client.get(change_url(proposal))

    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.state == RevisionState.REJECTED
    assert "The source says otherwise." in response.content.decode()


def test_editor_cannot_approve(editor_client, editor):
    agreement = AgreementFactory(published=True, summary="Old")
    proposal = propose(agreement, editor, summary="New")

    response = decide(editor_client, proposal, approve="Approve")

    assert response.status_code == 200
    assert any("Only publishers can approve" in m for m in shown(response))
    proposal.refresh_from_db()
    agreement.refresh_from_db()
    assert (proposal.state, agreement.summary) == (RevisionState.PENDING, "Old")
    assert 'name="approve"' not in response.content.decode()


def test_author_withdraws_their_proposal(editor_client, editor):
    agreement = AgreementFactory(published=True, summary="Old")
    proposal = propose(agreement, editor, summary="New")
    assert "Withdraw my proposal" in editor_client.get(change_url(proposal)).content.decode()

    response = decide(editor_client, proposal, withdraw="Withdraw my proposal")

    proposal.refresh_from_db()
    agreement.refresh_from_db()
    assert (proposal.state, agreement.summary) == (RevisionState.CANCELLED, "Old")
    assert any("You withdrew your proposed revision" in m for m in shown(response))


def test_stale_proposal_is_refused_and_nothing_is_overwritten(publisher_client, editor):
    agreement = AgreementFactory(published=True, summary="Old")
    proposal = propose(agreement, editor, summary="Proposed")
    # A publisher changed the record after the proposal was made.
    Agreement.objects.filter(pk=agreement.pk).update(
        summary="Corrected by a publisher", version=F("version") + 1
    )
    page = publisher_client.get(change_url(proposal)).content.decode()
    assert "the record changed since this was proposed" in page.lower()

    response = decide(publisher_client, proposal, approve="Approve")

    assert response.status_code == 200
    assert any("changed by someone else" in m for m in shown(response))
    agreement.refresh_from_db()
    proposal.refresh_from_db()
    assert agreement.summary == "Corrected by a publisher"
    assert proposal.state == RevisionState.PENDING


def test_queue_lists_pending_proposals_oldest_first_and_records_in_review(publisher_client, editor):
    newer = propose(AgreementFactory(published=True), editor, summary="Newer")
    older = propose(AgreementFactory(published=True), editor, summary="Older")
    ProposedRevision.objects.filter(pk=older.pk).update(
        proposed_at=timezone.now() - datetime.timedelta(days=3)
    )
    decided = propose(AgreementFactory(published=True), editor, summary="Gone")
    publishing.cancel(decided, editor)
    in_review = AgreementFactory(publication_state="in_review", title="Waiting deal")
    transfer = TransferFactory(agreement=None, publication_state="in_review")

    response = publisher_client.get(reverse(QUEUE_URL))

    assert response.status_code == 200
    assert [p.pk for p in response.context["pending"]] == [older.pk, newer.pk]
    assert response.context["agreements"] == [in_review]
    assert response.context["transfers"] == [transfer]
    content = response.content.decode()
    assert change_url(in_review) in content and change_url(transfer) in content


def test_editors_may_read_the_queue(editor_client, editor):
    proposal = propose(AgreementFactory(published=True), editor, summary="New")

    response = editor_client.get(reverse(QUEUE_URL))

    assert response.status_code == 200
    assert change_url(proposal) in response.content.decode()


def test_index_shows_the_queue_counts_to_publishers(publisher_client, editor):
    propose(AgreementFactory(published=True), editor, summary="One")
    propose(AgreementFactory(published=True), editor, summary="Two")
    AgreementFactory(publication_state="in_review")

    content = publisher_client.get(reverse("admin:index")).content.decode()

    assert "Review queue: 2 proposed revisions, 1 record in review" in content
    assert reverse(QUEUE_URL) in content


def test_index_shows_no_queue_counts_to_editors(editor_client, editor):
    propose(AgreementFactory(published=True), editor, summary="One")

    content = editor_client.get(reverse("admin:index")).content.decode()

    assert "Review queue:" not in content


def test_markup_in_a_proposed_summary_is_escaped(publisher_client, editor):
    proposal = propose(
        AgreementFactory(published=True), editor, summary="<script>alert(1)</script>"
    )

    content = publisher_client.get(change_url(proposal)).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_editor_filters_their_own_proposals(editor_client, editor, publisher):
    mine = propose(AgreementFactory(published=True), editor, summary="Mine")
    propose(AgreementFactory(published=True), publisher, summary="Not mine")

    response = editor_client.get(
        reverse("admin:agreements_proposedrevision_changelist") + "?proposed_by=me"
    )

    assert response.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [mine.pk]


def test_changelist_lists_pending_before_decided_oldest_first(publisher_client, editor):
    first = propose(AgreementFactory(published=True), editor, summary="First")
    publishing.cancel(first, editor)
    second = propose(AgreementFactory(published=True), editor, summary="Second")
    third = propose(AgreementFactory(published=True), editor, summary="Third")

    response = publisher_client.get(reverse("admin:agreements_proposedrevision_changelist"))

    assert [p.pk for p in response.context["cl"].result_list] == [second.pk, third.pk, first.pk]


def test_nobody_adds_or_deletes_proposals_through_the_generic_forms(superuser_client, editor):
    proposal = propose(AgreementFactory(published=True), editor, summary="New")

    assert superuser_client.get(reverse("admin:agreements_proposedrevision_add")).status_code == 403
    delete = reverse("admin:agreements_proposedrevision_delete", args=[proposal.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert ProposedRevision.objects.filter(pk=proposal.pk).exists()


def test_proposal_page_query_count_is_bounded(
    publisher_client, editor, django_assert_max_num_queries
):
    source = SourceFactory()
    agreement = AgreementFactory(published=True, sources=[source])
    for day in (1, 2, 3):
        AgreementEventFactory(
            agreement=agreement, date=datetime.date(2025, 3, day), sources=[source]
        )
    data = revisions.snapshot(agreement)
    data["fields"]["summary"] = "New"
    for event in data["events"]:
        event["fields"]["description"] = "Reworded."
    proposal = publishing.propose(agreement, data, editor, base_version=agreement.version)

    # Session, user, the user's and the groups' permissions (4); the proposal with its record
    # and people (1); the live snapshot: record sources, events, and one per event for its
    # sources, in agreements/revisions.py (2 + 3); the names in the diff: countries and sources
    # (2); the session saved after login (3, savepoint included).
    with django_assert_max_num_queries(15):
        response = publisher_client.get(change_url(proposal))
    assert response.status_code == 200
