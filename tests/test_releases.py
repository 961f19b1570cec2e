"""Dated data releases: `manage.py make_release` and /data/."""

import csv
import datetime
import hashlib
import io
import json
import zipfile

import pytest
import yaml
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from agreements import publishing
from agreements.models import DataRelease
from agreements.releases import TABLES, make_release
from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    CourtCaseFactory,
    CourtRulingFactory,
    SourceFactory,
    TransferFactory,
)

pytestmark = pytest.mark.django_db

SITE = "https://tracker.example.org"
DATA_FILES = {f"{table.name}.{fmt}" for table in TABLES for fmt in ("csv", "json")}
EVERY_FILE = DATA_FILES | {"datapackage.json", "README.md", "CITATION.cff", "SHA256SUMS"}


@pytest.fixture(autouse=True)
def releases_dir(settings, tmp_path):
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.SITE_URL = SITE
    return settings.RELEASES_DIR


@pytest.fixture
def records(db):
    """One published record of every table, and the unpublished ones that must stay out."""
    source = SourceFactory(url="https://news.example.org/deal")
    deal = AgreementFactory(published=True, slug="published-deal", sources=[source])
    AgreementEventFactory(agreement=deal, date=datetime.date(2019, 7, 26), sources=[source])
    TransferFactory(
        published=True, agreement=deal, date=datetime.date(2025, 3, 16), sources=[source]
    )
    case = CourtCaseFactory(published=True, slug="published-case", agreements=[deal])
    CourtRulingFactory(case=case, date=datetime.date(2026, 5, 2))
    draft = AgreementFactory(slug="draft-deal", publication_state="draft")
    AgreementEventFactory(agreement=draft, description="A draft's event.")
    TransferFactory(agreement=deal, publication_state="in_review", description="In review.")
    CourtCaseFactory(
        slug="withdrawn-case",
        publication_state="withdrawn",
        withdrawn_at=timezone.now(),
        withdrawal_reason="Duplicate.",
    )
    SourceFactory(url="https://news.example.org/cited-by-nothing-published")
    return deal


def _files(release):
    with zipfile.ZipFile(release.path) as archive:
        folder = f"transfer-tracker-{release.version}/"
        return {name.removeprefix(folder): archive.read(name) for name in archive.namelist()}


def _rows(release, table):
    return json.loads(_files(release)[f"{table}.json"])


# --- the command -----------------------------------------------------------------------------------


def test_the_command_builds_a_zip_with_every_file(records, releases_dir):
    call_command("make_release", stdout=io.StringIO())
    release = DataRelease.objects.get()
    assert release.version == timezone.localdate().isoformat()
    assert release.path == releases_dir / f"transfer-tracker-{release.version}.zip"
    assert set(_files(release)) == EVERY_FILE


def test_every_file_sits_in_one_folder_named_for_the_version(records):
    release = make_release()
    with zipfile.ZipFile(release.path) as archive:
        folders = {name.split("/")[0] for name in archive.namelist()}
    assert folders == {f"transfer-tracker-{release.version}"}


def test_the_datapackage_validates_with_frictionless(records, tmp_path):
    from frictionless import validate

    release = make_release()
    with zipfile.ZipFile(release.path) as archive:
        archive.extractall(tmp_path / "unzipped")
    descriptor = tmp_path / "unzipped" / f"transfer-tracker-{release.version}" / "datapackage.json"

    report = validate(str(descriptor))

    assert report.valid, report.flatten(["type", "note"])
    package = json.loads(descriptor.read_text())
    assert {resource["path"] for resource in package["resources"]} == DATA_FILES
    assert package["version"] == release.version
    assert package["licenses"][0]["name"] == "CC-BY-4.0"


def test_the_checksums_match_the_files(records):
    release = make_release()
    files = _files(release)
    listed = dict(reversed(line.split("  ")) for line in files["SHA256SUMS"].decode().splitlines())
    assert set(listed) == EVERY_FILE - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name


def test_the_release_records_the_zips_size_and_checksum(records):
    release = make_release()
    content = release.path.read_bytes()
    assert release.zip_size == len(content)
    assert release.sha256 == hashlib.sha256(content).hexdigest()


def test_the_release_records_its_counts_and_coverage(records):
    release = make_release()
    assert (release.agreement_count, release.event_count, release.transfer_count) == (1, 1, 1)
    assert (release.case_count, release.ruling_count) == (1, 1)
    assert release.source_count == 3  # the deal's and the case's and the ruling's
    assert release.country_count == 2
    assert (release.coverage_from, release.coverage_to) == ("2019-07-26", "2026-05-02")


def test_a_second_release_the_same_day_is_version_2_and_leaves_the_first_alone(records):
    first = make_release()
    content, modified = first.path.read_bytes(), first.path.stat().st_mtime_ns

    second = make_release()

    assert second.version == f"{first.version}.2"
    assert second.path != first.path
    assert first.path.read_bytes() == content
    assert first.path.stat().st_mtime_ns == modified
    assert make_release().version == f"{first.version}.3"


def test_a_file_already_on_disk_is_never_overwritten(records, releases_dir):
    releases_dir.mkdir(parents=True)
    today = timezone.localdate().isoformat()
    stray = releases_dir / f"transfer-tracker-{today}.zip"
    stray.write_bytes(b"made by an earlier database")

    release = make_release()

    assert release.version == f"{today}.2"
    assert stray.read_bytes() == b"made by an earlier database"


def test_a_release_file_is_read_only(records):
    release = make_release()
    assert release.path.stat().st_mode & 0o222 == 0


def test_drafts_records_in_review_and_withdrawn_records_are_absent(records):
    release = make_release()
    text = b"".join(_files(release).values()).decode()
    assert "published-deal" in text
    for hidden in ("draft-deal", "A draft's event.", "In review.", "withdrawn-case"):
        assert hidden not in text
    assert "cited-by-nothing-published" not in text
    assert [row["slug"] for row in _rows(release, "cases")] == ["published-case"]


def test_a_ruling_event_does_not_name_an_unpublished_case(records):
    hidden = CourtCaseFactory(slug="draft-case", publication_state="draft")
    AgreementEventFactory(agreement=records, kind="court_ruling", court_case=hidden)
    release = make_release()
    assert "draft-case" not in _files(release)["events.json"].decode()


def test_csv_files_have_a_header_row_and_a_sources_column(records):
    files = _files(make_release())
    for table in TABLES:
        rows = list(csv.reader(io.StringIO(files[f"{table.name}.csv"].decode("utf-8"))))
        assert rows[0] == [column.name for column in table.columns], table.name
        if table.name not in ("sources", "countries"):
            assert "sources" in rows[0], table.name
    agreements = list(csv.DictReader(io.StringIO(files["agreements.csv"].decode())))
    assert agreements[0]["sources"] == "https://news.example.org/deal"


def test_addresses_are_absolute_from_site_url(records):
    release = make_release()
    assert _rows(release, "agreements")[0]["url"] == f"{SITE}/agreements/published-deal/"
    assert _rows(release, "rulings")[0]["url"] == f"{SITE}/cases/published-case/#rulings"
    assert _rows(release, "sources")[0]["url"].startswith("https://news.example.org/")


def test_the_transfers_keep_the_continues_column(records):
    assert _rows(make_release(), "transfers")[0]["continues"] == []


def test_the_readme_gives_licence_coverage_and_how_to_cite(records):
    release = make_release()
    readme = _files(release)["README.md"].decode()
    assert "CC BY 4.0" in readme
    assert "https://creativecommons.org/licenses/by/4.0/" in readme
    assert "**2019-07-26**" in readme and "**2026-05-02**" in readme
    assert f"made on {timezone.localdate().isoformat()}" in readme
    assert "## How to cite" in readme
    assert f"{SITE}/data/releases/{release.version}.zip" in readme


def test_citation_cff_names_the_version_and_licence(records):
    release = make_release()
    citation = yaml.safe_load(_files(release)["CITATION.cff"])
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == release.version
    assert citation["license"] == "CC-BY-4.0"
    assert citation["type"] == "dataset"
    assert citation["authors"]


def test_the_first_release_has_no_change_summary(records):
    assert make_release().changes is None


def test_the_change_summary_counts_an_added_a_changed_and_a_withdrawn_record(records, publisher):
    changed, withdrawn = (
        AgreementFactory(published=True, slug="to-change"),
        AgreementFactory(published=True, slug="to-withdraw"),
    )
    first = make_release()

    AgreementFactory(published=True, slug="added")
    changed.title = "A new title"
    changed.save()
    publishing.withdraw(withdrawn, publisher, "Not a transfer agreement.")
    second = make_release()

    assert second.previous == first
    assert second.changes["agreements"] == {"added": 1, "changed": 1, "withdrawn": 1}
    assert second.changes["cases"] == {"added": 0, "changed": 0, "withdrawn": 0}
    assert ("agreements", 1, 1, 1) in second.change_rows()


def test_an_empty_table_compares_as_empty(db):
    AgreementFactory(published=True, slug="only-an-agreement")
    make_release()
    AgreementFactory(published=True, slug="another")
    release = make_release()
    assert release.changes["rulings"] == {"added": 0, "changed": 0, "withdrawn": 0}
    assert release.changes["agreements"]["added"] == 1


def test_nothing_changed_makes_an_empty_change_summary(records):
    make_release()
    assert make_release().change_rows() == []


def test_a_missing_previous_file_makes_the_changes_unknown_not_an_error(records):
    make_release().path.unlink()
    release = make_release()
    assert release.changes is None
    assert release.previous is not None


# --- the model -------------------------------------------------------------------------------------


def _release(**fields):
    return DataRelease(version="2026-12-01", zip_size=10, sha256="a" * 64, **fields)


def test_versions_are_unique():
    _release().save()
    with pytest.raises(IntegrityError):
        _release().save()


@pytest.mark.parametrize("field", ["agreement_count", "transfer_count", "country_count"])
def test_counts_cannot_be_negative(field):
    with pytest.raises(IntegrityError):
        _release(**{field: -1}).save()


@pytest.mark.parametrize("version", ["latest", "../x", "2026-12-01.zip", "2026-12-1"])
def test_a_version_is_a_date_with_an_optional_number(version):
    with pytest.raises(IntegrityError):
        DataRelease(version=version, zip_size=10, sha256="a" * 64).save()


# --- /data/ ----------------------------------------------------------------------------------------


def test_the_data_page_lists_releases_with_counts_size_checksum_and_changes(client, records):
    first = make_release()
    AgreementFactory(published=True, slug="added")
    second = make_release()

    body = client.get("/data/").content.decode()

    assert body.index(second.version) < body.index(f">{first.version}<")
    assert f'href="/data/releases/{first.version}.zip"' in body
    assert f'href="/data/releases/{second.version}.zip"' in body
    assert second.sha256 in body
    assert "agreements: 1 added, 0 changed, 0 withdrawn" in body
    assert "first release" in body
    assert 'href="/data/releases/latest.zip"' in body


def test_the_data_page_links_the_live_downloads_and_the_api(client):
    from agreements.api import DATASETS

    body = client.get("/data/").content.decode()
    for name in DATASETS:
        assert f'href="/{name}/export.csv"' in body
        assert f'href="/{name}/export.json"' in body
        assert f'href="/api/{name}/"' in body
    assert "No release has been made yet." in body


def test_the_data_page_renders_the_data_dictionary_from_the_schemas(client):
    body = client.get("/data/").content.decode()
    for table in TABLES:
        assert f'id="table-{table.name}"' in body
        for column in table.columns:
            assert f"<code>{column.name}</code>" in body, (table.name, column.name)
            for value in column.enum:
                assert f"<code>{value}</code>" in body


def test_a_new_release_is_on_the_cached_data_page_at_once(client, records):
    client.get("/data/")
    assert client.get("/data/")["X-Cache"] == "hit"
    release = make_release()
    response = client.get("/data/")
    assert response["X-Cache"] == "miss"
    assert release.sha256 in response.content.decode()


def test_a_release_is_served_at_its_stable_address(client, records):
    release = make_release()
    response = client.get(f"/data/releases/{release.version}.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f'filename="{release.file_name}"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == release.path.read_bytes()
    assert response["ETag"] == f'"{release.sha256}"'
    assert "immutable" in response["Cache-Control"]


def test_old_releases_stay_downloadable(client, records):
    first = make_release()
    make_release()
    response = client.get(f"/data/releases/{first.version}.zip")
    assert b"".join(response.streaming_content) == first.path.read_bytes()


def test_a_release_matching_its_etag_is_not_sent_again(client, records):
    release = make_release()
    response = client.get(
        f"/data/releases/{release.version}.zip", HTTP_IF_NONE_MATCH=f'"{release.sha256}"'
    )
    assert response.status_code == 304


def test_release_zips_are_not_copied_into_the_page_cache(client, records):
    from django.core.cache import cache

    release = make_release()
    before = cache.size_in_bytes
    for _ in range(2):
        b"".join(client.get(f"/data/releases/{release.version}.zip").streaming_content)
    assert cache.size_in_bytes == before


def test_latest_redirects_to_the_newest_release(client, records):
    make_release()
    newest = make_release()
    response = client.get("/data/releases/latest.zip")
    assert response.status_code == 302
    assert response["Location"] == f"/data/releases/{newest.version}.zip"


def test_latest_is_a_404_before_the_first_release(client):
    assert client.get("/data/releases/latest.zip").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/data/releases/1999-01-01.zip",
        "/data/releases/2026-12-01.9.zip",
        "/data/releases/..%2F..%2Fsettings.zip",
        "/data/releases/%2e%2e.zip",
        "/data/releases/.building-x.zip",
        "/data/releases/transfer-tracker-2026-12-01.zip",
    ],
)
def test_unknown_versions_are_a_404(client, records, path):
    make_release()
    assert client.get(path).status_code == 404


def test_a_recorded_release_whose_file_is_gone_is_a_404(client, records):
    release = make_release()
    release.path.unlink()
    assert client.get(f"/data/releases/{release.version}.zip").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["?page=-1", "?version=../../x", "?q=%00", "?a=" + "x" * 3000, "?%ff=%fe", "?page=1&page=2"],
)
def test_junk_query_strings_never_give_a_500(client, records, query):
    release = make_release()
    assert client.get(f"/data/{query}").status_code == 200
    assert client.get(f"/data/releases/{release.version}.zip{query}").status_code == 200
    assert client.get(f"/data/releases/latest.zip{query}").status_code == 302


def test_the_data_page_takes_few_queries(client, records, django_assert_max_num_queries):
    make_release()
    make_release()
    # The content version (page cache), then the releases with their previous ones.
    with django_assert_max_num_queries(3):
        assert client.get("/data/").status_code == 200


def test_the_footer_links_to_the_data_page(client):
    assert 'href="/data/">Data downloads and API</a>' in client.get("/").content.decode()
