"""The figures behind the public pages are cached per change of the data (tracker.caching
.cached_per_version): the key is the function and its arguments, never a name chosen by hand."""

import datetime

import pytest
from django.template import engines

from agreements.models import Agreement, Transfer
from tests.factories import AgreementFactory, TransferFactory, country
from tracker.caching import bump_content_version, cached_per_version

pytestmark = pytest.mark.django_db

calls = []


@cached_per_version
def counted(*args):
    """Records each computation, so a test can tell a cached answer from a new one."""
    calls.append(args)
    return len(calls)


@pytest.fixture(autouse=True)
def no_calls():
    calls.clear()


def test_the_same_arguments_are_computed_once():
    assert counted("RW", 1) == counted("RW", 1) == 1
    assert calls == [("RW", 1)]


def test_each_argument_is_part_of_the_key():
    counted("RW", 1)
    counted("RW", 2)
    counted("SV", 1)
    assert calls == [("RW", 1), ("RW", 2), ("SV", 1)]


def test_arguments_of_different_types_do_not_share_a_key():
    counted(1)
    counted("1")
    counted(datetime.date(2025, 1, 1))
    counted("2025-01-01")
    assert len(calls) == 4


def test_two_functions_with_the_same_arguments_do_not_share_a_key():
    @cached_per_version
    def other(code):
        return f"other {code}"

    assert counted("RW") == 1
    assert other("RW") == "other RW"


def test_a_change_of_the_data_recomputes():
    counted("RW")
    bump_content_version()
    counted("RW")
    assert calls == [("RW",), ("RW",)]


def test_each_language_has_its_own_value():
    from django.utils import translation

    counted("RW")
    with translation.override("es"):
        counted("RW")
    assert len(calls) == 2


def test_a_record_cannot_be_an_argument():
    """A model instance's text does not say all it holds (an edited, unsaved title, say): the
    caller passes its key instead."""
    with pytest.raises(TypeError, match="cannot be part of a cache key"):
        counted(country("RW"))


def test_querysets_are_keyed_by_their_sql():
    @cached_per_version
    def count_of(queryset):
        return queryset.count()

    AgreementFactory(published=True)
    AgreementFactory(publication_state="draft")
    assert count_of(Agreement.objects.all()) == 2
    assert count_of(Agreement.objects.published()) == 1


def test_a_queryset_that_matches_nothing_is_computed_uncached():
    @cached_per_version
    def count_of(queryset):
        calls.append("count")
        return queryset.count()

    assert count_of(Agreement.objects.filter(pk__in=[])) == 0
    assert count_of(Agreement.objects.filter(pk__in=[])) == 0
    assert calls == ["count", "count"]


def test_nothing_is_cached_when_the_data_cache_is_off(settings):
    settings.DATA_CACHE = False
    counted("RW")
    counted("RW")
    assert len(calls) == 2


# --- on the pages -------------------------------------------------------------------------------


def test_each_countrys_page_has_its_own_figures(client):
    """The country figures were once keyed by hand on the code only; now on the country."""
    for origin, destination, people in (("US", "SV", 7), ("GB", "RW", 4)):
        TransferFactory(
            published=True,
            agreement=None,
            from_country=country(origin),
            to_country=country(destination),
            people=people,
        )
    salvador = client.get("/countries/sv/").context["totals_in"]
    rwanda = client.get("/countries/rw/").context["totals_in"]
    assert (salvador["people_total"], rwanda["people_total"]) == (7, 4)


def test_a_staff_preview_and_the_public_page_do_not_share_transfer_totals(client, editor):
    """A draft transfer counts in the preview an editor sees and not on the public page, in
    whichever order they are asked."""
    agreement = AgreementFactory(published=True)
    TransferFactory(published=True, agreement=agreement, people=10)
    TransferFactory(agreement=agreement, people=5, publication_state="draft")
    client.force_login(editor)
    preview = client.get(agreement.get_absolute_url()).context["transfer_totals"]
    client.logout()
    public = client.get(agreement.get_absolute_url()).context["transfer_totals"]
    assert (preview["people_total"], public["people_total"]) == (15, 10)
    assert Transfer.objects.filter(agreement=agreement).count() == 2


def test_two_memoized_blocks_with_the_same_keys_do_not_share_html():
    """{% memoized %} keys on the block's place in its template as well as on its keys."""
    template = engines["django"].from_string(
        "{% load tracker %}{% memoized key %}first {{ a }}{% endmemoized %}"
        "|{% memoized key %}second {{ b }}{% endmemoized %}"
    )
    assert template.render({"key": "k", "a": 1, "b": 2}) == "first 1|second 2"


def test_facets_are_kept_per_base_queryset_and_parameters():
    """The facets key on the FilterSet's class, base queryset and parameters (its cache_key)."""
    from django.http import QueryDict

    from agreements.filters import AgreementFilter

    AgreementFactory(published=True, status="in_force")
    AgreementFactory(status="in_force")
    AgreementFactory(status="signed")

    def status_counts(queryset, query=""):
        filterset = AgreementFilter(QueryDict(query), queryset=queryset.with_first_date())
        assert filterset.is_valid()
        (status,) = [facet for facet in filterset.facets() if facet["name"] == "status"]
        return {option["value"]: option["count"] for option in status["options"]}

    assert status_counts(Agreement.objects.published()) == {"in_force": 1}
    assert status_counts(Agreement.objects.all()) == {"in_force": 2, "signed": 1}
    assert status_counts(Agreement.objects.all(), "kind=formal_agreement") == {}
