"""No public page's query count grows with the number of rows.

Each page is rendered on a small and on a larger data set under the same query budget.
"""

import datetime

import pytest

from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    SourceFactory,
    TransferFactory,
    country,
)

pytestmark = pytest.mark.django_db

# Queries per page for an anonymous reader's first view after a change (nothing cached yet),
# measured. Every count includes one read of the content version (tracker/caching.py); the
# filter forms render one query per country <select> (and one for the agreement <select> on
# transfers) until their rendering is cached.
BUDGETS = {
    "/": 10,  # version, counts, totals, recent, top countries, map roles (4) and names
    "/agreements/": 11,  # version, count, page, 5 facets (one grouped query each), selects
    "/agreements/?country=US&status=in_force&status=signed": 12,  # + the chosen country
    "/agreements/slug/": 11,  # version, agreement, events, their sources, agreement sources, court cases, first transfers' ids and rows, their sources, transfer totals, onward removals' ids (their rows: one more when there are some)
    "/countries/": 8,  # version, annotated countries, go-to form, map roles (4) and names
    "/countries/us/": 20,  # version, country, last updated (for its citation), court cases, agreements x2, transfers x2 (ids and rows), agreement counts x2, totals x2, onward totals x2, by year x2, nationalities, partners x2
    "/transfers/": 10,  # version, count, page ids, their rows, published agreements, 4 country selects, agreement select
    "/transfers/?nationality=VE&to_country=SV": 12,  # + the two chosen countries
    "/transfers/pk/": 7,  # version, transfer with relations, nationalities, sources, figures with sources, its chain each way (one query per step, one when there is none)
    "/changes/": 12,  # version, count, page, then per record type: rows, versions, current records
    "/agreements/slug/changes/": 13,  # + the agreement
    "/changes/feed/": 11,
    "/sitemap.xml": 8,  # version, a count per section (pages need none), latest change x3
    "/sitemap-transfers.xml": 3,  # version, count, page
    "/sources/": 3,  # version, count, page
}


def build(n):
    us, sv = country("US"), country("SV")
    for _ in range(n):
        source = SourceFactory()
        agreement = AgreementFactory(
            published=True, sending_country=us, receiving_country=sv, sources=[source]
        )
        for day in range(1, 4):
            AgreementEventFactory(
                agreement=agreement, date=datetime.date(2025, 1, day), sources=[source]
            )
        for _ in range(2):
            TransferFactory(
                published=True,
                agreement=agreement,
                nationalities=[country("VE"), country("SV")],
                sources=[source],
            )
    return agreement


def url_for(template, agreement):
    transfer = agreement.transfers.first()
    return template.replace("slug", agreement.slug).replace("pk", str(transfer.pk))


@pytest.mark.parametrize("template", BUDGETS)
@pytest.mark.parametrize("size", [1, 12])
def test_query_count_is_flat(client, django_assert_max_num_queries, template, size):
    url = url_for(template, build(size))
    with django_assert_max_num_queries(BUDGETS[template]):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("template", BUDGETS)
def test_a_repeat_anonymous_view_costs_one_query(client, django_assert_num_queries, template):
    url = url_for(template, build(3))
    client.get(url)
    with django_assert_num_queries(1):  # the content version; the page comes from the cache
        response = client.get(url)
    assert response.status_code == 200


# With the page cache off, a page rendered again before the data changes reuses the counts,
# totals, facets, map colours and option lists computed for the first render.
WARM_BUDGETS = {
    "/": 2,  # version, recent agreements
    "/agreements/": 2,  # version, page
    "/agreements/?country=US&status=in_force&status=signed": 3,  # + the chosen country
    "/countries/": 1,  # version
    "/countries/us/": 8,  # version, country, agreement lists x2, transfer lists x2 (ids and rows)
    "/transfers/": 3,  # version, page ids, their rows
    "/transfers/?nationality=VE&to_country=SV": 5,  # + the two chosen countries
    "/sources/": 2,  # version, page
}


@pytest.mark.parametrize("template", WARM_BUDGETS)
def test_a_page_rendered_again_reuses_the_cached_figures(
    client, settings, django_assert_max_num_queries, template
):
    settings.PAGE_CACHE_SECONDS = 0
    url = url_for(template, build(3))
    client.get(url)
    with django_assert_max_num_queries(WARM_BUDGETS[template]):
        response = client.get(url)
    assert response.status_code == 200
