"""Unknown is not zero: a transfer without a head-count is never added up as nobody."""

import datetime

import pytest

from agreements.templatetags.tracker import count_cell, head_count, without_count
from tests.factories import AgreementFactory, SourceFactory, TransferFactory, country

pytestmark = pytest.mark.django_db


def test_no_count_at_all_reads_unknown():
    assert head_count({"transfer_count": 2, "unknown_count": 2, "people_total": 0}) == "unknown"


def test_some_counts_missing_reads_at_least():
    figures = {"transfer_count": 3, "unknown_count": 1, "uncertain_count": 1, "people_total": 40}
    assert head_count(figures) == "at least 40 people"
    assert count_cell(figures) == "≥ 40"
    assert without_count(figures) == "(1 of 3 transfers has no count)"


def test_one_person_is_singular():
    assert head_count({"transfer_count": 1, "people_total": 1}) == "1 person"


def test_a_country_whose_partner_sent_people_of_unknown_number_does_not_say_zero(client):
    mexico, us = country("MX"), country("US")
    deal = AgreementFactory(published=True, sending_country=us, receiving_country=mexico)
    TransferFactory(published=True, agreement=deal, people=None, date=datetime.date(2019, 3, 1),
                    sources=[SourceFactory()])  # fmt: skip
    page = client.get("/countries/us/").content.decode()
    assert "received 0 people" not in page
    assert "received people from here, number unknown" in page
    years = client.get("/countries/mx/").context["years_in"]
    assert years[0]["unknown_count"] == 1


def test_a_transfer_with_no_count_reads_as_an_unknown_number_in_sentences(client):
    transfer = TransferFactory(published=True, people=None, sources=[SourceFactory()])
    page = client.get(transfer.get_absolute_url()).content.decode()
    assert "An unknown number of people moved" in page
    assert "Unknown people" not in page


def test_the_monthly_chart_says_how_many_transfers_it_leaves_out(client):
    TransferFactory(published=True, people=None, sources=[SourceFactory()])
    TransferFactory(published=True, people=5, sources=[SourceFactory()])
    page = client.get("/trends/").content.decode()
    assert "(1 transfer left out)" in page
