"""Country roles, the world map, trends, feeds, canonical links and meta descriptions."""

import datetime
from xml.etree import ElementTree

import pytest

from agreements.trends import agreement_timeline, people_per_month
from agreements.worldmap import country_roles, shapes
from tests.factories import AgreementFactory, TransferFactory, country

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def test_every_map_shape_is_a_path_and_most_have_a_country_code():
    drawn = shapes()
    assert len(drawn) > 170
    assert all(shape.path.startswith("M") for shape in drawn)
    assert {"US", "SV", "RW", "AL", "XK", "SZ"} <= {shape.code for shape in drawn}


def test_roles_come_from_published_records_only():
    AgreementFactory(published=True, sending_country=country("US"), receiving_country=country("SV"))
    AgreementFactory(published=True, sending_country=country("SV"), receiving_country=country("GT"))
    AgreementFactory(
        sending_country=country("DK"), receiving_country=country("RW"), publication_state="draft"
    )
    assert country_roles() == {"US": "sends", "SV": "both", "GT": "receives"}


def test_map_links_each_country_with_a_role_to_its_page(client):
    AgreementFactory(published=True, sending_country=country("US"), receiving_country=country("SV"))
    content = client.get("/").content.decode()
    assert '<a href="/countries/sv/" aria-label="El Salvador: receives people">' in content
    assert 'href="/countries/rw/"' not in content


def test_country_page_shows_people_over_time_nationalities_and_partners(client):
    deal = AgreementFactory(
        published=True, sending_country=country("US"), receiving_country=country("SV")
    )
    TransferFactory(
        published=True,
        agreement=deal,
        date=datetime.date(2025, 3, 16),
        people=261,
        nationalities=[country("VE")],
    )
    TransferFactory(
        published=True,
        agreement=deal,
        date=datetime.date(2024, 3, 1),
        people=17,
        nationalities=[country("VE")],
    )
    response = client.get("/countries/sv/")
    assert [(row["year"], row["people_total"]) for row in response.context["years_in"]] == [
        (2024, 17),
        (2025, 261),
    ]
    assert [(n["code"], n["transfer_count"]) for n in response.context["nationalities_in"]] == [
        ("VE", 2)
    ]
    assert [(p["code"], p["people_total"]) for p in response.context["partners_in"]] == [
        ("US", 278)
    ]
    assert (
        'href="/countries/us/">United States</a> <span class="count">sent 278 people here'
        in response.content.decode()
    )


def test_people_per_month_groups_by_receiving_country():
    TransferFactory(
        published=True,
        date=datetime.date(2025, 3, 16),
        people=261,
        agreement=None,
        from_country=country("US"),
        to_country=country("SV"),
    )
    TransferFactory(
        published=True,
        date=datetime.date(2025, 3, 30),
        people=17,
        agreement=None,
        from_country=country("US"),
        to_country=country("SV"),
    )
    TransferFactory(published=True, date=datetime.date(2025, 2, 1), date_precision="month", people=135, agreement=None,
                    from_country=country("US"), to_country=country("CR"))  # fmt: skip
    TransferFactory(
        published=True,
        date=datetime.date(2025, 1, 1),
        date_precision="year",
        people=999,
        agreement=None,
    )
    data = people_per_month()
    assert [(m["month"].isoformat(), m["total"]) for m in data["months"]] == [
        ("2025-02-01", 135),
        ("2025-03-01", 278),
    ]
    assert [s["name"] for s in data["series"]] == ["El Salvador", "Costa Rica"]


def test_timeline_runs_from_first_date_to_end_or_today():
    ended = AgreementFactory(
        published=True, signed_on=datetime.date(2022, 4, 14), ended_on=datetime.date(2024, 7, 6)
    )
    AgreementFactory(published=True, signed_on=datetime.date(2025, 6, 1))
    timeline = agreement_timeline(today=datetime.date(2026, 11, 29))
    first = timeline["rows"][0]
    assert first["agreement"] == ended and not first["ongoing"]
    assert [marker["letter"] for marker in first["markers"]] == ["S", "E"]
    assert timeline["rows"][1]["ongoing"]


def test_trends_page_has_tables_for_its_charts(client):
    TransferFactory(
        published=True,
        people=12,
        agreement=AgreementFactory(published=True, signed_on=datetime.date(2025, 1, 5)),
    )
    content = client.get("/trends/").content.decode()
    assert "<caption>People transferred per month" in content
    assert "<caption>Agreement dates" in content


def test_agreement_feeds_overall_and_per_country(client):
    AgreementFactory(
        published=True,
        title="Deal with Rwanda",
        sending_country=country("GB"),
        receiving_country=country("RW"),
    )
    AgreementFactory(
        published=True,
        title="Deal with Albania",
        sending_country=country("IT"),
        receiving_country=country("AL"),
    )
    AgreementFactory(
        title="Draft deal",
        sending_country=country("DK"),
        receiving_country=country("RW"),
        publication_state="draft",
    )

    def titles(url):
        root = ElementTree.fromstring(client.get(url).content)
        return sorted(entry.find(f"{ATOM}title").text for entry in root.findall(f"{ATOM}entry"))

    assert titles("/agreements/feed/") == ["Deal with Albania", "Deal with Rwanda"]
    assert titles("/countries/rw/feed/") == ["Deal with Rwanda"]
    assert client.get("/countries/zz/feed/").status_code == 404


@pytest.mark.parametrize(
    "url", ["/", "/agreements/", "/countries/", "/transfers/", "/trends/", "/search/?q=x"]
)
def test_pages_have_a_title_description_and_canonical_link(client, url):
    content = client.get(url).content.decode()
    assert "<title>" in content and '<meta name="description" content="' in content
    assert '<link rel="canonical" href="http://testserver/' in content


def test_country_feed_needs_an_exact_code(client):
    assert client.get("/countries/usa/feed/").status_code == 404


def test_feed_summaries_are_plain_text_and_markup_stays_text(client):
    from xml.etree import ElementTree

    from tests.factories import AgreementFactory, country

    AgreementFactory(
        published=True,
        sending_country=country("US"),
        receiving_country=country("SV"),
        summary='<img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a>',
    )
    for url in ("/agreements/feed/", "/countries/us/feed/", "/changes/feed/"):
        root = ElementTree.fromstring(client.get(url).content)
        summaries = root.findall(".//{http://www.w3.org/2005/Atom}summary")
        assert summaries, url
        assert {summary.get("type") for summary in summaries} == {"text"}, url
    text = ElementTree.fromstring(client.get("/agreements/feed/").content)
    summary = text.find(".//{http://www.w3.org/2005/Atom}summary").text
    assert "<img src=x onerror=alert(1)>" in summary  # shown as the characters, never run
