"""Editors curate records through the admin; nobody else gets in."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from agreements.models import Agreement, AgreementEvent, Source, Transfer
from agreements.permissions import EDITORS_GROUP
from tests.factories import AgreementFactory, TransferFactory, country

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_the_login_page(client):
    response = client.get(reverse("admin:agreements_agreement_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_editors_group_can_curate_but_not_administer_users():
    codenames = set(
        Group.objects.get(name=EDITORS_GROUP).permissions.values_list("codename", flat=True)
    )
    for model in ("agreement", "agreementevent", "transfer", "source"):
        assert {f"add_{model}", f"change_{model}", f"view_{model}"} <= codenames
    assert "view_country" in codenames
    assert not {c for c in codenames if c.endswith("_user") or c.endswith("_group")}
    assert not {c for c in codenames if c.startswith("delete_")}


def test_editor_cannot_open_user_administration(editor_client):
    assert editor_client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_editor_creates_a_source_then_an_agreement_with_an_event_citing_it(editor_client):
    response = editor_client.post(
        reverse("admin:agreements_source_add"),
        {
            "url": "https://news.example.org/deal-signed",
            "title": "Deal signed in Kigali",
            "publisher": "Example News",
            "published_on": "2025-06-01",
            "published_precision": "day",
            "kind": "news",
        },
    )
    assert response.status_code == 302, response.content
    source = Source.objects.get()

    response = editor_client.post(
        reverse("admin:agreements_agreement_add"),
        {
            "title": "United States - Rwanda deal",
            "slug": "us-rw-test",
            "sending_country": country("US").pk,
            "receiving_country": country("RW").pk,
            "kind": "unknown",
            "status": "signed",
            "legal_bindingness": "unclear",
            "text_disclosure": "undisclosed",
            "signed_on": "2025-06-01",
            "signed_precision": "month",
            "announced_precision": "day",
            "in_force_precision": "day",
            "ended_precision": "day",
            "publication_state": "draft",
            "sources": [source.pk],
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "0",
            "events-0-date": "2025-06-01",
            "events-0-date_precision": "month",
            "events-0-kind": "signed",
            "events-0-description": "Officials said the deal was signed in June.",
            "events-0-sources": [source.pk],
            "transfers-TOTAL_FORMS": "0",
            "transfers-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content
    agreement = Agreement.objects.get(slug="us-rw-test")
    event = AgreementEvent.objects.get(agreement=agreement)
    assert list(event.sources.all()) == [source]
    assert list(agreement.sources.all()) == [source]
    assert agreement.is_published is False  # new records start as drafts


def test_editor_country_autocomplete_works(editor_client):
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "salv",
            "app_label": "agreements",
            "model_name": "agreement",
            "field_name": "sending_country",
        },
    )
    assert response.status_code == 200
    assert "El Salvador" in response.content.decode()


def test_deleting_an_agreement_with_transfers_is_refused_with_a_message(superuser_client):
    agreement = AgreementFactory(published=True)
    TransferFactory(published=True, agreement=agreement)
    response = superuser_client.post(
        reverse("admin:agreements_agreement_delete", args=[agreement.pk]), {"post": "yes"}
    )
    assert response.status_code == 200
    assert (
        "would require deleting the following protected related objects"
        in response.content.decode()
    )
    assert Transfer.objects.filter(agreement=agreement).exists()


@pytest.mark.parametrize("model", ["agreement", "agreementevent", "transfer", "source", "country"])
def test_admin_lists_render(superuser_client, model):
    AgreementFactory(published=True)
    assert superuser_client.get(reverse(f"admin:agreements_{model}_changelist")).status_code == 200


def test_source_list_filters_uncited_sources(superuser_client):
    from tests.factories import SourceFactory

    cited = SourceFactory(title="Cited one")
    SourceFactory(title="Lonely one")
    AgreementFactory(published=True, sources=[cited])
    content = superuser_client.get(
        reverse("admin:agreements_source_changelist") + "?cited=no"
    ).content.decode()
    assert "Lonely one" in content
    assert "Cited one" not in content


def test_source_list_shows_sources_without_an_archive_copy(superuser_client):
    from tests.factories import SourceFactory

    SourceFactory(title="Archived story", archive_url="https://web.archive.org/x")
    SourceFactory(title="Unarchived story")
    content = superuser_client.get(
        reverse("admin:agreements_source_changelist") + "?archived=no"
    ).content.decode()
    assert "Unarchived story" in content
    assert "Archived story" not in content


def test_anonymous_and_viewers_cannot_import(client):
    response = client.get(reverse("admin:agreements_agreement_import"))
    assert response.status_code == 302
