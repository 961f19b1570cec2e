"""Review before publishing: editors draft and submit; only publishers publish or withdraw."""

import pytest
from django.urls import reverse

from agreements.models import Agreement, Transfer
from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    SourceFactory,
    TransferFactory,
    country,
)
from tests.helpers import change_form, change_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    return AgreementFactory(publication_state="draft", title="Draft deal")


def test_editor_is_offered_only_draft_and_in_review(editor_client, draft):
    form = editor_client.get(change_url(draft)).context["adminform"].form
    assert [value for value, _ in form.fields["publication_state"].choices] == [
        "draft",
        "in_review",
    ]


def test_publisher_is_offered_every_state(publisher_client, draft):
    form = publisher_client.get(change_url(draft)).context["adminform"].form
    assert [v for v, _ in form.fields["publication_state"].choices] == [
        "draft",
        "in_review",
        "published",
        "withdrawn",
    ]


def test_editor_submits_for_review(editor_client, draft):
    response = editor_client.post(
        change_url(draft), change_form(draft, publication_state="in_review")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.publication_state == "in_review"


def test_crafted_post_cannot_publish(editor_client, draft):
    response = editor_client.post(
        change_url(draft), change_form(draft, publication_state="published")
    )
    assert response.status_code == 200  # the form again, with its error
    draft.refresh_from_db()
    assert draft.publication_state == "draft"


def test_crafted_post_cannot_withdraw(editor_client):
    published = AgreementFactory()
    response = editor_client.post(
        change_url(published), change_form(published, publication_state="withdrawn")
    )
    published.refresh_from_db()
    assert published.publication_state == "published"
    assert response.status_code in (200, 302)


def test_editor_editing_a_published_record_proposes_a_revision(editor_client):
    published = AgreementFactory(title="Approved title")
    response = editor_client.post(change_url(published), change_form(published, title="Renamed"))
    assert response.status_code == 302
    published.refresh_from_db()
    assert (published.title, published.publication_state) == ("Approved title", "published")
    assert published.revisions.get().data["fields"]["title"] == "Renamed"


def test_editor_cannot_use_the_publish_action(editor_client, draft):
    changelist = reverse("admin:agreements_agreement_changelist")
    choices = editor_client.get(changelist).context["action_form"].fields["action"].choices
    assert {"publish", "withdraw"}.isdisjoint(name for name, _ in choices)
    editor_client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.publication_state == "draft"


def test_editor_crafted_inline_transfer_cannot_publish(editor_client):
    agreement = AgreementFactory(publication_state="draft")
    source = SourceFactory()
    data = change_form(
        agreement,
        **{
            "transfers-TOTAL_FORMS": "1",
            "transfers-0-date": "2025-03-16",
            "transfers-0-date_precision": "day",
            "transfers-0-from_country": country("US").pk,
            "transfers-0-to_country": country("SV").pk,
            "transfers-0-people": "5",
            "transfers-0-sources": [source.pk],
            "transfers-0-publication_state": "published",
        },
    )
    editor_client.post(change_url(agreement), data)
    assert not Transfer.objects.filter(publication_state="published").exists()


def test_publisher_publishes(publisher_client, draft):
    response = publisher_client.post(
        change_url(draft), change_form(draft, publication_state="published")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.publication_state == "published"


def test_publisher_publishes_with_the_action(publisher_client, draft):
    publisher_client.post(
        reverse("admin:agreements_agreement_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.publication_state == "published"


def test_an_event_without_a_source_blocks_publishing(publisher_client, draft):
    AgreementEventFactory(agreement=draft)  # no sources
    publisher_client.post(
        reverse("admin:agreements_agreement_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.publication_state == "draft"


def test_publishing_through_the_form_requires_a_source_on_each_event(publisher_client, draft):
    event = AgreementEventFactory(agreement=draft)
    data = change_form(
        draft,
        publication_state="published",
        **{
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "1",
            "events-0-id": event.pk,
            "events-0-agreement": draft.pk,
            "events-0-date": "2025-03-01",
            "events-0-date_precision": "day",
            "events-0-kind": "signed",
            "events-0-description": event.description,
        },
    )
    response = publisher_client.post(change_url(draft), data)
    assert response.status_code == 200
    assert "Cite at least one source before publishing." in response.content.decode()
    draft.refresh_from_db()
    assert draft.publication_state == "draft"


def test_a_transfer_without_a_source_cannot_be_published(publisher_client):
    transfer = TransferFactory(publication_state="draft")
    publisher_client.post(
        reverse("admin:agreements_transfer_changelist"),
        {"action": "publish", "_selected_action": [transfer.pk]},
    )
    transfer.refresh_from_db()
    assert transfer.publication_state == "draft"


def test_publishers_see_which_published_records_lack_a_source(publisher_client):
    sourced = AgreementFactory(title="Sourced deal")
    AgreementEventFactory(agreement=sourced, sources=[SourceFactory()])
    unsourced = AgreementFactory(title="Unsourced deal")
    AgreementEventFactory(agreement=unsourced)
    response = publisher_client.get(
        reverse("admin:agreements_agreement_changelist")
        + "?publication_state__exact=published&sourcing=missing"
    )
    shown = {agreement.title for agreement in response.context["cl"].result_list}
    assert shown == {"Unsourced deal"}


def test_draft_page_is_a_preview_for_staff(editor_client, draft):
    response = editor_client.get(draft.get_absolute_url())
    assert response.status_code == 200
    assert "Preview:" in response.content.decode()


def test_draft_page_is_404_for_the_public(client, draft):
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_internal_notes_never_reach_a_public_page(client):
    agreement = AgreementFactory(internal_notes="Ask the ministry again")
    transfer = TransferFactory(agreement=agreement, internal_notes="Figures unverified, call AP")
    for url in [agreement.get_absolute_url(), transfer.get_absolute_url(), "/agreements/", "/transfers/",
                "/changes/", "/changes/feed/", "/countries/us/"]:  # fmt: skip
        content = client.get(url).content.decode()
        assert "Ask the ministry" not in content and "call AP" not in content


def test_new_records_start_as_drafts():
    assert Agreement().publication_state == "draft"
    assert Transfer().publication_state == "draft"
