"""The lists on a small screen and in a shared link (issue 12): active filters as removable chips,
an address without empty parameters, sort menus without duplicates, the lifecycle order of
statuses and the agreement list's date column. The layout itself: tests/test_browser_layout.py."""

import datetime

import pytest
from django.http import QueryDict
from django.utils.http import urlencode

from agreements.chips import active_filters
from agreements.filters import AgreementFilter, CaseFilter, TransferFilter
from agreements.models import Agreement, AgreementStatus
from tests.factories import AgreementFactory, country
from tracker.query import without_empty_parameters

pytestmark = pytest.mark.django_db


# Empty parameters: a GET form sends every field.


def test_a_list_address_with_empty_parameters_redirects_to_the_one_without_them(client):
    response = client.get("/agreements/?q=&receiving_country=RW&kind=&status=in_force&year=")
    assert response.status_code == 302
    assert response["Location"] == "/agreements/?receiving_country=RW&status=in_force"


def test_the_redirect_keeps_the_other_parameters_in_their_order(client):
    response = client.get("/transfers/?to_country=SV&from_country=&ordering=-people&agreement=")
    assert response["Location"] == "/transfers/?to_country=SV&ordering=-people"


def test_a_list_address_with_only_empty_parameters_redirects_to_the_bare_list(client):
    response = client.get("/cases/?q=&country=&agreement=&court=&stage=&ordering=")
    assert response.status_code == 302
    assert response["Location"] == "/cases/"


def test_the_redirect_target_is_served_without_another_redirect(client):
    response = client.get("/sources/?q=+&kind=news", follow=True)
    assert response.redirect_chain == [("/sources/?kind=news", 302)]
    assert response.status_code == 200


def test_a_list_address_without_empty_parameters_is_served_as_it_is(client):
    assert client.get("/agreements/?status=in_force&status=signed").status_code == 200
    assert client.get("/agreements/").status_code == 200


def test_pages_that_are_not_lists_keep_their_empty_parameters(client):
    assert client.get("/search/?q=").status_code == 200
    assert client.get("/api/agreements/?country=").status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=1&b=2", None),
        ("a=&b=2", "b=2"),
        ("a=1&b=", "a=1"),
        ("a=%20&b=+", ""),
        ("flag&b=2", "b=2"),
        ("a=1&&b=2", "a=1&b=2"),
        ("q=%C3%A9t%C3%A9&x=", "q=%C3%A9t%C3%A9"),  # kept as it was sent
    ],
)
def test_without_empty_parameters(query, expected):
    assert without_empty_parameters(query) == expected


# Active filters as chips.


def _chips(data, path="/agreements/"):
    filterset = AgreementFilter(
        QueryDict(urlencode(data, doseq=True)),
        queryset=Agreement.objects.published().with_first_date(),
    )
    filterset.is_valid()
    return active_filters(filterset, path)


def test_each_active_filter_is_a_chip_in_words():
    chips = _chips({"receiving_country": "RW", "status": ["in_force", "signed"], "q": "camp"})
    assert [str(chip) for chip in chips] == [
        "Text in title or summary: “camp”",
        "Receiving country: Rwanda",
        "Status: In force",
        "Status: Signed",
    ]


def test_a_chip_links_to_the_list_without_that_one_value():
    chips = _chips({"receiving_country": "RW", "status": ["in_force", "signed"], "page": "2"})
    urls = {str(chip): chip.url for chip in chips}
    assert urls["Receiving country: Rwanda"] == "/agreements/?status=in_force&status=signed"
    assert urls["Status: In force"] == "/agreements/?receiving_country=RW&status=signed"


def test_the_last_chip_links_to_the_bare_list_and_the_order_is_kept():
    chips = _chips({"kind": "memorandum_of_understanding", "ordering": "title"})
    assert [str(chip) for chip in chips] == ["Kind: Memorandum of understanding"]
    assert chips[0].url == "/agreements/?ordering=title"
    (chip,) = _chips({"date_from": "2025-03-01"})
    assert (str(chip), chip.url) == ("Dated from: 1 March 2025", "/agreements/")


def test_a_refused_value_is_a_chip_as_typed_so_it_can_be_removed():
    (chip,) = _chips({"country": "ZZ"})
    assert str(chip) == "Country (either side): ZZ"
    assert chip.url == "/agreements/"


def test_no_filter_no_chip():
    assert _chips({}) == []
    assert _chips({"ordering": "-date", "page": "2"}) == []


def test_the_list_page_shows_the_chips_and_the_filter_button(client):
    AgreementFactory(published=True, receiving_country=country("RW"), status="in_force")
    page = client.get("/agreements/?receiving_country=RW&status=in_force").content.decode()
    assert 'Filter <span class="filter-count">(2 active)</span>' in page
    assert 'href="/agreements/?status=in_force"' in page
    assert "Receiving country: <strong>Rwanda</strong>" in page
    assert 'aria-label="Remove filter Status: In force"' in page


def test_the_filters_fold_away_unless_one_needs_correcting(client):
    assert '<details class="filter-panel">' in client.get("/agreements/").content.decode()
    page = client.get("/agreements/?date_from=2025-13-01").content.decode()
    assert '<details class="filter-panel" open>' in page


# Sorting.


@pytest.mark.parametrize("filterset_class", [AgreementFilter, TransferFilter, CaseFilter])
def test_no_sort_order_is_offered_twice(filterset_class):
    menu = list(filterset_class(queryset=None).form["ordering"].field.widget.choices)
    labels = [str(label) for _, label in menu]
    assert len(labels) == len(set(labels)), labels
    assert menu[0][0] == ""  # the list's own order, named by the empty choice


def test_the_default_order_by_its_own_name_is_still_a_valid_link():
    filterset = AgreementFilter(QueryDict("ordering=-updated"), queryset=Agreement.objects.all())
    assert filterset.is_valid(), filterset.errors


def test_sorting_by_status_follows_the_lifecycle_not_the_alphabet():
    for status in ("terminated", "announced", "in_force", "denied", "reported", "signed"):
        AgreementFactory(published=True, status=status)
    queryset = Agreement.objects.published().with_first_date()

    def statuses(ordering):
        return [a.status for a in AgreementFilter({"ordering": ordering}, queryset=queryset).qs]

    lifecycle = ["reported", "announced", "signed", "in_force", "terminated", "denied"]
    assert lifecycle == [s for s in AgreementStatus.values if s in lifecycle]
    assert statuses("status") == lifecycle
    assert statuses("-status") == lifecycle[::-1]


# The agreement list's date column.


def test_the_agreement_list_shows_the_earliest_known_date_at_its_precision(client):
    AgreementFactory(
        published=True,
        title="Dated deal",
        announced_on=datetime.date(2025, 3, 1),
        announced_precision="month",
        signed_on=datetime.date(2025, 5, 14),
    )
    AgreementFactory(published=True, title="Undated deal")
    page = client.get("/agreements/").content.decode()
    assert '<td class="date" data-label="Date">March 2025</td>' in page
    assert '<td class="date" data-label="Date">–</td>' in page


def test_first_dated_is_the_earliest_of_announced_signed_and_in_force():
    agreement = Agreement(
        signed_on=datetime.date(2024, 1, 1),
        signed_precision="year",
        in_force_on=datetime.date(2023, 6, 2),
        in_force_precision="day",
    )
    assert agreement.first_dated == "2 June 2023"
    assert Agreement().first_dated == ""


def test_the_table_rows_carry_their_date_without_another_query(django_assert_num_queries):
    AgreementFactory(published=True, announced_on=datetime.date(2025, 2, 3))
    rows = list(Agreement.objects.published().for_table())
    with django_assert_num_queries(0):
        assert rows[0].first_dated == "3 February 2025"
