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
    published = AgreementFactory(published=True)
    response = editor_client.post(
        change_url(published), change_form(published, publication_state="withdrawn")
    )
    # An editor's state field on a published record is disabled: a browser cannot send it, and a
    # crafted value is ignored, so the save is an unchanged record, with nothing to review.
    assert response.status_code == 302
    published.refresh_from_db()
    assert (published.publication_state, published.withdrawn_at) == ("published", None)
    assert not published.revisions.exists()


def test_editor_editing_a_published_record_proposes_a_revision(editor_client):
    published = AgreementFactory(published=True, title="Approved title")
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
    response = editor_client.post(change_url(agreement), data)
    assert response.status_code == 200  # the form again, with the state refused
    assert 'id="id_transfers-0-publication_state_error"' in response.content.decode()
    assert not Transfer.objects.exists()
    # The same inline as a draft is saved: the state was all that was refused.
    data["transfers-0-publication_state"] = "draft"
    data["loaded_version"] = Agreement.objects.get(pk=agreement.pk).version
    assert editor_client.post(change_url(agreement), data).status_code == 302
    assert list(Transfer.objects.values_list("publication_state", flat=True)) == ["draft"]


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
    sourced = AgreementFactory(publication_state="draft")
    AgreementEventFactory(agreement=sourced, sources=[SourceFactory()])
    publisher_client.post(
        reverse("admin:agreements_agreement_changelist"),
        {"action": "publish", "_selected_action": [draft.pk, sourced.pk]},
    )
    draft.refresh_from_db()
    sourced.refresh_from_db()
    assert (draft.publication_state, sourced.publication_state) == ("draft", "published")


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
    agreement = AgreementFactory(published=True)
    transfer = TransferFactory(publication_state="draft", agreement=agreement)
    sourced = TransferFactory(
        publication_state="draft", agreement=agreement, sources=[SourceFactory()]
    )
    publisher_client.post(
        reverse("admin:agreements_transfer_changelist"),
        {"action": "publish", "_selected_action": [transfer.pk, sourced.pk]},
    )
    transfer.refresh_from_db()
    sourced.refresh_from_db()
    assert (transfer.publication_state, sourced.publication_state) == ("draft", "published")


def test_publishers_see_which_published_records_lack_a_source(publisher_client):
    sourced = AgreementFactory(published=True, title="Sourced deal")
    AgreementEventFactory(agreement=sourced, sources=[SourceFactory()])
    unsourced = AgreementFactory(published=True, title="Unsourced deal")
    # Stored outside the rules (older data, a bare UPDATE): what the filter is for.
    AgreementEventFactory(agreement=unsourced, sources=[])
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
    agreement = AgreementFactory(
        published=True, title="Noted deal", internal_notes="Ask the ministry again"
    )
    transfer = TransferFactory(
        published=True, agreement=agreement, internal_notes="Figures unverified, call AP"
    )
    country_page = f"/countries/{agreement.sending_country.code.lower()}/"
    for url in [agreement.get_absolute_url(), transfer.get_absolute_url(), "/agreements/", "/transfers/",
                "/changes/", "/changes/feed/", country_page]:  # fmt: skip
        content = client.get(url).content.decode()
        assert "Noted deal" in content, url  # the page shows the record its notes belong to
        assert "Ask the ministry" not in content and "call AP" not in content, url


@pytest.mark.parametrize("model", ["agreement", "transfer", "courtcase"])
def test_new_records_start_as_drafts(publisher_client, model):
    # A publisher is offered every state; the add form still starts at draft.
    form = publisher_client.get(reverse(f"admin:agreements_{model}_add")).context["adminform"].form
    assert form["publication_state"].value() == "draft"


def test_a_record_saved_without_a_state_is_a_draft():
    agreement = Agreement.objects.create(
        title="Bare", slug="bare", sending_country=country("US"), receiving_country=country("SV")
    )
    transfer = Transfer.objects.create(
        from_country=country("US"), to_country=country("SV"), date="2025-03-16"
    )
    agreement.refresh_from_db()
    transfer.refresh_from_db()
    assert (agreement.publication_state, transfer.publication_state) == ("draft", "draft")
