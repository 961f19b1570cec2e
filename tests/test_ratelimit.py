"""Search, downloads and the API are limited per client; ordinary pages are not."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

LOW = {"search": 3, "download": 2, "api": 3}


@pytest.fixture(autouse=True)
def low_limits(settings):
    settings.RATELIMITS = LOW


def test_searches_over_the_limit_get_a_429_with_a_clear_message(client):
    for _ in range(3):
        assert client.get("/search/?q=rwanda").status_code == 200
    refused = client.get("/search/?q=rwanda")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert b"Too many requests" in refused.content
    assert b"3 search requests a minute" in refused.content


def test_the_limit_counts_every_search_not_only_repeats(client):
    for word in ("a", "b", "c"):
        client.get(f"/search/?q={word}")
    assert client.get("/search/?q=d").status_code == 429


@pytest.mark.parametrize("path", ["/agreements/?q=deal", "/sources/?q=court"])
def test_a_lists_text_filter_counts_as_a_search(client, path):
    for _ in range(3):
        client.get(path)
    assert client.get(path).status_code == 429


def test_browsing_pages_is_not_limited(client):
    for _ in range(10):
        assert client.get("/agreements/?status=in_force").status_code == 200


def test_downloads_are_limited(client):
    for _ in range(2):
        assert client.get("/transfers/export.csv").status_code == 200
    assert client.get("/transfers/export.csv").status_code == 429


def test_the_api_answers_429_in_json(client):
    for _ in range(3):
        client.get("/api/agreements/")
    refused = client.get("/api/agreements/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert "Too many requests" in refused.json()["error"]


def test_allowed_responses_say_how_many_requests_remain(client):
    response = client.get("/api/agreements/")
    assert response["RateLimit-Limit"] == "3"
    assert response["RateLimit-Remaining"] == "2"


def test_limits_are_per_client():
    first = Client(REMOTE_ADDR="192.0.2.1")
    second = Client(REMOTE_ADDR="192.0.2.2")
    for _ in range(4):
        first.get("/search/?q=x")
    assert first.get("/search/?q=x").status_code == 429
    assert second.get("/search/?q=x").status_code == 200


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_our_proxy_the_address_it_appended_is_the_client():
    client = Client(REMOTE_ADDR="10.0.0.5")  # the proxy
    for n in range(3):
        # A scraper rotating a forged left-hand entry is still one client.
        client.get("/search/?q=x", headers={"X-Forwarded-For": f"203.0.113.{n}, 198.51.100.7"})
    refused = client.get("/search/?q=x", headers={"X-Forwarded-For": "198.51.100.7"})
    assert refused.status_code == 429
    other = client.get("/search/?q=x", headers={"X-Forwarded-For": "198.51.100.8"})
    assert other.status_code == 200


def test_without_a_trusted_proxy_forwarded_headers_are_ignored():
    client = Client(REMOTE_ADDR="192.0.2.9")
    for n in range(3):
        client.get("/search/?q=x", headers={"X-Forwarded-For": f"203.0.113.{n}"})
    assert client.get("/search/?q=x", headers={"X-Forwarded-For": "1.2.3.4"}).status_code == 429


@override_settings(RATELIMIT_ENABLED=False)
def test_limits_can_be_turned_off(client):
    for _ in range(5):
        assert client.get("/search/?q=x").status_code == 200


def test_a_cache_outage_lets_requests_through(client):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=unreachable):
        for _ in range(5):
            assert client.get("/search/?q=x").status_code == 200


def test_one_search_budget_whatever_endpoint_runs_the_search(client):
    client.get("/search/?q=rwanda")
    client.get("/agreements/?q=rwanda")
    client.get("/api/agreements/?q=rwanda")
    # The fourth search, now as a download: the search budget (3) is spent.
    refused = client.get("/agreements/export.csv?q=rwanda")
    assert refused.status_code == 429
    assert b"3 search requests a minute" in refused.content


def test_a_search_through_the_api_is_refused_in_json(client):
    for _ in range(3):
        client.get("/search/?q=x")
    refused = client.get("/api/agreements/?q=x")
    assert refused.status_code == 429
    assert "search" in refused.json()["error"]


def test_a_q_on_a_page_without_text_search_counts_against_nothing(client):
    for _ in range(10):
        assert client.get("/countries/?q=anything").status_code == 200
    assert client.get("/search/?q=x").status_code == 200


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_direct_request_cannot_rotate_its_forwarded_address(client):
    # The app port reached from outside our proxies' networks: the header is not believed.
    direct = Client(REMOTE_ADDR="198.51.100.20")
    for n in range(2):
        direct.get("/transfers/export.csv", headers={"X-Forwarded-For": f"203.0.113.{n}"})
    refused = direct.get("/transfers/export.csv", headers={"X-Forwarded-For": "203.0.113.99"})
    assert refused.status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_malformed_forwarded_address_falls_back_to_the_peer():
    client = Client(REMOTE_ADDR="10.0.0.5")
    for _ in range(3):
        client.get("/search/?q=x", headers={"X-Forwarded-For": "not-an-address"})
    assert client.get("/search/?q=x", headers={"X-Forwarded-For": "x" * 500}).status_code == 429
