"""Each public filter narrows the list correctly, alone and combined (FilterSets built from dicts)."""

import datetime

import pytest

from agreements.filters import AgreementFilter, TransferFilter
from agreements.models import Agreement, Transfer
from tests.factories import AgreementFactory, TransferFactory, country

pytestmark = pytest.mark.django_db


def agreements(data):
    filterset = AgreementFilter(data, queryset=Agreement.objects.published().with_first_date())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs)


def transfers(data):
    filterset = TransferFilter(data, queryset=Transfer.objects.published())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs)


@pytest.fixture
def deals():
    return {
        "us_sv": AgreementFactory(
            published=True,
            title="CECOT detention",
            sending_country=country("US"),
            receiving_country=country("SV"),
            status="in_force",
            kind="informal_arrangement",
            announced_on=datetime.date(2025, 2, 3),
        ),
        "gb_rw": AgreementFactory(
            published=True,
            title="Migration partnership",
            summary="Asylum seekers relocated to Kigali.",
            sending_country=country("GB"),
            receiving_country=country("RW"),
            status="terminated",
            kind="memorandum_of_understanding",
            signed_on=datetime.date(2022, 4, 14),
        ),
        "us_rw": AgreementFactory(
            published=True,
            title="Reception of deportees",
            sending_country=country("US"),
            receiving_country=country("RW"),
            status="signed",
            kind="unknown",
            signed_on=datetime.date(2025, 6, 1),
        ),
    }


def test_country_matches_either_side(deals):
    assert agreements({"country": "RW"}) == {deals["gb_rw"], deals["us_rw"]}
    assert agreements({"country": "US"}) == {deals["us_sv"], deals["us_rw"]}


def test_country_code_is_case_insensitive(deals):
    assert agreements({"country": "rw"}) == agreements({"country": "RW"})


def test_sending_country_matches_only_the_sender(deals):
    assert agreements({"sending_country": "US"}) == {deals["us_sv"], deals["us_rw"]}
    assert agreements({"sending_country": "RW"}) == set()


def test_receiving_country_matches_only_the_host(deals):
    assert agreements({"receiving_country": "RW"}) == {deals["gb_rw"], deals["us_rw"]}


def test_status_accepts_several_values(deals):
    assert agreements({"status": ["in_force", "signed"]}) == {deals["us_sv"], deals["us_rw"]}
    assert agreements({"status": ["terminated"]}) == {deals["gb_rw"]}


def test_kind_narrows(deals):
    assert agreements({"kind": "unknown"}) == {deals["us_rw"]}


def test_text_query_searches_title_and_summary(deals):
    assert agreements({"q": "cecot"}) == {deals["us_sv"]}
    assert agreements({"q": "kigali"}) == {deals["gb_rw"]}


def test_date_range_uses_the_earliest_known_date(deals):
    assert agreements({"date_from": "2025-01-01"}) == {deals["us_sv"], deals["us_rw"]}
    assert agreements({"date_to": "2024-12-31"}) == {deals["gb_rw"]}
    assert agreements({"date_from": "2025-03-01", "date_to": "2025-12-31"}) == {deals["us_rw"]}


def test_filters_combine(deals):
    assert agreements({"receiving_country": "RW", "status": ["signed"]}) == {deals["us_rw"]}
    assert agreements({"country": "US", "kind": "informal_arrangement", "q": "cecot"}) == {
        deals["us_sv"]
    }
    assert agreements({"sending_country": "GB", "status": ["in_force"]}) == set()


def test_ordering_by_title(deals):
    filterset = AgreementFilter(
        {"ordering": "title"}, queryset=Agreement.objects.published().with_first_date()
    )
    assert [a.title for a in filterset.qs] == [
        "CECOT detention",
        "Migration partnership",
        "Reception of deportees",
    ]


def test_reversed_date_range_is_a_form_error(deals):
    filterset = AgreementFilter(
        {"date_from": "2025-01-01", "date_to": "2024-01-01"}, queryset=Agreement.objects.all()
    )
    assert not filterset.is_valid()
    assert "The start date must not be after the end date." in str(filterset.form.errors)


@pytest.mark.parametrize(
    "data",
    [
        {"country": "ZZ"},
        {"status": ["bogus"]},
        {"kind": "treaty"},
        {"date_from": "2025-13-40"},
        {"q": "x" * 201},
    ],
)
def test_invalid_values_are_form_errors(data):
    assert not AgreementFilter(data, queryset=Agreement.objects.all()).is_valid()


@pytest.fixture
def flights():
    sv = AgreementFactory(
        published=True, sending_country=country("US"), receiving_country=country("SV")
    )
    rw = AgreementFactory(
        published=True, sending_country=country("GB"), receiving_country=country("RW")
    )
    return {
        "march": TransferFactory(
            published=True,
            agreement=sv,
            date=datetime.date(2025, 3, 16),
            nationalities=[country("VE")],
        ),
        "april": TransferFactory(
            published=True,
            agreement=sv,
            date=datetime.date(2025, 4, 1),
            nationalities=[country("SV")],
        ),
        "kigali": TransferFactory(published=True, agreement=rw, date=datetime.date(2024, 4, 29)),
        "loose": TransferFactory(
            published=True,
            agreement=None,
            from_country=country("IT"),
            to_country=country("AL"),
            date=datetime.date(2023, 1, 5),
        ),
    }


def test_transfer_country_matches_either_direction(flights):
    assert transfers({"country": "SV"}) == {flights["march"], flights["april"]}
    assert transfers({"country": "GB"}) == {flights["kigali"]}


def test_transfer_from_and_to(flights):
    assert transfers({"from_country": "IT"}) == {flights["loose"]}
    assert transfers({"to_country": "RW"}) == {flights["kigali"]}


def test_transfer_agreement(flights):
    assert transfers({"agreement": flights["march"].agreement.slug}) == {
        flights["march"],
        flights["april"],
    }


def test_transfer_nationality(flights):
    assert transfers({"nationality": "VE"}) == {flights["march"]}


def test_transfer_date_range(flights):
    assert transfers({"date_from": "2025-03-01", "date_to": "2025-03-31"}) == {flights["march"]}


def test_transfer_filters_combine(flights):
    assert transfers({"to_country": "SV", "date_from": "2025-04-01"}) == {flights["april"]}
    assert transfers({"nationality": "VE", "to_country": "RW"}) == set()


def test_transfer_agreement_choice_excludes_drafts(flights):
    draft = AgreementFactory(publication_state="draft", slug="secret-deal")
    filterset = TransferFilter({"agreement": draft.slug}, queryset=Transfer.objects.published())
    assert not filterset.is_valid()


def test_transfers_without_a_count_sort_last_both_ways(flights):
    unknown = TransferFactory(
        published=True,
        agreement=None,
        people=None,
        from_country=country("US"),
        to_country=country("MX"),
    )
    for ordering in ("people", "-people"):
        filterset = TransferFilter({"ordering": ordering}, queryset=Transfer.objects.published())
        assert list(filterset.qs)[-1] == unknown


def test_undated_agreements_sort_last_by_date(deals):
    undated = AgreementFactory(published=True, title="Undated")
    for ordering in ("date", "-date"):
        filterset = AgreementFilter(
            {"ordering": ordering}, queryset=Agreement.objects.published().with_first_date()
        )
        assert list(filterset.qs)[-1] == undated
