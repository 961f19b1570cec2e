import pycountry
import pytest

from agreements.models import Country

pytestmark = pytest.mark.django_db


def test_every_iso_country_is_loaded_plus_kosovo_and_the_eu():
    assert Country.objects.count() == len(pycountry.countries) + 2
    assert Country.objects.filter(code="XK", name="Kosovo", is_state=True).exists()


def test_the_eu_is_a_bloc_not_a_state():
    eu = Country.objects.get(code="EU")
    assert eu.name == "European Union"
    assert eu.is_state is False


def test_every_country_has_a_region_and_a_slug():
    assert not Country.objects.filter(region="").exists()
    assert Country.objects.get(code="SV").region == "north_america"
    assert Country.objects.get(code="RW").region == "africa"


def test_common_names_are_preferred_over_formal_ones():
    assert Country.objects.get(code="VE").name == "Venezuela"


def test_country_url_uses_the_lower_case_code():
    assert Country.objects.get(code="SV").get_absolute_url() == "/countries/sv/"
