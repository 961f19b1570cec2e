"""Anonymous public pages and downloads come from the cache until the data changes."""

import socket

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.http import http_date

from agreements.models import Agreement
from tests.factories import AgreementFactory
from tests.helpers import change_url, loaded_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreement():
    return AgreementFactory(published=True, title="Original title", slug="cached-deal")


def test_second_anonymous_view_is_served_from_the_cache(client, agreement):
    first = client.get("/agreements/")
    second = client.get("/agreements/")
    assert first["X-Cache"] == "miss"
    assert second["X-Cache"] == "hit"
    assert second.content == first.content


def test_a_cached_page_costs_one_query(client, agreement, django_assert_num_queries):
    client.get("/agreements/")
    with django_assert_num_queries(1):  # the content version
        client.get("/agreements/")


def test_an_edit_appears_on_the_next_request(client, agreement):
    assert b"Original title" in client.get("/agreements/").content
    agreement.title = "Corrected title"
    agreement.save()
    page = client.get("/agreements/")
    assert page["X-Cache"] == "miss"
    assert b"Corrected title" in page.content
    assert b"Original title" not in page.content


def test_an_edit_in_the_admin_appears_on_the_next_anonymous_request(
    client, publisher_client, agreement
):
    reader = Client()
    assert b"Original title" in reader.get(agreement.get_absolute_url()).content
    # Same form the admin posts; only the title changes.
    data = loaded_form(publisher_client, change_url(agreement))
    data["title"] = "Edited in the admin"
    publisher_client.post(change_url(agreement), data)
    agreement.refresh_from_db()
    assert agreement.title == "Edited in the admin"
    assert b"Edited in the admin" in reader.get(agreement.get_absolute_url()).content


def test_withdrawal_removes_the_cached_page_at_once(client, agreement):
    assert client.get(agreement.get_absolute_url()).status_code == 200
    agreement.publication_state = "withdrawn"
    agreement.withdrawn_at = timezone.now()
    agreement.withdrawal_reason = "Duplicate of another record."
    agreement.save()
    assert client.get(agreement.get_absolute_url()).status_code == 410  # its tombstone
    assert b"Original title" not in client.get("/agreements/").content


def test_a_deleted_record_leaves_no_cached_trace(client, agreement):
    assert b"Original title" in client.get("/agreements/export.csv").getvalue()
    Agreement.objects.filter(pk=agreement.pk).delete()
    assert b"Original title" not in client.get("/agreements/export.csv").getvalue()


def test_responses_carry_validators(client, agreement):
    response = client.get("/agreements/")
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"]
    assert "must-revalidate" in response["Cache-Control"]
    # Without a language prefix, a first visit may be redirected by Accept-Language.
    assert response["Vary"] == "Cookie, Accept-Language"
    assert client.get("/es/agreements/")["Vary"] == "Cookie"


def test_a_matching_etag_gets_a_304_without_rendering(client, agreement, django_assert_num_queries):
    etag = client.get("/agreements/")["ETag"]
    with django_assert_num_queries(1):
        response = client.get("/agreements/", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_stale_etag_gets_the_new_page(client, agreement):
    etag = client.get("/agreements/")["ETag"]
    agreement.title = "Changed since"
    agreement.save()
    response = client.get("/agreements/", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert b"Changed since" in response.content
    assert response["ETag"] != etag


def test_if_modified_since_the_last_change_gets_a_304(client, agreement):
    last_modified = client.get("/agreements/")["Last-Modified"]
    response = client.get("/agreements/", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304


def test_if_modified_since_before_the_last_change_gets_the_page(client, agreement):
    response = client.get("/agreements/", headers={"If-Modified-Since": http_date(0)})
    assert response.status_code == 200


def test_each_query_string_is_cached_separately(client, agreement):
    AgreementFactory(published=True, title="Another one", status="suspended")
    client.get("/agreements/?status=in_force")
    other = client.get("/agreements/?status=suspended")
    assert other["X-Cache"] == "miss"
    assert b"Another one" in other.content
    assert b"Original title" not in other.content


def test_downloads_are_cached(client, agreement):
    first = client.get("/agreements/export.csv")
    body = first.getvalue()
    assert body
    second = client.get("/agreements/export.csv")
    assert second["X-Cache"] == "hit"
    assert second.content == body
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Content-Disposition"] == first["Content-Disposition"]


@override_settings(PAGE_CACHE_MAX_BYTES=100)
def test_downloads_larger_than_the_limit_are_streamed_each_time(client, agreement):
    assert len(client.get("/agreements/export.csv").getvalue()) > 100
    assert client.get("/agreements/export.csv")["X-Cache"] == "miss"


def test_editors_are_never_served_cached_pages(editor_client, client, agreement):
    Client().get("/agreements/")  # an anonymous reader fills the cache
    response = editor_client.get("/agreements/")
    assert "X-Cache" not in response
    assert "ETag" not in response


def test_editors_pages_are_not_stored_for_readers(editor_client, agreement):
    agreement.publication_state = "draft"
    agreement.save()
    assert editor_client.get(agreement.get_absolute_url()).status_code == 200  # preview
    assert Client().get(agreement.get_absolute_url()).status_code == 404


def test_not_found_pages_are_not_cached(client):
    client.get("/agreements/no-such-deal/")
    assert "X-Cache" not in client.get("/agreements/no-such-deal/")


def test_health_endpoints_are_never_cached(client):
    client.get("/readyz")
    assert "X-Cache" not in client.get("/readyz")


@override_settings(PAGE_CACHE_SECONDS=0)
def test_the_cache_can_be_turned_off(client, agreement):
    client.get("/agreements/")
    assert "X-Cache" not in client.get("/agreements/")


def _redis_is_running():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
        "KEY_PREFIX": "tracker-tests",
    }
}


@pytest.mark.skipif(not _redis_is_running(), reason="no Redis server on 127.0.0.1:6379")
def test_pages_are_cached_in_redis_when_configured(client, agreement):
    with override_settings(CACHES=REDIS):
        caches["default"].clear()
        client.get("/agreements/")
        assert client.get("/agreements/")["X-Cache"] == "hit"
        agreement.title = "Seen through Redis"
        agreement.save()
        assert b"Seen through Redis" in client.get("/agreements/").content
        caches["default"].clear()


def test_pages_are_served_uncached_while_the_cache_server_is_down(client, agreement):
    unreachable = {
        "default": {
            **REDIS["default"],
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=unreachable):
        response = client.get("/agreements/")
    assert response.status_code == 200
    assert b"Original title" in response.content


def test_if_none_match_star_does_not_answer_for_a_missing_page(client):
    response = client.get("/agreements/no-such-deal/", headers={"If-None-Match": "*"})
    assert response.status_code == 404


def test_a_future_if_modified_since_does_not_answer_for_a_missing_page(client):
    future = http_date(timezone.now().timestamp() + 365 * 86400)
    response = client.get("/agreements/no-such-deal/", HTTP_IF_MODIFIED_SINCE=future)
    assert response.status_code == 404


def test_a_future_if_modified_since_is_ignored(client, agreement):
    client.get(agreement.get_absolute_url())  # cached
    future = http_date(timezone.now().timestamp() + 365 * 86400)
    response = client.get(agreement.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=future)
    assert response.status_code == 200


def test_a_matching_etag_on_an_uncached_page_gets_a_304_after_rendering(client, agreement):
    etag = client.get(agreement.get_absolute_url())["ETag"]
    caches["default"].clear()  # another worker, say, that has not rendered it yet
    response = client.get(agreement.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


def test_work_on_a_draft_does_not_change_the_public_validators(client, agreement):
    from tests.factories import AgreementEventFactory

    etag = client.get("/agreements/")["ETag"]
    draft = AgreementFactory(publication_state="draft", title="Secret work")
    draft.internal_notes = "Call the ministry"
    draft.save()
    AgreementEventFactory(agreement=draft)
    assert client.get("/agreements/")["ETag"] == etag


def test_returning_a_published_record_to_draft_makes_its_pages_stale(client, publisher, agreement):
    from agreements import publishing

    assert client.get(agreement.get_absolute_url()).status_code == 200  # now cached
    publishing.transition(agreement, publisher, "draft")
    assert client.get(agreement.get_absolute_url()).status_code == 404
    assert b"Original title" not in client.get("/agreements/").content


def test_a_made_up_session_cookie_does_not_get_past_the_cache(client, agreement):
    client.get("/agreements/")  # cached
    client.cookies["sessionid"] = "not-a-session-" + "x" * 30
    assert client.get("/agreements/")["X-Cache"] == "hit"


@pytest.mark.parametrize("kind", ["agreement", "transfer"])
def test_a_staff_preview_is_private(editor_client, kind):
    from tests.factories import TransferFactory

    record = (AgreementFactory if kind == "agreement" else TransferFactory)(
        publication_state="draft"
    )
    response = editor_client.get(record.get_absolute_url())
    assert response.status_code == 200
    assert {"private", "no-store"} <= {
        part.strip() for part in response["Cache-Control"].split(",")
    }
