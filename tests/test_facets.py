"""Facets: each option's count is the number of results that selecting it gives."""

import pytest
from django.http import QueryDict

from agreements.filters import AgreementFilter
from agreements.models import Agreement
from tests.factories import AgreementFactory

pytestmark = pytest.mark.django_db


def facets_for(query):
    filterset = AgreementFilter(
        QueryDict(query), queryset=Agreement.objects.published().with_first_date()
    )
    assert filterset.is_valid()
    return filterset.facets(limit=1000)


def results_for(query):
    filterset = AgreementFilter(
        QueryDict(query), queryset=Agreement.objects.published().with_first_date()
    )
    return filterset.qs.count()


@pytest.mark.parametrize(
    "base", ["", "receiving_country=RW", "sending_country=US&status=in_force", "year=2025"]
)
def test_every_facet_count_equals_the_results_of_selecting_it(seeded, base):
    checked = 0
    for facet in facets_for(base):
        for option in facet["options"]:
            if option["selected"]:
                continue
            query = QueryDict(base, mutable=True)
            if facet["multiple"]:
                # Selecting a second status widens the list: compare with that status alone.
                query.setlist(facet["name"], [option["value"]])
            else:
                query[facet["name"]] = option["value"]
            assert results_for(query.urlencode()) == option["count"], (facet["name"], option)
            checked += 1
    assert checked > 0


def test_facet_counts_never_include_drafts(db):
    AgreementFactory(published=True, status="signed")
    AgreementFactory(status="signed", publication_state="draft")
    AgreementFactory(status="denied", publication_state="in_review")
    status = next(f for f in facets_for("") if f["name"] == "status")
    assert [(o["value"], o["count"]) for o in status["options"]] == [("signed", 1)]


def test_list_page_shows_facets_with_links(client, seeded):
    content = client.get("/agreements/?receiving_country=RW").content.decode()
    assert 'href="?receiving_country=RW&amp;status=terminated"' in content
    assert "Refine" in content


def test_year_filter_refuses_absurd_years(client, db):
    for year in ("99999", "2025.5", "-1", "abc"):
        assert client.get(f"/agreements/?year={year}").status_code == 200
        assert not AgreementFilter({"year": year}, queryset=Agreement.objects.all()).is_valid()


def test_facets_show_on_the_unfiltered_list(client, seeded):
    content = client.get("/agreements/").content.decode()
    assert 'href="?status=in_force"' in content
