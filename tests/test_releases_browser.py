"""A reader finds the data releases and downloads one, in a real browser (tests/test_browser.py
has the fixtures)."""

import hashlib
import zipfile
from pathlib import Path

import pytest

from agreements.releases import make_release
from tests import test_browser
from tests.test_browser import serious_violations, shot

# The fixtures of tests/test_browser.py (the Chromium, a phone-sized page, the countries).
browser, phone, countries = test_browser.browser, test_browser.phone, test_browser.countries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def release(settings, tmp_path, seeded):
    settings.RELEASES_DIR = tmp_path / "releases"
    return make_release()


def test_reader_downloads_the_latest_release_from_the_footer(live_server, release, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    blocked = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and blocked.append(message.text),
    )
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Data downloads and API").click()
    assert page.url.endswith("/data/")
    assert page.get_by_role("heading", name="Dated releases").is_visible()
    assert page.locator(f"#release-{release.version}").is_visible()
    assert page.get_by_role("heading", name="transfers", exact=True).is_visible()
    assert serious_violations(page) == []
    shot(page, "data-page")

    with page.expect_download() as download:
        page.get_by_role("link", name=release.version, exact=True).click()
    path = Path(download.value.path())
    assert download.value.suggested_filename == release.file_name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == release.sha256
    assert zipfile.ZipFile(path).testzip() is None
    assert blocked == []
    context.close()


def test_the_data_page_fits_a_phone_screen(live_server, release, phone):
    phone.goto(live_server.url + "/data/")
    # The release table and the dictionary scroll inside their own boxes.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "phone_data")
