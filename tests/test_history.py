"""Every change is recorded (who, when, old and new values) and can be restored."""

import re

import pytest
from django.urls import reverse

from agreements.models import Agreement, Source
from tests.factories import AgreementFactory, SourceFactory, TransferFactory
from tests.helpers import change_form, change_url, restore_url

pytestmark = pytest.mark.django_db


def test_create_change_and_delete_write_history_rows():
    source = SourceFactory(title="First title")
    source.title = "Second title"
    source.save()
    source_id = source.pk
    source.delete()
    rows = Source.history.filter(id=source_id).order_by("history_date")
    assert [row.history_type for row in rows] == ["+", "~", "-"]
    assert [row.title for row in rows] == ["First title", "Second title", "Second title"]


@pytest.mark.parametrize("factory", [AgreementFactory, TransferFactory])
def test_history_records_each_curated_model(factory):
    record = factory()
    assert record.history.count() == 1


def test_history_records_who_changed_what_through_the_admin(editor_client, editor):
    agreement = AgreementFactory(publication_state="draft", summary="Old summary")

    response = editor_client.post(
        change_url(agreement), change_form(agreement, summary="New summary")
    )
    assert response.status_code == 302
    latest, previous = agreement.history.order_by("-history_date")[:2]
    assert latest.history_user == editor
    delta = latest.diff_against(previous)
    assert ("summary", "Old summary", "New summary") in [
        (c.field, c.old, c.new) for c in delta.changes
    ]


def test_admin_history_page_shows_a_field_by_field_diff(superuser_client):
    agreement = AgreementFactory(published=True, status="signed")
    agreement.status = "in_force"
    agreement.save()
    response = superuser_client.get(
        reverse("admin:agreements_agreement_history", args=[agreement.pk])
    )
    content = response.content.decode()
    assert response.status_code == 200
    # The "Changes" column, not the status column that lists each version's value anyway.
    assert re.search(
        r"<strong>Status:</strong>\s*signed\s*&nbsp;&rarr;&nbsp;&nbsp;in_force", content
    )


def test_restoring_an_earlier_version_brings_back_its_values(superuser_client):
    agreement = AgreementFactory(
        title="Original title", summary="Original summary", publication_state="draft"
    )
    original = agreement.history.get()
    agreement.title, agreement.summary = "Edited title", "Edited summary"
    agreement.save()
    revert_url = restore_url(agreement, original)
    form = superuser_client.get(revert_url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "sources": [],
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "transfers-TOTAL_FORMS": "0",
            "transfers-INITIAL_FORMS": "0",
        }
    )
    data = {k: v for k, v in data.items() if k not in ("id", "created_at", "updated_at")}
    response = superuser_client.post(revert_url, data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else ""
    )
    agreement.refresh_from_db()
    assert (agreement.title, agreement.summary) == ("Original title", "Original summary")
    assert agreement.history.count() == 3  # the restore is itself recorded


def test_transfer_history_tracks_nationalities_and_sources():
    transfer = TransferFactory()  # a draft, citing no source until the one added here
    source = SourceFactory()
    transfer.sources.add(source)
    transfer.nationalities.add(transfer.to_country)
    latest = transfer.history.first()
    assert [row.source_id for row in latest.sources.all()] == [source.pk]
    assert [row.country_id for row in latest.nationalities.all()] == [transfer.to_country_id]


def test_deleting_an_agreement_keeps_its_history():
    agreement = AgreementFactory(published=True)
    pk = agreement.pk
    agreement.delete()
    assert Agreement.history.filter(id=pk, history_type="-").exists()
