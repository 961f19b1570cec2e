"""Onward removals in public: a reader follows people from the first sending country to where
they ended up (transfer, agreement, country and trends pages, the list's filter, the exports),
and a draft onward transfer shows nowhere, not even as a count."""

import datetime
import json

import pytest
from django.db import IntegrityError, connection, transaction

from agreements.filters import TransferFilter
from agreements.models import Transfer
from tests.factories import AgreementFactory, TransferFactory, country

pytestmark = pytest.mark.django_db


def onward(earlier, **fields):
    """A transfer that continues `earlier` (a list), leaving the country they ended in."""
    fields.setdefault("agreement", None)
    fields.setdefault("published", True)  # unless publication_state says otherwise
    fields.setdefault("from_country", earlier[0].to_country)
    transfer = TransferFactory(**fields)
    transfer.continues.set(earlier)
    return transfer


@pytest.fixture
def chain():
    """US -> El Salvador (two flights, March 2025) -> Venezuela (July) -> Colombia (August),
    and a draft onward transfer from El Salvador to Honduras."""
    deal = AgreementFactory(
        published=True, slug="us-sv", sending_country=country("US"), receiving_country=country("SV")
    )
    first = TransferFactory(
        published=True, agreement=deal, date=datetime.date(2025, 3, 15), people=238
    )
    second = TransferFactory(
        published=True, agreement=deal, date=datetime.date(2025, 3, 16), people=23
    )
    sent_on = onward(
        [first, second], to_country=country("VE"), date=datetime.date(2025, 7, 18), people=252
    )
    further = onward([sent_on], to_country=country("CO"), date=datetime.date(2025, 8, 1), people=40)
    draft = onward(
        [first],
        to_country=country("HN"),
        date=datetime.date(2025, 7, 20),
        people=999,
        publication_state="draft",
    )
    return {
        "deal": deal,
        "first": first,
        "second": second,
        "sent_on": sent_on,
        "further": further,
        "draft": draft,
    }


def names(path):
    return [[country.name for country in stage] for stage in path]


# --- the transfer page ----------------------------------------------------------------------------


def test_transfer_page_shows_where_its_people_came_from(client, chain):
    response = client.get(chain["sent_on"].get_absolute_url())
    found = response.context["chain"]
    assert found.before == [chain["first"], chain["second"]]
    assert names(found.path)[:3] == [["United States"], ["El Salvador"], ["Venezuela"]]
    content = response.content.decode()
    assert f'href="{chain["first"].get_absolute_url()}"' in content
    assert f'href="{chain["second"].get_absolute_url()}"' in content


def test_transfer_page_shows_where_its_people_were_sent_on_to(client, chain):
    response = client.get(chain["first"].get_absolute_url())
    found = response.context["chain"]
    assert found.after == [chain["sent_on"], chain["further"]]
    assert names(found.path) == [["United States"], ["El Salvador"], ["Venezuela"], ["Colombia"]]
    assert f'href="{chain["further"].get_absolute_url()}"' in response.content.decode()


def test_chain_lists_the_transfers_in_the_order_people_moved(client, chain):
    content = client.get(chain["further"].get_absolute_url()).content.decode()
    positions = [
        content.index(f'href="{chain[key].get_absolute_url()}"')
        for key in ("first", "second", "sent_on")
    ]
    assert positions == sorted(positions)
    assert content.index("(this transfer)") > positions[-1]


def test_a_draft_onward_transfer_is_not_in_the_chain(client, chain):
    response = client.get(chain["first"].get_absolute_url())
    assert chain["draft"] not in response.context["chain"].after
    assert chain["draft"].get_absolute_url() not in response.content.decode()
    assert "Honduras" not in response.content.decode()


def test_a_draft_onward_transfer_is_not_in_the_chain_of_a_staff_preview(publisher_client, chain):
    response = publisher_client.get(chain["first"].get_absolute_url())
    assert chain["draft"] not in response.context["chain"].after


def test_a_transfer_without_links_has_no_chain_section(client):
    response = client.get(TransferFactory(published=True).get_absolute_url())
    assert not response.context["chain"]
    assert 'id="chain"' not in response.content.decode()


def test_people_who_came_from_two_countries_read_as_one_stage(client, chain):
    mexico = TransferFactory(
        published=True,
        agreement=None,
        from_country=country("MX"),
        to_country=country("SV"),
        date=datetime.date(2025, 4, 2),
    )
    chain["sent_on"].continues.add(mexico)
    path = client.get(chain["sent_on"].get_absolute_url()).context["chain"].path
    assert names(path) == [
        ["United States", "Mexico"],
        ["El Salvador"],
        ["Venezuela"],
        ["Colombia"],
    ]


# --- the agreement page ---------------------------------------------------------------------------


def test_agreement_page_lists_the_onward_removals_of_its_transfers(client, chain):
    response = client.get(chain["deal"].get_absolute_url())
    assert [row.id for row in response.context["sent_on"]] == [chain["sent_on"].pk]
    content = response.content.decode()
    assert "Sent on from El Salvador" in content
    assert f'href="{chain["sent_on"].get_absolute_url()}"' in content


def test_agreement_page_lists_an_onward_removal_under_another_agreement(client, chain):
    other = AgreementFactory(
        published=True, sending_country=country("SV"), receiving_country=country("VE")
    )
    chain["sent_on"].agreement = other
    chain["sent_on"].save()
    response = client.get(chain["deal"].get_absolute_url())
    assert [row.id for row in response.context["sent_on"]] == [chain["sent_on"].pk]
    assert f'href="{other.get_absolute_url()}"' in response.content.decode()


def test_agreement_page_leaves_out_a_draft_onward_removal(client, chain):
    response = client.get(chain["deal"].get_absolute_url())
    assert chain["draft"].pk not in [row.id for row in response.context["sent_on"]]
    assert chain["draft"].get_absolute_url() not in response.content.decode()


def test_agreement_page_query_count_does_not_grow_with_onward_removals(client):
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 8):
        deal = AgreementFactory(
            published=True, sending_country=country("US"), receiving_country=country("SV")
        )
        for day in range(1, size + 1):
            earlier = TransferFactory(
                published=True, agreement=deal, date=datetime.date(2025, 3, day)
            )
            onward([earlier], to_country=country("VE"), date=datetime.date(2025, 7, day))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(deal.get_absolute_url())
        assert len(response.context["sent_on"]) == size
        counts.append(len(queries))
    # Their ids and their rows: two queries however many there are.
    assert counts[0] == counts[1]


def test_transfer_page_pays_one_query_per_step_of_its_chain(client, chain):
    from django.test.utils import CaptureQueriesContext

    lone = TransferFactory(published=True)
    with CaptureQueriesContext(connection) as alone:
        client.get(lone.get_absolute_url())
    with CaptureQueriesContext(connection) as linked:
        client.get(chain["sent_on"].get_absolute_url())
    # Back: the March flights, then nothing; on: Colombia, then nothing. A transfer with no
    # links asks once each way.
    assert len(linked) - len(alone) == 2


# --- the transfer list, its filter and its mark ---------------------------------------------------


def filtered(data):
    filterset = TransferFilter(data, queryset=Transfer.objects.published())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs)


def test_filter_onward_yes_keeps_only_onward_removals(chain):
    assert filtered({"onward": "yes"}) == {chain["sent_on"], chain["further"]}


def test_filter_onward_no_keeps_only_first_transfers(chain):
    assert filtered({"onward": "no"}) == {chain["first"], chain["second"]}


def test_filter_onward_combines_with_the_country_filters(chain):
    assert filtered({"onward": "yes", "from_country": "SV"}) == {chain["sent_on"]}


def test_a_transfer_continuing_only_a_draft_is_not_an_onward_removal(chain):
    hidden = TransferFactory(
        publication_state="draft", agreement__published=True, to_country=country("PA")
    )
    after = onward([hidden], to_country=country("CR"), date=datetime.date(2025, 9, 1))
    assert after not in filtered({"onward": "yes"})
    assert after in filtered({"onward": "no"})


@pytest.mark.parametrize("value", ["maybe", "1", "true", "YES ", "yes\x00", "y" * 300])
def test_a_junk_onward_value_is_the_forms_error_not_a_server_error(client, chain, value):
    response = client.get("/transfers/", {"onward": value})
    assert response.status_code == 200
    assert response.context["filter"].errors["onward"]
    assert "Select a valid choice" in response.content.decode()


def test_transfer_list_marks_onward_removals(client, chain):
    response = client.get("/transfers/")
    marked = {row.id for row in response.context["object_list"] if row.is_onward}
    assert marked == {chain["sent_on"].pk, chain["further"].pk}
    assert response.content.decode().count('class="onward-mark"') == 2


def test_transfer_list_filters_onward_removals_from_the_query_string(client, chain):
    response = client.get("/transfers/", {"onward": "yes"})
    assert {row.id for row in response.context["object_list"]} == {
        chain["sent_on"].pk,
        chain["further"].pk,
    }


# --- exports and the API --------------------------------------------------------------------------


def rows_by_id(client, url):
    return {row["id"]: row for row in json.loads(b"".join(client.get(url).streaming_content))}


def test_json_download_lists_the_transfers_each_continues(client, chain):
    rows = rows_by_id(client, "/transfers/export.json")
    assert rows[chain["sent_on"].pk]["continues"] == sorted([chain["first"].pk, chain["second"].pk])
    assert rows[chain["further"].pk]["continues"] == [chain["sent_on"].pk]
    assert rows[chain["first"].pk]["continues"] == []


def test_downloads_leave_out_a_draft_onward_transfer_and_a_draft_earlier_one(client, chain):
    hidden = TransferFactory(
        publication_state="draft", agreement__published=True, to_country=country("PA")
    )
    after = onward([hidden], to_country=country("CR"), date=datetime.date(2025, 9, 1))
    rows = rows_by_id(client, "/transfers/export.json")
    assert chain["draft"].pk not in rows
    assert rows[after.pk]["continues"] == []
    csv_text = client.get("/transfers/export.csv").getvalue().decode()
    assert str(hidden.pk) not in [
        cell for line in csv_text.splitlines() for cell in line.split(",")
    ]


def test_csv_download_has_the_continues_column(client, chain):
    import csv
    import io

    text = client.get("/transfers/export.csv").getvalue().decode()
    rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(text))}
    first, second = sorted([chain["first"].pk, chain["second"].pk])
    assert rows[chain["sent_on"].pk]["continues"] == f"{first}|{second}"
    assert rows[chain["first"].pk]["continues"] == ""


def test_the_csv_postgres_writes_matches_the_python_writer_with_links(client, chain):
    from django.http import QueryDict

    from agreements import exports
    from agreements.api import DATASETS

    copied = client.get("/transfers/export.csv").getvalue()
    queryset = DATASETS["transfers"].filtered(QueryDict(""))
    written = b"".join(
        exports.csv_response(
            exports.transfer_rows(queryset), exports.TRANSFER_COLUMNS, "x"
        ).streaming_content
    )
    assert copied == written


def test_downloads_and_the_api_take_the_onward_filter(client, chain):
    expected = {chain["sent_on"].pk, chain["further"].pk}
    assert set(rows_by_id(client, "/transfers/export.json?onward=yes")) == expected
    api = client.get("/api/transfers/", {"onward": "yes"}).json()
    assert {row["id"] for row in api["results"]} == expected


def test_the_api_answers_a_junk_onward_value_with_a_400(client, chain):
    response = client.get("/api/transfers/", {"onward": "perhaps"})
    assert response.status_code == 400
    assert "onward" in response.json()["fields"]


def test_the_api_rows_list_continued_transfers_as_integers(client, chain):
    rows = {row["id"]: row for row in client.get("/api/transfers/").json()["results"]}
    assert rows[chain["further"].pk]["continues"] == [chain["sent_on"].pk]


# --- the country page -----------------------------------------------------------------------------


def test_country_page_counts_people_sent_onward_from_it(client, chain):
    response = client.get("/countries/sv/")
    assert response.context["onward_out"] == {
        "transfer_count": 1,
        "people_total": 252,
        "unknown_count": 0,
        "uncertain_count": 0,
    }
    assert "People sent onward from here" in response.content.decode()


def test_country_page_counts_people_who_arrived_by_onward_removal(client, chain):
    response = client.get("/countries/ve/")
    assert response.context["onward_in"]["people_total"] == 252
    assert response.context["onward_out"]["people_total"] == 40
    assert "People who arrived by onward removal" in response.content.decode()


def test_country_page_leaves_out_a_draft_onward_removal(client, chain):
    response = client.get("/countries/hn/")
    assert response.context["onward_in"]["transfer_count"] == 0
    assert 'id="onward"' not in response.content.decode()


def test_country_page_notes_an_onward_count_that_is_a_floor(client, chain):
    chain["sent_on"].people_is_minimum = True
    chain["sent_on"].save()
    content = client.get("/countries/sv/").content.decode()
    assert "at least 252 people" in content
    assert "these are floors" in content


# --- the trends page ------------------------------------------------------------------------------


def test_trends_page_counts_people_sent_on_against_people_first_transferred(client, chain):
    response = client.get("/trends/")
    totals = response.context["onward"]
    assert totals["first_legs"]["people_total"] == 238 + 23
    assert totals["sent_on"] == {"transfer_count": 1, "people_total": 252, "uncertain_count": 0}
    assert totals["onward"]["people_total"] == 252 + 40
    content = " ".join(response.content.decode().split())
    assert "At least <strong>252</strong> of the <strong>261</strong> people recorded" in content


def test_trends_page_leaves_out_a_draft_onward_removal(client, chain):
    totals = client.get("/trends/").context["onward"]
    assert totals["onward"]["transfer_count"] == 2
    assert 999 not in (totals["onward"]["people_total"], totals["sent_on"]["people_total"])
    assert totals["sent_on"]["people_total"] == 252


def test_trends_page_says_the_people_transferred_are_a_floor_when_counts_are_unsure(client, chain):
    chain["second"].people = None
    chain["second"].save()
    content = " ".join(client.get("/trends/").content.decode().split())
    assert "of the <strong>238</strong> or more people recorded as transferred" in content
    assert "1 of these transfers has no reliable count" in content


def test_trends_page_says_when_there_is_no_onward_removal(client):
    TransferFactory(published=True)
    assert "No onward removal has been recorded yet" in client.get("/trends/").content.decode()


# --- the database's rule --------------------------------------------------------------------------


def check_now():
    """The trigger is deferred to the end of the transaction, which a test never reaches."""
    connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_database_refuses_an_onward_transfer_from_the_wrong_country(chain):
    wrong = TransferFactory(
        published=True,
        agreement=None,
        from_country=country("GB"),
        to_country=country("VE"),
        date=datetime.date(2025, 7, 1),
    )
    with pytest.raises(IntegrityError, match="transfer_onward_check"), transaction.atomic():
        wrong.continues.add(chain["first"])
        check_now()


def test_the_database_refuses_an_onward_transfer_dated_before_the_earlier_one(chain):
    early = TransferFactory(
        published=True,
        agreement=None,
        from_country=country("SV"),
        to_country=country("VE"),
        date=datetime.date(2025, 1, 1),
    )
    with pytest.raises(IntegrityError, match="transfer_onward_check"), transaction.atomic():
        early.continues.add(chain["first"])
        check_now()


def test_the_database_accepts_an_onward_transfer_dated_by_month(chain):
    # "March 2025" may be the same month as the flight of 15 March 2025.
    same_month = onward(
        [chain["first"]],
        to_country=country("NI"),
        date=datetime.date(2025, 3, 1),
        date_precision="month",
    )
    check_now()
    assert same_month.continues.get() == chain["first"]
