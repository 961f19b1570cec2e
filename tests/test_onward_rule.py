"""The onward-removal rule through the one door: the form explains it, the database holds it,
and the door turns the database's refusal into a message that saves nothing."""

import datetime

import pytest

from agreements import publishing, revisions
from agreements.models import Transfer
from tests.factories import SourceFactory, TransferFactory, country
from tests.helpers import change_url, loaded_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_leg():
    """United States → El Salvador, 15 March 2025."""
    return TransferFactory(
        published=True,
        agreement=None,
        from_country=country("US"),
        to_country=country("SV"),
        date=datetime.date(2025, 3, 15),
        sources=[SourceFactory()],
    )


def onward(**fields):
    values = {
        "published": True,
        "agreement": None,
        "from_country": country("SV"),
        "to_country": country("RW"),
        "date": datetime.date(2025, 7, 18),
        "sources": [SourceFactory()],
    }
    return TransferFactory(**(values | fields))


def save_continues(transfer, earlier, user, **fields):
    """Change transfer through the door, as the admin, the import and a restore do."""
    data = revisions.snapshot(transfer)
    data["fields"].update(fields)
    data["continues"] = [t.pk for t in earlier]
    return publishing.edit(
        transfer,
        user,
        loaded_version=transfer.version,
        proposed=lambda: data,
        write=lambda: revisions.write(transfer, data),
    )


def test_an_onward_transfer_from_where_the_first_ended_is_kept(first_leg, publisher):
    later = onward()
    save_continues(later, [first_leg], publisher)
    assert list(later.continues.all()) == [first_leg]
    assert later.chain_before() == [first_leg]
    assert first_leg.chain_after() == [later]


def test_the_door_refuses_an_onward_transfer_from_another_country(first_leg, publisher):
    later = onward(from_country=country("GH"))
    with pytest.raises(publishing.Refused, match="must start in the country"):
        save_continues(later, [first_leg], publisher)
    assert not later.continues.exists()


def test_the_door_refuses_an_onward_transfer_dated_before_the_first(first_leg, publisher):
    later = onward(date=datetime.date(2025, 3, 1))
    with pytest.raises(publishing.Refused, match="cannot be dated before"):
        save_continues(later, [first_leg], publisher)
    assert not later.continues.exists()


def test_a_month_precision_onward_transfer_may_continue_one_in_the_same_month(first_leg, publisher):
    later = onward(date=datetime.date(2025, 3, 1), date_precision="month")
    save_continues(later, [first_leg], publisher)
    assert later.continues.exists()


def test_moving_the_first_transfer_elsewhere_afterwards_is_refused(first_leg, publisher):
    later = onward()
    save_continues(later, [first_leg], publisher)
    first_leg.refresh_from_db()
    data = revisions.snapshot(first_leg)
    data["fields"]["to_country_id"] = country("GH").pk
    with pytest.raises(publishing.Refused):
        publishing.edit(
            first_leg,
            publisher,
            loaded_version=first_leg.version,
            proposed=lambda: data,
            write=lambda: revisions.write(first_leg, data),
        )
    first_leg.refresh_from_db()
    assert first_leg.to_country == country("SV")


def test_the_admin_form_explains_the_rule_before_saving(first_leg, publisher_client):
    later = onward(from_country=country("GH"))
    data = loaded_form(publisher_client, change_url(later))
    data["continues"] = [str(first_leg.pk)]
    response = publisher_client.post(change_url(later), data)
    assert response.status_code == 200
    assert "ended in El Salvador, so it must start there" in response.content.decode()
    assert not later.continues.exists()


def test_the_admin_form_refuses_a_loop(first_leg, publisher_client, publisher):
    later = onward()
    save_continues(later, [first_leg], publisher)
    back = Transfer.objects.get(pk=first_leg.pk)
    data = loaded_form(publisher_client, change_url(back))
    data["continues"] = [str(later.pk)]
    data["from_country"] = str(country("RW").pk)
    data["date"] = "2025-08-01"
    response = publisher_client.post(change_url(back), data)
    assert "that would be a loop" in response.content.decode()
    assert not back.continues.exists()


def test_an_editors_onward_link_on_a_published_transfer_waits_for_review(first_leg, editor):
    later = onward()
    proposal = save_continues(later, [first_leg], editor)
    assert proposal is not None and proposal.data["continues"] == [first_leg.pk]
    assert not later.continues.exists()
