"""The data dictionary in every language, the data files in English (issue 13).

The descriptions of the tables, columns and lists are translated for /es/data/, /fr/data/ and
/ar/data/, but the releases (datapackage.json, README.md), the API and its OpenAPI document, and
docs/DATA.md stay English, byte for byte, whatever language is active when they are built.

The Spanish, French and Arabic pages need the catalogues compiled (`manage.py
compile_translations`), as in test_i18n."""

import datetime
import io
import json
import zipfile

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import translation

from agreements import api, releases
from agreements.exports import AGREEMENT_COLUMNS, english
from tests.factories import AgreementFactory, SourceFactory, TransferFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 16, 12, 0, tzinfo=datetime.UTC)
CURRENCY = next(column for column in AGREEMENT_COLUMNS if column.name == "compensation_currency")
# compensation_currency's description, as /data/ shows it in each language.
CURRENCY_IN = {
    "es": "Moneda del importe (ISO 4217).",
    "fr": "Devise du montant (ISO 4217).",
    "ar": "عملة المبلغ (ISO 4217).",
}
AGREEMENTS_LIST_IN = {
    "es": "Acuerdos publicados.",
    "fr": "Accords publiés.",
    "ar": "الاتفاقات المنشورة.",
}


@pytest.fixture(autouse=True)
def releases_dir(settings, tmp_path):
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.SITE_URL = "https://tracker.example.org"


def _data_files(folder):
    folder.mkdir(parents=True)
    for table in releases.TABLES:
        for fmt in ("csv", "json"):
            (folder / f"{table.name}.{fmt}").write_text("x\n", encoding="utf-8")
    return folder


def _metadata(folder):
    """datapackage.json and README.md as a release writes them, for placeholder data files."""
    results = {table.name: releases.TableResult(count=2) for table in releases.TABLES}
    package = releases.datapackage(folder, "2025-03-16", NOW, ("2019-07", "2025-03-16"))
    readme = releases.readme("2025-03-16", NOW, results, ("2019-07", "2025-03-16"), None, None)
    return json.dumps(package, indent=2, ensure_ascii=False), readme


def test_the_descriptions_are_translated_lazily():
    with translation.override("es"):
        assert str(CURRENCY.description) == CURRENCY_IN["es"]
        assert english(CURRENCY.description) == "ISO 4217 currency of the amount."
    assert str(CURRENCY.description) == "ISO 4217 currency of the amount."


@pytest.mark.parametrize("language", ["es", "fr", "ar"])
def test_the_datapackage_and_readme_are_english_whatever_the_language(tmp_path, language):
    folder = _data_files(tmp_path / "files")
    english_package, english_readme = _metadata(folder)
    with translation.override(language):
        package, readme = _metadata(folder)
        schemas = [
            releases.table_schema(table, fmt)
            for table in releases.TABLES
            for fmt in ("csv", "json")
        ]
    assert package == english_package
    assert readme == english_readme
    assert schemas == [
        releases.table_schema(table, fmt) for table in releases.TABLES for fmt in ("csv", "json")
    ]
    assert '"description": "ISO 4217 currency of the amount."' in package
    assert CURRENCY_IN[language] not in package + readme


def test_a_release_made_in_spanish_is_english(tmp_path):
    AgreementFactory(published=True, slug="deal", sources=[SourceFactory()])
    TransferFactory(published=True)
    with translation.override("es"):
        release = releases.make_release(now=NOW)
    with zipfile.ZipFile(release.path) as archive:
        folder = releases.folder_name(release.version)
        package = json.loads(archive.read(f"{folder}/datapackage.json"))
        readme = archive.read(f"{folder}/README.md").decode()
        archive.extractall(tmp_path / "unzipped")
    # The same descriptors as the English ones, built from the same files.
    english_package = releases.datapackage(
        tmp_path / "unzipped" / folder,
        release.version,
        NOW,
        (release.coverage_from or None, release.coverage_to or None),
    )
    assert package == english_package
    assert (
        "| `agreements.csv`, `agreements.json` | Published transfer agreements and arrangements."
        in readme
    )
    assert CURRENCY_IN["es"] not in json.dumps(package, ensure_ascii=False) + readme


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_api_index_and_openapi_are_english_whatever_the_language(language):
    factory = RequestFactory()

    def documents():
        schema = api.openapi_schema(factory.get("/api/openapi.json")).content
        index = api.api_index(factory.get("/api/")).content
        return schema, index

    english_documents = documents()
    with translation.override(language):
        assert documents() == english_documents
    schema = json.loads(english_documents[0])
    currency = schema["components"]["schemas"]["agreements"]["properties"]["compensation_currency"]
    assert currency["description"] == "ISO 4217 currency of the amount."
    assert json.loads(english_documents[1])["lists"]["agreements"]["description"] == (
        "Published agreements."
    )


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_data_documentation_is_english_whatever_the_language(language):
    out = io.StringIO()
    with translation.override(language):
        call_command("data_schema", stdout=out)
    assert out.getvalue() == (settings.BASE_DIR / "docs" / "DATA.md").read_text()


@pytest.mark.parametrize("language", ["es", "fr", "ar"])
def test_the_data_page_shows_the_dictionary_in_its_language(client, language):
    body = client.get(f"/{language}/data/").content.decode()
    assert CURRENCY_IN[language] in body
    assert AGREEMENTS_LIST_IN[language] in body  # a list's description
    assert "ISO 4217 currency of the amount." not in body
    assert "<code>compensation_currency</code>" in body  # the names stay as they are


def test_the_english_data_page_shows_the_english_dictionary(client):
    body = client.get("/data/").content.decode()
    assert "ISO 4217 currency of the amount." in body
    assert "Countries with at least one published agreement or transfer, with their counts." in body
    assert CURRENCY_IN["es"] not in body
