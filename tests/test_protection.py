"""Nothing cited can vanish: a source cited by any record, and a country used anywhere, cannot be
deleted, whatever the path; the admin says what cites it. Unused ones can still be deleted."""

import contextlib

import pytest
from django.contrib import admin
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from agreements import protection
from agreements.models import Country, ReportedFigure, Source
from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    SourceFactory,
    TransferFactory,
    country,
)

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def refused(match="Cannot delete"):
    """Expect ProtectedError. The deletion runs in a savepoint, as a caller inside a larger
    transaction must: the guard fails the deletion's own atomic block."""
    with pytest.raises(ProtectedError, match=match), transaction.atomic():
        yield


@contextlib.contextmanager
def without_model_guard():
    """As a data migration's historical models are: no pre_delete receiver of ours."""
    protection.disconnect()
    try:
        yield
    finally:
        protection.connect()


def check_deferred_constraints():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def cited_by_event():
    source = SourceFactory(title="Home Office statement")
    event = AgreementEventFactory(
        agreement=AgreementFactory(published=True, title="UK–Rwanda"),
        sources=[source],
        description="Signed.",
    )
    return source, event


# --- the model guard: every ORM path --------------------------------------------------------------


def test_source_cited_by_a_published_event_cannot_be_deleted(cited_by_event):
    source, event = cited_by_event
    with refused(r"cited by 1 event \(UK–Rwanda: Signed"):
        source.delete()
    assert list(event.sources.all()) == [source]


def test_queryset_delete_checks_every_row_and_deletes_none(cited_by_event):
    source, event = cited_by_event
    uncited = SourceFactory()
    with refused("Home Office statement"):
        Source.objects.filter(pk__in=[uncited.pk, source.pk]).delete()
    assert Source.objects.filter(pk__in=[uncited.pk, source.pk]).count() == 2
    assert list(event.sources.all()) == [source]


def test_source_cited_by_a_transfer_cannot_be_deleted():
    source = SourceFactory()
    transfer = TransferFactory(published=True, agreement=None, sources=[source])
    with refused(r"cited by 1 transfer \(United States → El Salvador"):
        source.delete()
    assert list(transfer.sources.all()) == [source]


def test_source_cited_by_an_agreement_cannot_be_deleted():
    source = SourceFactory()
    agreements = [
        AgreementFactory(published=True, title=f"Deal {n}", sources=[source]) for n in range(7)
    ]
    with refused(r"cited by 7 agreements \(Deal \d, .* and 2 more\)"):
        Source.objects.filter(pk=source.pk).delete()
    assert all(list(agreement.sources.all()) == [source] for agreement in agreements)


def test_source_of_a_reported_figure_cannot_be_deleted():
    # A PROTECT foreign key already: kept, and the figure keeps its source.
    source = SourceFactory()
    figure = ReportedFigure.objects.create(
        transfer=TransferFactory(published=True), people=12, source=source
    )
    with pytest.raises(ProtectedError), transaction.atomic():
        source.delete()
    figure.refresh_from_db()
    assert figure.source == source


def test_country_used_only_as_a_nationality_cannot_be_deleted():
    venezuela = country("VE")
    transfer = TransferFactory(published=True, agreement=None, nationalities=[venezuela])
    with refused("Venezuela.*used by 1 transfer as a nationality"):
        venezuela.delete()
    assert list(transfer.nationalities.all()) == [venezuela]


def test_unused_country_can_be_deleted():
    Country.objects.filter(code="VE").delete()
    assert not Country.objects.filter(code="VE").exists()


def test_uncited_sources_can_be_deleted():
    sources = SourceFactory.create_batch(2)
    sources[0].delete()
    Source.objects.filter(pk=sources[1].pk).delete()
    assert not Source.objects.filter(pk__in=[s.pk for s in sources]).exists()


def test_a_source_whose_records_were_deleted_first_can_be_deleted(cited_by_event):
    source, event = cited_by_event
    event.agreement.delete()
    source.delete()
    check_deferred_constraints()  # the database agrees
    assert not Source.objects.filter(pk=source.pk).exists()


# --- the database: deferred triggers on the link tables -------------------------------------------


def test_database_refuses_a_deleted_source_that_a_record_still_cited(cited_by_event):
    source, event = cited_by_event
    with pytest.raises(IntegrityError, match="cited by agreementevent"), transaction.atomic():
        with without_model_guard():
            Source.objects.filter(pk=source.pk).delete()
        check_deferred_constraints()
    assert list(event.sources.all()) == [source]


def test_database_refuses_a_deleted_nationality_that_a_transfer_still_had():
    venezuela = country("VE")
    transfer = TransferFactory(published=True, agreement=None, nationalities=[venezuela])
    with pytest.raises(IntegrityError, match="a nationality of transfer"), transaction.atomic():
        with without_model_guard():
            Country.objects.filter(pk=venezuela.pk).delete()
        check_deferred_constraints()
    assert list(transfer.nationalities.all()) == [venezuela]


def test_database_allows_unlinking_a_source_and_deleting_a_record(cited_by_event):
    source, event = cited_by_event
    transfer = TransferFactory(
        published=True, agreement=None, sources=[source], nationalities=[country("VE")]
    )
    event.sources.remove(source)
    transfer.delete()  # its source and nationality links go with it
    check_deferred_constraints()
    assert Source.objects.filter(pk=source.pk).exists()
    assert Country.objects.filter(code="VE").exists()


# --- the admin says what cites it -----------------------------------------------------------------


def test_protected_delete_admin_lists_the_citing_records(cited_by_event, rf, admin_user):
    # The mixin alone, whatever admin.py registers.
    source, event = cited_by_event
    request = rf.get("/")
    request.user = admin_user
    model_admin = type("Admin", (protection.ProtectedDeleteAdmin, admin.ModelAdmin), {})(
        Source, admin.site
    )
    *_, protected = model_admin.get_deleted_objects([source], request)
    assert [str(entry) for entry in protected] == [
        f'Agreement event: <a href="/admin/agreements/agreementevent/{event.pk}/change/">'
        "UK–Rwanda: Signed, 1 March 2025</a>"
    ]


# These need ProtectedDeleteAdmin on SourceAdmin and CountryAdmin (agreements/admin.py).


def test_admin_delete_page_names_what_cites_a_source(superuser_client, cited_by_event):
    source, _ = cited_by_event
    response = superuser_client.get(reverse("admin:agreements_source_delete", args=[source.pk]))
    assert response.status_code == 200
    assert response.context["protected"]
    assert "would require deleting the following protected related objects" in response.text
    assert "UK–Rwanda: Signed, 1 March 2025" in response.text


def test_admin_delete_confirmation_keeps_a_cited_source(superuser_client, cited_by_event):
    source, event = cited_by_event
    url = reverse("admin:agreements_source_delete", args=[source.pk])
    response = superuser_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "UK–Rwanda: Signed, 1 March 2025" in response.text
    assert list(event.sources.all()) == [source]


def test_admin_bulk_delete_keeps_cited_sources(superuser_client, cited_by_event):
    source, event = cited_by_event
    uncited = SourceFactory()
    response = superuser_client.post(
        reverse("admin:agreements_source_changelist"),
        {"action": "delete_selected", "_selected_action": [source.pk, uncited.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert "UK–Rwanda: Signed, 1 March 2025" in response.text
    assert Source.objects.filter(pk__in=[source.pk, uncited.pk]).count() == 2


def test_admin_delete_page_names_the_transfers_of_a_nationality(superuser_client):
    venezuela = country("VE")
    TransferFactory(published=True, agreement=None, nationalities=[venezuela])
    response = superuser_client.post(
        reverse("admin:agreements_country_delete", args=[venezuela.pk]), {"post": "yes"}
    )
    assert response.status_code == 200
    assert "Transfer (as a nationality)" in response.text
    assert "United States → El Salvador" in response.text
    assert Country.objects.filter(pk=venezuela.pk).exists()


# Neither wiring nor guard needed: what must keep working.


def test_admin_deletes_an_uncited_source(superuser_client):
    source = SourceFactory()
    response = superuser_client.post(
        reverse("admin:agreements_source_delete", args=[source.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Source.objects.filter(pk=source.pk).exists()


@pytest.mark.parametrize("user_client", ["editor_client", "publisher_client"])
def test_only_a_superuser_deletes_sources_and_countries(request, user_client):
    client = request.getfixturevalue(user_client)
    source = SourceFactory()
    for url in (
        reverse("admin:agreements_source_delete", args=[source.pk]),
        reverse("admin:agreements_country_delete", args=[country("VE").pk]),
    ):
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()
