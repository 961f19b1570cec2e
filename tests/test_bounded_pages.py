"""Detail pages stay small however many records hang off them: they show the first ones,
the totals, and a link to the full, paginated list."""

import pytest

from agreements import views
from tests.factories import AgreementFactory, TransferFactory, country

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(views, "TRANSFER_LIMIT", 2)
    monkeypatch.setattr(views, "COUNTRY_TRANSFER_LIMIT", 2)
    monkeypatch.setattr(views, "COUNTRY_AGREEMENT_LIMIT", 2)


def test_an_agreement_page_lists_its_first_transfers_and_links_to_all(client, small_limits):
    agreement = AgreementFactory(published=True, slug="busy-deal")
    for n in range(5):
        TransferFactory(published=True, agreement=agreement, people=10, place=f"Camp {n}")
    page = client.get(agreement.get_absolute_url())
    assert len(page.context["transfers"]) == 2
    html = page.content.decode()
    assert "The first 2 of 5 transfers (50 people" in html
    assert 'href="/transfers/?agreement=busy-deal"' in html
    assert client.get("/transfers/?agreement=busy-deal").context["paginator"].count == 5


def test_an_agreement_page_with_few_transfers_has_no_more_link(client, small_limits):
    agreement = AgreementFactory(published=True, slug="quiet-deal")
    TransferFactory(published=True, agreement=agreement)
    html = client.get(agreement.get_absolute_url()).content.decode()
    assert "/transfers/?agreement=quiet-deal" not in html


def test_a_country_page_bounds_its_agreement_lists_and_counts_them_all(client, small_limits):
    for _ in range(3):
        AgreementFactory(
            published=True, sending_country=country("GB"), receiving_country=country("RW")
        )
    page = client.get("/countries/gb/")
    assert len(page.context["agreements_sent"]) == 2
    assert page.context["agreement_counts"] == {"sent": 3, "hosted": 0}
    assert 'href="/agreements/?sending_country=GB"' in page.content.decode()
    hosted = client.get("/countries/rw/").content.decode()
    assert 'href="/agreements/?receiving_country=RW"' in hosted


def test_the_timeline_shows_the_most_recent_agreements_and_links_to_all(client, monkeypatch):
    import datetime

    from agreements import trends

    monkeypatch.setattr(trends, "TIMELINE_LIMIT", 2)
    for year in (2019, 2021, 2023):
        AgreementFactory(
            published=True, title=f"Deal of {year}", signed_on=datetime.date(year, 5, 1)
        )
    page = client.get("/trends/")
    titles = [row["agreement"].title for row in page.context["timeline"]["rows"]]
    assert titles == ["Deal of 2021", "Deal of 2023"]
    html = page.content.decode()
    assert "of 3;" in html
    assert 'href="/agreements/?ordering=-date"' in html


@pytest.fixture
def short_pages(monkeypatch):
    monkeypatch.setattr(views, "MAX_PAGES", 2)
    monkeypatch.setattr(views.AgreementListView, "paginate_by", 1)


def test_lists_stop_after_the_last_served_page(client, short_pages):
    for _ in range(3):
        AgreementFactory(published=True)
    last = client.get("/agreements/?page=2")
    assert last.status_code == 200
    assert last.context["paginator"].num_pages == 2
    assert "Lists stop after 2 pages" in last.content.decode()
    assert client.get("/agreements/?page=3").status_code == 404


def test_lists_that_fit_say_nothing_about_stopping(client, short_pages):
    for _ in range(2):
        AgreementFactory(published=True)
    assert "Lists stop after" not in client.get("/agreements/?page=2").content.decode()


@pytest.fixture
def agreement_menu_limit(monkeypatch):
    from agreements.filters import TransferFilter

    monkeypatch.setattr(TransferFilter, "AGREEMENT_MENU_LIMIT", 1)


def test_with_many_agreements_the_transfer_filter_takes_a_typed_name(client, agreement_menu_limit):
    kept = AgreementFactory(published=True, slug="kept-deal")
    AgreementFactory(published=True, slug="other-deal")
    TransferFactory(published=True, agreement=kept, place="Kept Camp")
    page = client.get("/transfers/")
    html = page.content.decode()
    assert '<select name="agreement"' not in html
    assert 'type="text" name="agreement"' in html
    filtered = client.get("/transfers/?agreement=kept-deal")
    assert filtered.context["paginator"].count == 1


def test_a_mistyped_agreement_name_is_a_form_error(client, agreement_menu_limit):
    AgreementFactory(published=True, slug="one-deal")
    AgreementFactory(published=True, slug="two-deal")
    page = client.get("/transfers/?agreement=no-such-deal")
    assert page.status_code == 200
    assert page.context["filter"].form.errors["agreement"]


def test_with_few_agreements_the_transfer_filter_is_a_menu(client):
    AgreementFactory(published=True, slug="only-deal")
    assert '<select name="agreement"' in client.get("/transfers/").content.decode()
