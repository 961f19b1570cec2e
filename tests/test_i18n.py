"""The public site in English, Spanish, French and Arabic (issue 13): addresses, the first-visit
choice, the switcher and alternates, language-aware formatting, record translations with their
English fallback, and what stays language-neutral."""

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from agreements import l10n
from agreements.dates import DatePrecision, format_partial_date
from agreements.models import Country
from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    CourtCaseFactory,
    SourceFactory,
    TransferFactory,
)

pytestmark = pytest.mark.django_db

OTHER_LANGUAGES = ["es", "fr", "ar"]
# The main menu's "Agreements" in each language: proof the page is in it.
AGREEMENTS_WORD = {"es": "Acuerdos", "fr": "Accords", "ar": "الاتفاقات"}


@pytest.fixture
def records(db):
    source = SourceFactory()
    agreement = AgreementFactory(
        published=True,
        title="US–El Salvador detention deal",
        slug="us-sv-test",
        sending_country=Country.objects.get(code="US"),
        receiving_country=Country.objects.get(code="SV"),
        summary="English summary.",
        sources=[source],
    )
    AgreementEventFactory(agreement=agreement, description="The parties signed.", sources=[source])
    transfer = TransferFactory(published=True, agreement=agreement, sources=[source])
    case = CourtCaseFactory(published=True, agreements=[agreement], sources=[source])
    return {"agreement": agreement, "transfer": transfer, "case": case}


def page_urls(records):
    """One address of every public page type, in English."""
    agreement, transfer, case = records["agreement"], records["transfer"], records["case"]
    return [
        reverse("home"),
        reverse("agreement-list"),
        agreement.get_absolute_url(),
        reverse("agreement-changes", args=[agreement.slug]),
        reverse("country-list"),
        reverse("country-detail", args=["sv"]),
        reverse("transfer-list"),
        transfer.get_absolute_url(),
        reverse("case-list"),
        case.get_absolute_url(),
        reverse("source-list"),
        reverse("change-log"),
        reverse("search") + "?q=salvador",
        reverse("trends"),
        reverse("about"),
        reverse("data"),
    ]


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_page_type_answers_in_every_language(client, records, language):
    for url in page_urls(records):
        response = client.get(f"/{language}{url}")
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}"' in html, url
        assert AGREEMENTS_WORD[language] in html, url


def test_english_pages_have_no_prefix(client, records):
    response = client.get(reverse("agreement-list"))
    assert response.status_code == 200
    assert reverse("agreement-list") == "/agreements/"
    assert '<html lang="en-gb" dir="ltr"' in response.content.decode()


def test_the_english_prefix_is_not_an_address(client, records):
    assert client.get("/en-gb/agreements/").status_code == 404


def test_arabic_pages_run_right_to_left(client, records):
    html = client.get("/ar/agreements/").content.decode()
    assert '<html lang="ar" dir="rtl"' in html


def test_reverse_gives_the_address_in_the_active_language(records):
    with translation.override("fr"):
        assert reverse("agreement-list") == "/fr/agreements/"
        assert records["agreement"].get_absolute_url() == "/fr/agreements/us-sv-test/"


# --- the first visit ----------------------------------------------------------------------------


def test_a_first_visit_follows_accept_language(client, records):
    response = client.get("/agreements/?status=in_force", HTTP_ACCEPT_LANGUAGE="es-SV,es;q=0.9")
    assert response.status_code == 302
    assert response["Location"] == "/es/agreements/?status=in_force"
    assert "Accept-Language" in response["Vary"]
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


def test_a_later_visit_keeps_the_address_whatever_the_browser_asks(client, records):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = client.get("/agreements/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    assert '<html lang="en-gb"' in response.content.decode()
    # The reader chose English: remembered.
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en-gb"


def test_a_first_visit_in_english_sets_no_cookie(client, records):
    response = client.get("/agreements/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_an_unsupported_browser_language_gets_english(client, records):
    response = client.get("/agreements/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert response.status_code == 200


def test_downloads_are_never_redirected_by_language(client, records):
    response = client.get("/agreements/export.csv", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_a_prefixed_address_is_remembered(client, records):
    response = client.get("/fr/agreements/")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_the_admin_stays_english_and_is_never_redirected(editor_client):
    response = editor_client.get("/" + settings.ADMIN_PATH, HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 200
    assert '<html lang="en-gb"' in response.content.decode()


# --- switcher and alternates ---------------------------------------------------------------------


def test_the_switcher_links_this_page_in_every_language(client, records):
    html = client.get("/es/agreements/?status=in_force").content.decode()
    switcher = re.search(r'<nav class="language-switcher".*?</nav>', html, re.S).group(0)
    assert 'href="/agreements/?status=in_force"' in switcher
    assert 'href="/fr/agreements/?status=in_force"' in switcher
    assert 'href="/ar/agreements/?status=in_force"' in switcher
    assert 'aria-current="true">Español' in switcher


def test_every_page_lists_its_alternates(client, records):
    html = client.get(records["agreement"].get_absolute_url()).content.decode()
    for code, prefix in (("es", "/es"), ("fr", "/fr"), ("ar", "/ar"), ("en-gb", "")):
        assert (
            f'<link rel="alternate" hreflang="{code}" '
            f'href="http://testserver{prefix}/agreements/us-sv-test/">'
        ) in html
    assert 'hreflang="x-default" href="http://testserver/agreements/us-sv-test/"' in html


def test_the_sitemap_lists_every_language_with_alternates(client, records):
    xml = client.get("/sitemap-agreements.xml").content.decode()
    for prefix in ("", "/es", "/fr", "/ar"):
        assert f"<loc>http://testserver{prefix}/agreements/us-sv-test/</loc>" in xml
    assert 'hreflang="ar" href="http://testserver/ar/agreements/us-sv-test/"' in xml
    assert 'hreflang="x-default"' in xml


# --- formatting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "day", "month"),
    [
        ("en-gb", "16 March 2025", "March 2025"),
        ("es", "16 de marzo de 2025", "marzo de 2025"),
        ("fr", "16 mars 2025", "mars 2025"),
        ("ar", "16 مارس 2025", "مارس 2025"),
    ],
)
def test_partial_dates_read_as_each_language_writes_them(language, day, month):
    date = datetime.date(2025, 3, 16)
    with translation.override(language):
        assert format_partial_date(date, DatePrecision.DAY) == day
        assert format_partial_date(date.replace(day=1), DatePrecision.MONTH) == month
        assert format_partial_date(date.replace(month=1, day=1), DatePrecision.YEAR) == "2025"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en-gb", "12,345"), ("es", "12.345"), ("fr", "12\u202f345"), ("ar", "12,345")],
)
def test_numbers_are_grouped_as_each_language_groups_them(language, expected):
    with translation.override(language):
        assert l10n.number(12345) == expected


@pytest.mark.parametrize(
    ("language", "name"),
    [
        ("en-gb", "United States"),
        ("es", "Estados Unidos"),
        ("fr", "États-Unis"),
        ("ar", "الولايات المتحدة"),
    ],
)
def test_country_names_come_from_cldr_in_each_language(language, name):
    united_states = Country.objects.get(code="US")
    with translation.override(language):
        assert united_states.local_name == name


def test_country_pages_show_names_in_the_language(client, records):
    html = client.get("/es/countries/sv/").content.decode()
    assert "Estados Unidos" in html


def test_memoized_figures_are_kept_per_language(client, records, settings):
    """The country menu is memoized: a Spanish page after an English one must not get the
    English names from the cache."""
    settings.DATA_CACHE = True
    client.get("/agreements/")
    assert "Estados Unidos" in client.get("/es/agreements/").content.decode()


def test_head_counts_are_worded_in_the_language(client, records):
    html = client.get(f"/es{records['transfer'].get_absolute_url()}").content.decode()
    assert "10 personas" in html


# --- record translations ------------------------------------------------------------------------


def test_a_translated_title_shows_in_its_language(client, records):
    agreement = records["agreement"]
    agreement.title_es = "Acuerdo de detención entre EE. UU. y El Salvador"
    agreement.save()
    html = client.get(f"/es{agreement.get_absolute_url()}").content.decode()
    assert "Acuerdo de detención entre EE. UU. y El Salvador" in html


def test_an_untranslated_text_shows_in_english_marked_as_english(client, records):
    agreement = records["agreement"]
    html = client.get(f"/fr{agreement.get_absolute_url()}").content.decode()
    assert '<span lang="en">English summary.</span>' in html
    assert '<span lang="en">The parties signed.</span>' in html


def test_english_pages_never_mark_their_own_texts(client, records):
    html = client.get(records["agreement"].get_absolute_url()).content.decode()
    assert '<span lang="en">' not in html


def test_a_blank_translation_falls_back_to_the_english(client, records):
    agreement = records["agreement"]
    agreement.summary_ar = "   "
    agreement.save()
    html = client.get(f"/ar{agreement.get_absolute_url()}").content.decode()
    assert '<span lang="en">English summary.</span>' in html


def test_translations_never_reach_exports(client, records):
    agreement = records["agreement"]
    agreement.title_es = "Título en español"
    agreement.save()
    response = client.get("/agreements/export.csv")
    csv = b"".join(response.streaming_content).decode()
    assert "US–El Salvador detention deal" in csv
    assert "Título en español" not in csv


def test_exports_keep_codes_whatever_the_reader_chose(client, records):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    data = client.get("/api/agreements/").json()
    row = next(row for row in data["results"] if row["slug"] == "us-sv-test")
    assert row["status"] == "in_force"


# --- drafts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_drafts_stay_out_of_every_language(client, records, language):
    AgreementFactory(
        title="Secret draft deal", title_es="Borrador secreto", publication_state="draft"
    )
    for url in ("/agreements/", "/countries/us/", "/", "/search/?q=secret"):
        html = client.get(f"/{language}{url}").content.decode()
        assert "Secret draft deal" not in html
        assert "Borrador secreto" not in html


# --- translations go through the same door ---------------------------------------------------


def test_an_editors_translation_of_a_published_record_is_a_proposal(editor_client, records):
    from tests.helpers import change_form, change_url

    agreement = records["agreement"]
    response = editor_client.post(
        change_url(agreement), change_form(agreement, title_es="Título propuesto")
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title_es == ""  # readers keep the approved version
    assert agreement.revisions.get().data["fields"]["title_es"] == "Título propuesto"


def test_a_translation_with_a_control_character_is_refused(publisher_client, records):
    from tests.helpers import change_form, change_url

    agreement = records["agreement"]
    response = publisher_client.post(
        change_url(agreement), change_form(agreement, summary_ar="نص\x07")
    )
    assert response.status_code == 200  # the form again, with its error
    agreement.refresh_from_db()
    assert agreement.summary_ar == ""


def test_the_admin_writes_arabic_boxes_right_to_left(publisher_client, records):
    from tests.helpers import change_url

    html = publisher_client.get(change_url(records["agreement"])).content.decode()
    box = re.search(r'<textarea[^>]*name="summary_ar"[^>]*>', html).group(0)
    assert 'dir="rtl"' in box and 'lang="ar"' in box


def test_a_published_translation_is_recorded_in_the_change_log(client, publisher_client, records):
    from tests.helpers import change_form, change_url

    agreement = records["agreement"]
    publisher_client.post(change_url(agreement), change_form(agreement, title_fr="Titre"))
    agreement.refresh_from_db()
    assert agreement.title_fr == "Titre"
    html = client.get("/fr/changes/").content.decode()
    assert "Titre (Français)" in html


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "location"),
    [
        # Django ignores a header it cannot parse as a whole: the page stays English.
        ("es;q=abc", None),
        ("ar-EG;q=0.9,\x00", None),
        ("x" * 2000, None),  # no language of ours
        ("*", None),  # any language: English, the default, will do
        ("zz-ZZ,es;q=0.1", "/es/agreements/"),  # the first language we have
    ],
)
def test_a_malformed_accept_language_never_fails(client, records, header, location):
    response = client.get("/agreements/", HTTP_ACCEPT_LANGUAGE=header)
    if location is None:
        assert response.status_code == 200
        assert '<html lang="en' in response.content.decode()
    else:
        assert response.status_code == 302
        assert response["Location"] == location


def test_a_made_up_language_cookie_is_replaced(client, records):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "<script>"
    response = client.get("/agreements/")
    assert response.status_code == 200
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en-gb"


@pytest.mark.parametrize("path", ["/de/agreements/", "/ES/agreements/", "/es-es/agreements/"])
def test_an_unknown_language_prefix_is_not_found(client, records, path):
    assert client.get(path).status_code == 404


def test_junk_query_strings_in_another_language_give_the_form_error(client, records):
    response = client.get("/ar/agreements/?year=%00&status=bogus")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in content
    with translation.override("ar"):
        notice = translation.gettext("Some filters could not be used; correct them to see results.")
    assert notice != "Some filters could not be used; correct them to see results."
    assert notice in content
    assert 'id="id_status-error"' in content and 'id="id_year-error"' in content


def test_a_page_number_that_is_no_page_is_not_found_in_another_language(client, records):
    assert client.get("/ar/agreements/?page=-1").status_code == 404
