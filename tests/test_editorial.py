"""Editorial integrity: every public change passes review, no edit is lost (issue 9).

Admin forms are posted as a browser posts them (tests.helpers.loaded_form reads the rendered
form, inlines included), by editors and publishers, with two clients where it matters.
"""

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from agreements import publishing, revisions
from agreements.models import (
    Agreement,
    AgreementEvent,
    ProposedRevision,
    ReportedFigure,
    Source,
)
from agreements.permissions import EDITORS_GROUP
from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    SourceFactory,
    TransferFactory,
)
from tests.helpers import change_url, loaded_form, restore_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return SourceFactory(title="Ministry statement")


@pytest.fixture
def published(source):
    agreement = AgreementFactory(
        published=True, title="Live deal", summary="Approved summary", cap=300
    )
    AgreementEventFactory(agreement=agreement, sources=[source], description="Signed in March.")
    return agreement


def second_editor():
    user = User.objects.create_user("ed2", password="another-long-password", is_staff=True)
    user.groups.add(Group.objects.get(name=EDITORS_GROUP))
    client = Client()
    client.force_login(user)
    return client


def public_text(record):
    return Client().get(record.get_absolute_url()).content.decode()


# --- 1. revisions under review -------------------------------------------------------------------


def test_editor_edit_of_a_published_agreement_leaves_the_public_page_unchanged(
    editor_client, published
):
    data = loaded_form(editor_client, change_url(published))
    data.update(summary="Unreviewed summary", cap="9999")
    assert editor_client.post(change_url(published), data).status_code == 302
    published.refresh_from_db()
    assert (published.summary, published.cap) == ("Approved summary", 300)
    page = public_text(published)
    assert "Approved summary" in page and "Unreviewed summary" not in page


def test_editor_edit_of_a_published_agreement_is_kept_as_a_proposal(editor_client, published):
    data = loaded_form(editor_client, change_url(published))
    data["summary"] = "Unreviewed summary"
    editor_client.post(change_url(published), data)
    proposal = ProposedRevision.objects.get()
    assert proposal.agreement == published and proposal.is_pending
    assert proposal.data["fields"]["summary"] == "Unreviewed summary"
    assert proposal.base_version == published.version


def test_an_event_added_inline_to_a_published_agreement_waits_for_review(
    editor_client, published, source
):
    data = loaded_form(editor_client, change_url(published))
    data.update(
        {
            "events-TOTAL_FORMS": "2",
            "events-1-date": "2025-06-01",
            "events-1-date_precision": "day",
            "events-1-kind": "other",
            "events-1-description": "An unreviewed event",
            "events-1-sources": [str(source.pk)],
        }
    )
    editor_client.post(change_url(published), data)
    assert not AgreementEvent.objects.filter(description="An unreviewed event").exists()
    events = ProposedRevision.objects.get().data["events"]
    assert [event["fields"]["description"] for event in events] == [
        "Signed in March.",
        "An unreviewed event",
    ]


def test_editor_edit_of_a_published_transfer_waits_for_review(editor_client, source):
    transfer = TransferFactory(published=True, people=10, sources=[source])
    data = loaded_form(editor_client, change_url(transfer))
    data.update(people="500", date="2024-01-01")
    editor_client.post(change_url(transfer), data)
    transfer.refresh_from_db()
    assert (transfer.people, transfer.date) == (10, datetime.date(2025, 3, 16))
    assert ProposedRevision.objects.get(transfer=transfer).data["fields"]["people"] == 500


def test_editor_edit_of_a_published_transfer_inline_waits_for_review(editor_client, source):
    agreement = AgreementFactory(published=True)
    transfer = TransferFactory(published=True, agreement=agreement, people=10, sources=[source])
    data = loaded_form(editor_client, change_url(agreement))
    data["transfers-0-people"] = "77"
    editor_client.post(change_url(agreement), data)
    transfer.refresh_from_db()
    assert transfer.people == 10
    assert ProposedRevision.objects.get(transfer=transfer).data["fields"]["people"] == 77


def test_editor_edit_of_a_publicly_cited_source_waits_for_review(editor_client, published, source):
    data = loaded_form(editor_client, change_url(source))
    data["title"] = "A different headline"
    editor_client.post(change_url(source), data)
    source.refresh_from_db()
    assert source.title == "Ministry statement"
    assert ProposedRevision.objects.get(source=source).data["fields"]["title"] == (
        "A different headline"
    )


def test_editor_edits_an_uncited_source_directly(editor_client):
    source = SourceFactory(title="Unused")
    data = loaded_form(editor_client, change_url(source))
    data["title"] = "Corrected"
    editor_client.post(change_url(source), data)
    source.refresh_from_db()
    assert source.title == "Corrected" and not ProposedRevision.objects.exists()


def test_editor_edits_a_draft_directly(editor_client):
    draft = AgreementFactory(publication_state="draft", summary="First")
    data = loaded_form(editor_client, change_url(draft))
    data["summary"] = "Second"
    editor_client.post(change_url(draft), data)
    draft.refresh_from_db()
    assert draft.summary == "Second" and not ProposedRevision.objects.exists()


def test_internal_notes_of_a_published_record_need_no_review(editor_client, published):
    data = loaded_form(editor_client, change_url(published))
    data["internal_notes"] = "Call the ministry"
    editor_client.post(change_url(published), data)
    published.refresh_from_db()
    assert published.internal_notes == "Call the ministry"
    assert not ProposedRevision.objects.exists()


def test_publishers_edits_go_live_and_are_recorded(publisher_client, published, publisher):
    data = loaded_form(publisher_client, change_url(published))
    data["summary"] = "Corrected by a publisher"
    publisher_client.post(change_url(published), data)
    published.refresh_from_db()
    assert published.summary == "Corrected by a publisher"
    assert published.history.latest().history_user == publisher
    assert not ProposedRevision.objects.exists()


def test_approval_makes_the_proposal_public_with_its_events(
    editor_client, editor, publisher, published, source
):
    data = loaded_form(editor_client, change_url(published))
    data.update(
        {
            "summary": "Reviewed summary",
            "events-0-description": "Signed on 1 March.",
        }
    )
    editor_client.post(change_url(published), data)
    assert "Summary" not in Client().get("/changes/").content.decode()
    publishing.approve(ProposedRevision.objects.get(), publisher)
    published.refresh_from_db()
    assert published.summary == "Reviewed summary"
    assert published.events.get().description == "Signed on 1 March."
    assert "Reviewed summary" in public_text(published)
    assert "Summary" in Client().get("/changes/").content.decode()


def test_a_second_proposal_on_a_record_is_refused_with_the_form_kept(editor_client, published):
    data = loaded_form(editor_client, change_url(published))
    first = dict(data, summary="First proposal")
    editor_client.post(change_url(published), first)
    other = second_editor()
    second = loaded_form(other, change_url(published))
    second["summary"] = "Second proposal"
    response = other.post(change_url(published), second)
    assert response.status_code == 200  # the form again, with the editor's text
    content = response.content.decode()
    assert "already has a proposed revision awaiting review" in content
    assert "Second proposal" in content
    assert ProposedRevision.objects.count() == 1


def test_a_proposal_over_a_record_changed_since_cannot_be_approved(
    editor_client, publisher, published
):
    data = loaded_form(editor_client, change_url(published))
    data["summary"] = "Proposed from the old version"
    editor_client.post(change_url(published), data)
    publisher_client = Client()  # a second browser: the editor's client stays logged in
    publisher_client.force_login(publisher)
    newer = loaded_form(publisher_client, change_url(published))
    newer["title"] = "Retitled by a publisher"
    publisher_client.post(change_url(published), newer)
    with pytest.raises(publishing.Stale):
        publishing.approve(ProposedRevision.objects.get(), publisher)
    published.refresh_from_db()
    assert (published.title, published.summary) == ("Retitled by a publisher", "Approved summary")


def test_rejection_needs_a_reason(editor, publisher, published):
    proposal = publishing.propose(
        published,
        {**revisions.snapshot(published), "fields": {"summary": "x"}},
        editor,
        base_version=published.version,
    )
    with pytest.raises(publishing.Refused):
        publishing.reject(proposal, publisher, "  ")
    publishing.reject(proposal, publisher, "Not supported by the source.")
    proposal.refresh_from_db()
    assert (proposal.state, proposal.decision_reason) == (
        "rejected",
        "Not supported by the source.",
    )


def test_the_editor_sees_the_rejection_reason_on_the_record(
    editor_client, editor, publisher, published
):
    data = loaded_form(editor_client, change_url(published))
    data["summary"] = "Needs a source"
    editor_client.post(change_url(published), data)
    publishing.reject(ProposedRevision.objects.get(), publisher, "Which report says so?")
    page = editor_client.get(change_url(published)).content.decode()
    assert "Which report says so?" in page


def test_editors_cannot_approve(editor, published):
    proposal = publishing.propose(
        published,
        {
            **revisions.snapshot(published),
            "fields": {**revisions.snapshot(published)["fields"], "cap": 1},
        },
        editor,
        base_version=published.version,
    )
    with pytest.raises(publishing.Refused):
        publishing.approve(proposal, editor)
    published.refresh_from_db()
    assert published.cap == 300


def test_events_cannot_be_moved_or_edited_outside_their_agreement(editor_client, published):
    draft_event = AgreementEventFactory(agreement=AgreementFactory(publication_state="draft"))
    url = change_url(draft_event)
    response = editor_client.post(
        url,
        {
            "agreement": published.pk,
            "kind": "other",
            "date": "2025-01-01",
            "date_precision": "day",
            "description": "Moved onto a published agreement",
        },
    )
    assert response.status_code == 403
    draft_event.refresh_from_db()
    assert draft_event.agreement != published


# Every surface that shows an agreement's title or summary. (The country list, the trends page
# and the sitemap show neither for an undated agreement: they cannot show a proposed value.)
PUBLIC_SURFACES = [
    "/", "/agreements/", "/agreements/?q=Zanzibarian", "/search/?q=Zanzibarian",
    "/transfers/", "/changes/", "/changes/feed/", "/agreements/feed/",
    "/api/agreements/", "/agreements/export.csv", "/agreements/export.json",
]  # fmt: skip


def test_no_public_surface_shows_a_proposed_value(editor_client, publisher, published):
    data = loaded_form(editor_client, change_url(published))
    data.update(title="Zanzibarian title", summary="Zanzibarian summary")
    editor_client.post(change_url(published), data)
    proposal = ProposedRevision.objects.get()
    reader = Client()
    surfaces = [
        *PUBLIC_SURFACES,
        published.get_absolute_url(),
        f"/countries/{published.sending_country.code.lower()}/",
    ]
    # The search box echoes the query itself; a proposed value or a match must not show.
    proposed = (b"Zanzibarian title", b"Zanzibarian summary", b"Zanzibarian</mark>")

    def shown_on(url):
        response = reader.get(url)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return [value for value in proposed if value in content]

    for url in surfaces:
        assert not shown_on(url), url
    # Once approved, the values are live: every surface shows them, so their absence above was
    # the proposal kept aside, not a surface that never shows them.
    publishing.approve(proposal, publisher)
    for url in surfaces:
        assert shown_on(url), url


# --- imports --------------------------------------------------------------------------------------


def agreement_rows(record, source, **changes):
    """record exported as CSV, with changes, citing source: the file an editor would import."""
    import tablib

    from agreements.resources import AgreementResource

    exported = AgreementResource().export(Agreement.objects.filter(pk=record.pk))
    row = {**exported.dict[0], "sources": source.url, **changes}
    return tablib.Dataset([row[name] for name in exported.headers], headers=exported.headers)


def test_an_editors_import_row_changing_a_published_record_becomes_a_proposal(
    editor, published, source
):
    from agreements.resources import AgreementResource

    dataset = agreement_rows(published, source, summary="Imported summary")
    result = AgreementResource().import_data(dataset, user=editor)
    assert not result.has_errors() and not result.has_validation_errors()
    published.refresh_from_db()
    assert published.summary == "Approved summary"
    proposal = ProposedRevision.objects.get(agreement=published)
    assert (proposal.kind, proposal.data["fields"]["summary"]) == ("import", "Imported summary")


def test_a_publishers_import_row_goes_live(publisher, published, source):
    from agreements.resources import AgreementResource

    dataset = agreement_rows(published, source, summary="Imported by a publisher")
    AgreementResource().import_data(dataset, user=publisher)
    published.refresh_from_db()
    assert published.summary == "Imported by a publisher"


def test_an_import_row_over_a_waiting_proposal_fails_the_whole_file(editor, published, source):
    from agreements.resources import AgreementResource

    AgreementResource().import_data(agreement_rows(published, source, summary="One"), user=editor)
    result = AgreementResource().import_data(
        agreement_rows(published, source, summary="Two"), user=editor
    )
    assert result.has_errors()
    assert "awaiting review" in str(result.row_errors()[0][1][0].error)
    assert ProposedRevision.objects.get().data["fields"]["summary"] == "One"


def test_an_editors_import_of_a_publicly_cited_source_becomes_a_proposal(editor, published, source):
    import tablib

    from agreements.resources import SourceResource

    exported = SourceResource().export(Source.objects.filter(pk=source.pk))
    row = {**exported.dict[0], "title": "Retitled by import"}
    dataset = tablib.Dataset([row[name] for name in exported.headers], headers=exported.headers)
    result = SourceResource().import_data(dataset, user=editor)
    assert not result.has_errors() and not result.has_validation_errors()
    source.refresh_from_db()
    assert source.title == "Ministry statement"
    assert ProposedRevision.objects.get(source=source).data["fields"]["title"] == (
        "Retitled by import"
    )


def test_the_admin_import_tells_the_editor_which_rows_became_proposals(
    editor_client, published, source
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = agreement_rows(published, source, summary="Imported summary").export("csv")
    response = editor_client.post(
        reverse("admin:agreements_agreement_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("a.csv", csv.encode())},
    )
    confirm = response.context["confirm_form"]
    data = {name: confirm[name].value() for name in confirm.fields}
    response = editor_client.post(
        reverse("admin:agreements_agreement_process_import"), data, follow=True
    )
    messages = " ".join(str(message) for message in response.context["messages"])
    proposal = ProposedRevision.objects.get()
    assert f"#{proposal.pk}" in messages and "proposed revisions" in messages
    published.refresh_from_db()
    assert published.summary == "Approved summary"


# --- 2. history restore obeys the same rules -------------------------------------------------------


def test_restoring_a_published_version_of_a_withdrawn_record_keeps_it_withdrawn(
    editor_client, publisher, published
):
    version_while_published = published.history.latest()
    publishing.withdraw(published, publisher, "Duplicate record.")
    data = loaded_form(editor_client, restore_url(published, version_while_published))
    editor_client.post(restore_url(published, version_while_published), data)
    published.refresh_from_db()
    assert published.publication_state == "withdrawn"
    assert Client().get(published.get_absolute_url()).status_code != 200


def test_restoring_a_draft_version_of_a_published_record_keeps_it_published(
    publisher_client, publisher
):
    record = AgreementFactory(publication_state="draft", summary="Draft text")
    draft_version = record.history.latest()
    publishing.publish(record, publisher)
    data = loaded_form(publisher_client, restore_url(record, draft_version))
    publisher_client.post(restore_url(record, draft_version), data)
    record.refresh_from_db()
    assert record.publication_state == "published"


def test_an_editors_restore_of_a_published_record_is_a_proposal(editor_client, published):
    old = published.history.latest()
    published.summary = "Changed later"
    published.save()
    data = loaded_form(editor_client, restore_url(published, old))
    editor_client.post(restore_url(published, old), data)
    published.refresh_from_db()
    assert published.summary == "Changed later"
    proposal = ProposedRevision.objects.get()
    assert (proposal.kind, proposal.data["fields"]["summary"]) == ("restore", "Approved summary")


def test_restore_rechecks_the_source_rule(publisher_client, publisher, source):
    record = AgreementFactory(publication_state="draft")
    event = AgreementEventFactory(agreement=record)  # no source yet
    unsourced_version = record.history.latest()
    event.sources.set([source])
    record.save()  # a version in which its only event cites a source
    publishing.publish(record, publisher)
    data = loaded_form(publisher_client, restore_url(record, unsourced_version))
    publisher_client.post(restore_url(record, unsourced_version), data)
    assert list(record.events.get().sources.all()) == [source]


def test_restore_brings_back_the_versions_sources(publisher_client):
    first, second = SourceFactory(), SourceFactory()
    record = AgreementFactory(publication_state="draft")
    record.sources.set([first])
    with_first = record.history.latest()
    record.sources.set([second])
    record.save()
    data = loaded_form(publisher_client, restore_url(record, with_first))
    publisher_client.post(restore_url(record, with_first), data)
    assert list(record.sources.all()) == [first]


def test_restore_brings_back_the_versions_reported_figures(publisher_client, source):
    transfer = TransferFactory(publication_state="draft", people=261, sources=[source])
    ReportedFigure.objects.create(transfer=transfer, people=238, source=source)
    with_figure = transfer.history.latest()  # its parts: those saved before the next version
    transfer.people = 300
    transfer.save()
    figure = transfer.reported_figures.get()
    figure.people = 999
    figure.save()
    data = loaded_form(publisher_client, restore_url(transfer, with_figure))
    publisher_client.post(restore_url(transfer, with_figure), data)
    transfer.refresh_from_db()
    assert transfer.people == 261
    assert [figure.people for figure in transfer.reported_figures.all()] == [238]


# --- 3. no lost update --------------------------------------------------------------------------------


def test_the_second_of_two_simultaneous_edits_is_refused_and_shows_what_changed(editor_client):
    other = second_editor()
    draft = AgreementFactory(publication_state="draft", summary="Start")
    first_form = loaded_form(editor_client, change_url(draft))
    second_form = loaded_form(other, change_url(draft))
    first_form["summary"] = "First editor's summary"
    assert editor_client.post(change_url(draft), first_form).status_code == 302
    second_form["title"] = "Second editor's title"
    response = other.post(change_url(draft), second_form)
    assert response.status_code == 200
    content = response.content.decode()
    assert "was changed by someone else after you opened it" in content
    assert "edna" in content and "Summary" in content
    draft.refresh_from_db()
    assert (draft.summary, draft.title) == ("First editor's summary", draft.title)
    assert draft.title != "Second editor's title"


def test_a_form_without_its_version_is_refused(editor_client):
    draft = AgreementFactory(publication_state="draft", summary="Start")
    data = loaded_form(editor_client, change_url(draft))
    del data["loaded_version"]
    data["summary"] = "Crafted"
    assert editor_client.post(change_url(draft), data).status_code == 200
    draft.refresh_from_db()
    assert draft.summary == "Start"


@pytest.mark.parametrize("model", ["transfer", "source"])
def test_every_change_form_refuses_a_stale_save(editor_client, model):
    record = (
        TransferFactory(publication_state="draft")
        if model == "transfer"
        else SourceFactory(title="Start")
    )
    stale = loaded_form(editor_client, change_url(record))
    fresh = loaded_form(editor_client, change_url(record))
    fresh["description" if model == "transfer" else "title"] = "First"
    editor_client.post(change_url(record), fresh)
    stale["description" if model == "transfer" else "title"] = "Second"
    response = editor_client.post(change_url(record), stale)
    assert response.status_code == 200
    record.refresh_from_db()
    assert getattr(record, "description" if model == "transfer" else "title") == "First"


# --- 6. publishing together ------------------------------------------------------------------------------


def test_publishing_an_agreement_publishes_its_sourced_transfers_and_names_the_rest(
    publisher_client, source
):
    agreement = AgreementFactory(publication_state="in_review")
    sourced = TransferFactory(agreement=agreement, publication_state="in_review", sources=[source])
    unsourced = TransferFactory(agreement=agreement, publication_state="draft", place="Camp X")
    response = publisher_client.post(
        reverse("admin:agreements_agreement_changelist"),
        {"action": "publish", "_selected_action": [agreement.pk]},
        follow=True,
    )
    sourced.refresh_from_db()
    unsourced.refresh_from_db()
    assert (sourced.publication_state, unsourced.publication_state) == ("published", "draft")
    messages = [str(m) for m in response.context["messages"]]
    assert any(str(unsourced) in m and "cites no source" in m for m in messages)
    assert Client().get(sourced.get_absolute_url()).status_code == 200


def test_publishing_through_the_form_can_leave_the_transfers(publisher_client, source):
    agreement = AgreementFactory(publication_state="in_review")
    transfer = TransferFactory(agreement=agreement, publication_state="in_review", sources=[source])
    data = loaded_form(publisher_client, change_url(agreement))
    data["publication_state"] = "published"
    data.pop("publish_transfers")
    publisher_client.post(change_url(agreement), data)
    agreement.refresh_from_db()
    transfer.refresh_from_db()
    assert (agreement.publication_state, transfer.publication_state) == ("published", "in_review")


# --- withdrawing needs a public reason --------------------------------------------------------------


def test_the_withdraw_action_asks_for_a_public_reason(publisher_client, published):
    changelist = reverse("admin:agreements_agreement_changelist")
    response = publisher_client.post(
        changelist, {"action": "withdraw", "_selected_action": [published.pk]}
    )
    assert response.status_code == 200 and "Public reason" in response.content.decode()
    published.refresh_from_db()
    assert published.publication_state == "published"
    publisher_client.post(
        changelist,
        {
            "action": "withdraw",
            "_selected_action": [published.pk],
            "apply": "1",
            "reason": "Duplicate of the 2024 record.",
        },
    )
    published.refresh_from_db()
    assert (published.publication_state, published.withdrawal_reason) == (
        "withdrawn",
        "Duplicate of the 2024 record.",
    )
    assert published.withdrawn_at is not None


def test_a_withdrawal_without_a_reason_is_refused_by_the_database(published):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Agreement.objects.filter(pk=published.pk).update(publication_state="withdrawn")


# --- the door itself, without HTTP -----------------------------------------------------------------------


def test_only_publishers_publish(editor, publisher):
    draft = AgreementFactory(publication_state="in_review")
    with pytest.raises(publishing.Refused):
        publishing.publish(draft, editor)
    publishing.publish(draft, publisher)
    draft.refresh_from_db()
    assert draft.publication_state == "published"


def test_a_transfer_without_a_source_is_never_published(publisher):
    transfer = TransferFactory(publication_state="in_review", agreement__published=True)
    with pytest.raises(publishing.Refused):
        publishing.publish(transfer, publisher)


def test_every_save_through_the_door_bumps_the_version(publisher):
    draft = AgreementFactory(publication_state="draft")
    before = draft.version
    publishing.submit(draft, publisher)
    draft.refresh_from_db()
    assert draft.version == before + 1


def test_a_source_rule_break_by_a_publishers_direct_edit_rolls_back(publisher, published):
    event = published.events.get()

    def write():
        published.save()
        event.sources.clear()

    with pytest.raises(publishing.Refused):
        publishing.edit(
            published, publisher, loaded_version=published.version, proposed=None, write=write
        )
    assert event.sources.exists()


def test_proposals_are_refused_by_the_database_when_two_wait_on_one_record(editor, published):
    from django.db import IntegrityError, transaction

    data = revisions.snapshot(published)
    ProposedRevision.objects.create(
        agreement=published, data=data, base_version=1, proposed_by=editor
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ProposedRevision.objects.create(
            agreement=published, data=data, base_version=1, proposed_by=editor
        )


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_one_wins_and_the_other_is_refused():
    """Two editors post at the same moment, each from its own connection: the row lock makes
    one wait for the other, which then sees a newer version. Whatever the interleaving, exactly
    one save lands and the other is refused with nothing overwritten."""
    import threading

    from agreements.countries import sync_countries
    from agreements.models import Country

    sync_countries(Country)  # a transactional test starts from a flushed database
    draft = AgreementFactory(publication_state="draft", summary="Start")
    clients = []
    for name in ("ann", "bob"):
        user = User.objects.create_user(name, password="a-long-password-here", is_staff=True)
        user.groups.add(Group.objects.get(name=EDITORS_GROUP))
        client = Client()
        client.force_login(user)
        clients.append(client)
    forms = [loaded_form(client, change_url(draft)) for client in clients]
    for form, name in zip(forms, ("ann", "bob"), strict=True):
        form["summary"] = f"{name}'s summary"
    barrier, statuses = threading.Barrier(2), {}

    def save(index):
        from django.db import connection

        barrier.wait()
        try:
            statuses[index] = clients[index].post(change_url(draft), forms[index]).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses.values()) == [200, 302]
    winner = "ann" if statuses[0] == 302 else "bob"
    draft.refresh_from_db()
    assert draft.summary == f"{winner}'s summary"
    assert draft.version == 2


# Each junk address, with what a GET and a POST of a crafted decision get: the admin's own answers
# (302 to the index with "does not exist" for a missing record, 404 for an address no view has),
# never a 500 and never a decision made.
@pytest.mark.parametrize(
    ("path", "get_status", "post_status"),
    [
        ("proposedrevision/abc/change/", 302, 302),  # not a number: "does not exist"
        ("proposedrevision/99999/change/", 302, 302),  # no such proposal
        ("proposedrevision/review/?page=x&o=zz", 200, 200),  # the queue ignores both; a POST too
        # A NUL in an admin filter is a 404 (tracker/admin_input.py), not a database error.
        ("proposedrevision/?state__exact=%00&proposed_by=<b>", 404, 404),
        ("agreement/99999/history/1/", 302, 302),  # no such agreement
        ("agreement/{pk}/history/99999/", 404, 404),  # no such version
        ("agreement/{pk}/history/abc/", 404, 404),  # no view for that address
        (
            "agreementevent/{event}/change/",
            200,
            403,
        ),  # events are read here, edited with their agreement
    ],
)
def test_junk_addresses_in_the_review_pages_never_give_a_server_error(
    publisher_client, editor, published, path, get_status, post_status
):
    data = revisions.snapshot(published)
    data["fields"]["summary"] = "Proposed summary"
    waiting = publishing.propose(published, data, editor, base_version=published.version)
    url = "/admin/agreements/" + path.format(pk=published.pk, event=published.events.get().pk)
    response = publisher_client.get(url)
    assert response.status_code == get_status, (url, response.status_code)
    if get_status == 302:
        assert response["Location"] == "/admin/"
    before = published.version
    response = publisher_client.post(url, {"approve": "1", "reason": "\x00<script>"})
    assert response.status_code == post_status, (url, response.status_code)
    published.refresh_from_db()
    waiting.refresh_from_db()
    assert (published.version, published.summary) == (before, "Approved summary")
    assert waiting.is_pending  # no decision was made


def test_a_reason_with_a_control_character_is_refused(publisher, published):
    with pytest.raises(publishing.Refused, match="control character"):
        publishing.withdraw(published, publisher, "Duplicate\x0c record")
    published.refresh_from_db()
    assert published.publication_state == "published"


def test_staff_without_a_group_can_neither_read_nor_decide_proposals(client, editor, published):
    proposal = publishing.propose(
        published,
        {**revisions.snapshot(published), "fields": {"summary": "Proposed"}},
        editor,
        base_version=published.version,
    )
    bare = User.objects.create_user("bare", password="a-long-bare-password", is_staff=True)
    client.force_login(bare)
    page = client.get(proposal.get_absolute_url())
    # The admin answers a record one may not view as if it did not exist: back to the index.
    assert (page.status_code, page["Location"]) == (302, reverse("admin:index"))
    client.post(proposal.get_absolute_url(), {"approve": "1"})
    with pytest.raises(publishing.Refused):
        publishing.approve(proposal, bare)
    proposal.refresh_from_db()
    assert proposal.is_pending


@pytest.mark.parametrize(
    ("field", "value"),
    [("summary", "A form\x0cfeed"), ("title", "Bell\x07"), ("events-0-description", "Nul\x00")],
)
def test_control_characters_are_refused_by_the_form(publisher_client, published, field, value):
    data = loaded_form(publisher_client, change_url(published))
    data[field] = value
    response = publisher_client.post(change_url(published), data)
    assert response.status_code == 200  # the form again, with its message
    published.refresh_from_db()
    assert (published.title, published.summary) == ("Live deal", "Approved summary")
    assert published.events.get().description == "Signed in March."


def test_control_characters_are_refused_by_the_import(publisher, published, source):
    from agreements.resources import AgreementResource

    result = AgreementResource().import_data(
        agreement_rows(published, source, summary="Form\x0cfeed"), user=publisher
    )
    assert result.has_errors()
    assert "control character" in str(result.row_errors()[0][1][0].error)
    published.refresh_from_db()
    assert published.summary == "Approved summary"
