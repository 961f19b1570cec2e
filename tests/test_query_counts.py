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

# Queries per page for an anonymous reader, measured; the filter forms render one query per
# country <select> (and one for the agreement <select> on transfers).
BUDGETS = {
    "/": 9,  # counts, totals, recent, top countries, map roles (4) and names
    "/agreements/": 11,  # count, page, 5 facets (one grouped query each), 3 country selects, ...
    "/agreements/?country=US&status=in_force&status=signed": 12,  # + the chosen country
    "/agreements/slug/": 8,  # agreement, events, their sources, transfers, their nationalities, sources and figures, agreement sources
    "/countries/": 7,  # annotated countries, go-to form, map roles (4) and names
    "/countries/us/": 14,  # country, lists, totals, by year x2, nationalities, partners x2
    "/transfers/": 9,  # count, page, nationalities, figures, 4 country selects, agreement select
    "/transfers/?nationality=VE&to_country=SV": 11,  # + the two chosen countries
    "/transfers/pk/": 4,  # transfer with relations, nationalities, sources, figures with sources
    "/changes/": 12,  # count, page, then per record type: rows, versions, current records
    "/agreements/slug/changes/": 13,  # + the agreement
    "/changes/feed/": 11,
    "/sitemap.xml": 6,
    "/sources/": 2,  # count, page  # one count and one page per section (pages need none)
}


def build(n):
    us, sv = country("US"), country("SV")
    for _ in range(n):
        source = SourceFactory()
        agreement = AgreementFactory(sending_country=us, receiving_country=sv, sources=[source])
        for day in range(1, 4):
            AgreementEventFactory(
                agreement=agreement, date=datetime.date(2025, 1, day), sources=[source]
            )
        for _ in range(2):
            TransferFactory(
                agreement=agreement, nationalities=[country("VE"), country("SV")], sources=[source]
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
