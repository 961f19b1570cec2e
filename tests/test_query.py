"""Public pages see only the query parameters they read; the page cache keys on those alone."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import AgreementFactory
from tracker.query import declared_parameters

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreement():
    return AgreementFactory(published=True, title="Sample deal", slug="sample-deal")


def _public_patterns(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if "admin" in str(pattern.pattern):
                continue
            yield from _public_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name not in ("healthz", "readyz"):
            yield pattern


@pytest.mark.parametrize("pattern", list(_public_patterns()), ids=lambda p: p.name)
def test_every_public_page_declares_the_parameters_it_reads(pattern):
    class Match:
        func = pattern.callback
        kwargs = {"dataset": "transfers", **pattern.default_args}

    assert declared_parameters(Match()) is not None, pattern.name


@pytest.mark.parametrize("path", ["/agreements/", "/transfers/", "/cases/", "/sources/"])
def test_a_filtered_list_reads_every_field_its_form_sends_and_the_page(client, path):
    html = client.get(path).content.decode()
    form = html[html.index('<form class="filters"') :]
    sent = set(re.findall(r'\bname="([^"]+)"', form[: form.index("</form>")]))
    assert len(sent) >= 2, sent  # the form was found
    for name in sorted(sent | {"page"}):
        # What the page's own form submits reaches the view; a made-up parameter does not.
        seen = client.get(path, {name: "1", "utm_source": "mail"}).wsgi_request.GET
        assert list(seen) == [name], name


def test_made_up_parameters_share_the_pages_cache_entry(client, agreement):
    assert client.get("/agreements/").headers["X-Cache"] == "miss"
    for n in range(5):
        response = client.get(f"/agreements/?utm_source=mail{n}&fbclid={n}")
        assert response.headers["X-Cache"] == "hit"


def test_parameter_order_does_not_make_a_new_entry(client, agreement):
    client.get("/agreements/?status=in_force&kind=protocol")
    assert client.get("/agreements/?kind=protocol&status=in_force")["X-Cache"] == "hit"


def test_parameters_the_page_reads_still_make_their_own_entries(client, agreement):
    client.get("/agreements/")
    assert client.get("/agreements/?status=in_force")["X-Cache"] == "miss"


def test_the_page_never_sees_a_made_up_parameter(client, agreement):
    AgreementFactory(published=True)  # two rows: "all 2" unfiltered, "these 2" when filtered
    body = client.get("/agreements/?utm_campaign=spring-tracker").content.decode()
    assert "spring-tracker" not in body  # not in pagination, download or filter links
    assert "Download all" in body  # "these rows" would mean the page thought it was filtered


def test_the_api_keys_on_the_dataset_filters(client, agreement, settings):
    settings.RATELIMIT_ENABLED = False
    client.get("/api/agreements/?page_size=10")
    assert client.get("/api/agreements/?page_size=10&junk=1")["X-Cache"] == "hit"
    # "nationality" filters transfers, not agreements.
    assert client.get("/api/agreements/?page_size=10&nationality=SV")["X-Cache"] == "hit"
    assert client.get("/api/transfers/?nationality=SV")["X-Cache"] == "miss"


def test_next_links_of_the_api_drop_made_up_parameters(client, agreement, settings):
    settings.RATELIMIT_ENABLED = False
    AgreementFactory(published=True, slug="second-deal")
    body = client.get("/api/agreements/?page_size=1&tracking=abc").json()
    assert "tracking" not in body["next"]
    assert "page_size=1" in body["next"]


def test_a_flood_of_made_up_urls_adds_no_cache_entries(client, agreement):
    from django.core.cache import cache

    client.get("/")
    before = cache.size_in_bytes
    for n in range(200):
        assert client.get(f"/?utm={n}").status_code == 200
    assert cache.size_in_bytes == before


def test_the_sitemap_keeps_its_page_parameter(client, agreement):
    assert client.get("/sitemap-agreements.xml?p=1").status_code == 200
    assert client.get("/sitemap-agreements.xml?p=99").status_code == 404


@pytest.mark.parametrize("path", ["/", "/agreements/", "/api/agreements/", "/admin/login/"])
def test_too_many_query_parameters_get_a_400_even_in_development(path, settings):
    from django.test import Client

    settings.DEBUG = True  # Django's own debug error page fails on these with a 500
    client = Client(raise_request_exception=False)
    query = "&".join(f"p{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert b"Too many query parameters" in response.content


def test_the_most_query_parameters_allowed_still_work(client, settings):
    query = "&".join(f"p{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    assert client.get(f"/agreements/?{query}").status_code == 200
