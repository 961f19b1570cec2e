"""Every integrity rule is refused by the database and shown as a message by the admin form."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from agreements.models import Agreement, AgreementEvent, Source, Transfer
from tests.factories import AgreementFactory, SourceFactory, TransferFactory, country
from tests.helpers import change_form

pytestmark = pytest.mark.django_db


def refused_by_database(model, pk, **values):
    """Write values with a bare UPDATE (no model validation) and expect the database to refuse."""
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=pk).update(**values)


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"receiving_country_id": "SENDER"}, "agreement_sending_differs_from_receiving"),
        ({"cap": -1}, "agreement_cap_not_negative"),
        (
            {"compensation_amount": -5, "compensation_currency": "USD"},
            "agreement_compensation_not_negative",
        ),
        (
            {"compensation_amount": 5, "compensation_currency": ""},
            "agreement_compensation_has_currency",
        ),
        (
            {"signed_on": datetime.date(2025, 5, 1), "ended_on": datetime.date(2025, 4, 1)},
            "agreement_ended_not_before_signed",
        ),
        (
            {"announced_on": datetime.date(2025, 5, 1), "ended_on": datetime.date(2025, 4, 1)},
            "agreement_ended_not_before_announced",
        ),
        (
            {"in_force_on": datetime.date(2025, 5, 1), "ended_on": datetime.date(2025, 4, 1)},
            "agreement_ended_not_before_in_force",
        ),
        (
            {"signed_on": datetime.date(2025, 5, 7), "signed_precision": "month"},
            "agreement_signed_on_matches_precision",
        ),
        (
            {"ended_on": datetime.date(2025, 5, 1), "ended_precision": "year"},
            "agreement_ended_on_matches_precision",
        ),
    ],
)
def test_database_refuses_invalid_agreement(values, constraint):
    agreement = AgreementFactory(published=True)
    if values.get("receiving_country_id") == "SENDER":
        values = {"receiving_country_id": agreement.sending_country_id}
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(**values)


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"to_country_id": "FROM"}, "transfer_from_differs_from_to"),
        ({"people": -3}, "transfer_people_not_negative"),
        ({"people": None, "people_is_minimum": True}, "transfer_minimum_needs_count"),
        (
            {"date": datetime.date(2025, 3, 16), "date_precision": "month"},
            "transfer_date_matches_precision",
        ),
    ],
)
def test_database_refuses_invalid_transfer(values, constraint):
    transfer = TransferFactory(published=True)
    if values.get("to_country_id") == "FROM":
        values = {"to_country_id": transfer.from_country_id}
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Transfer.objects.filter(pk=transfer.pk).update(**values)


def test_database_refuses_event_date_finer_than_its_precision():
    agreement = AgreementFactory(published=True)
    with pytest.raises(IntegrityError, match="event_date_matches_precision"), transaction.atomic():
        AgreementEvent.objects.create(
            agreement=agreement,
            date=datetime.date(2025, 3, 5),
            date_precision="year",
            description="x",
        )


def test_database_refuses_source_date_finer_than_its_precision():
    with (
        pytest.raises(IntegrityError, match="source_published_on_matches_precision"),
        transaction.atomic(),
    ):
        Source.objects.create(
            url="https://a.example/1",
            title="t",
            published_on=datetime.date(2025, 3, 5),
            published_precision="month",
        )


def test_database_refuses_duplicate_source_url():
    SourceFactory(url="https://a.example/same")
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(url="https://a.example/same", title="Again")


def test_database_refuses_duplicate_agreement_slug():
    AgreementFactory(published=True, slug="us-sv-2025")
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementFactory(published=True, slug="us-sv-2025")


def test_database_refuses_duplicate_country_code():
    with pytest.raises(IntegrityError), transaction.atomic():
        country("SV").__class__.objects.create(
            code="SV", alpha3="XXX", name="Dup", slug="dup", region="asia"
        )


# --- the same rules through the admin form: a message, never a 500 --------------------------------


def agreement_form(**overrides):
    """The add form as a browser posts it: a new draft from the US to El Salvador."""
    new = Agreement(
        title="Test deal",
        slug="test-deal",
        sending_country=country("US"),
        receiving_country=country("SV"),
        kind="unknown",
        status="reported",
    )
    return change_form(new, **overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"receiving_country": "US_PK"}, "The sending and receiving country must differ."),
        ({"cap": "-1"}, "Ensure this value is greater than or equal to 0."),
        (
            {"compensation_amount": "-5", "compensation_currency": "USD"},
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"compensation_amount": "5"}, "Give the currency of the compensation amount."),
        (
            {"signed_on": "2025-05-01", "ended_on": "2025-04-01"},
            "The end date cannot be before the signature date.",
        ),
        (
            {"announced_on": "2025-05-01", "ended_on": "2025-04-01"},
            "The end date cannot be before the announcement date.",
        ),
        (
            {"in_force_on": "2025-05-01", "ended_on": "2025-04-01"},
            "The end date cannot be before the entry-into-force date.",
        ),
        ({"compensation_currency": "usd"}, "An ISO 4217 code such as USD, GBP or EUR."),
    ],
)
def test_admin_form_shows_message_for_invalid_agreement(superuser_client, overrides, message):
    if overrides.get("receiving_country") == "US_PK":
        overrides = {"receiving_country": country("US").pk}
    response = superuser_client.post(
        reverse("admin:agreements_agreement_add"), agreement_form(**overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Agreement.objects.exists()


def test_admin_form_shows_message_for_duplicate_slug(superuser_client):
    AgreementFactory(published=True, slug="test-deal")
    response = superuser_client.post(reverse("admin:agreements_agreement_add"), agreement_form())
    assert response.status_code == 200
    assert "Agreement with this Slug already exists." in response.content.decode()


def test_admin_form_stores_a_month_as_its_first_day(superuser_client):
    response = superuser_client.post(
        reverse("admin:agreements_agreement_add"),
        agreement_form(signed_on="2025-03-16", signed_precision="month"),
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert agreement.signed_on == datetime.date(2025, 3, 1)
    assert agreement.dated("signed") == "March 2025"


def transfer_form(**overrides):
    data = {
        "from_country": country("US").pk,
        "to_country": country("SV").pk,
        "date": "2025-03-16",
        "date_precision": "day",
        "people": "10",
        "publication_state": "draft",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"to_country": "US_PK"}, "The origin and destination country must differ."),
        ({"people": "-3"}, "Ensure this value is greater than or equal to 0."),
        ({"people": "", "people_is_minimum": "on"}, "“At least” needs a number of people."),
    ],
)
def test_admin_form_shows_message_for_invalid_transfer(superuser_client, overrides, message):
    if overrides.get("to_country") == "US_PK":
        overrides = {"to_country": country("US").pk}
    response = superuser_client.post(
        reverse("admin:agreements_transfer_add"), transfer_form(**overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Transfer.objects.exists()


def test_admin_form_shows_message_for_duplicate_source_url(superuser_client):
    SourceFactory(url="https://a.example/same")
    response = superuser_client.post(
        reverse("admin:agreements_source_add"),
        {
            "url": "https://a.example/same",
            "title": "Again",
            "kind": "news",
            "published_precision": "day",
        },
    )
    assert response.status_code == 200
    assert "Source with this URL already exists." in response.content.decode()
