"""A reader and an editor, in a real browser: Playwright driving Debian's Chromium."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from agreements.models import AgreementEvent, CourtCase, CourtRuling

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = settings.BASE_DIR / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def countries(transactional_db):
    """The live server reads committed data, and each test ends with a flush that also removes
    the countries the migration loaded: load them again (flush re-runs post_migrate, which
    rebuilds permissions and the Editors group, but not data migrations)."""
    from agreements.countries import sync_countries
    from agreements.models import Country

    sync_countries(Country)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself are still plain synchronous code. Set only while these tests run.
    environment = pytest.MonkeyPatch()
    environment.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
    environment.undo()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_reader_finds_rwanda_agreements_from_the_home_page(live_server, seeded, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="All countries →").click()
    page.get_by_role("link", name="Rwanda", exact=True).click()
    assert page.url.endswith("/countries/rw/")
    hosted = page.locator(
        "section", has=page.get_by_role("heading", name="Agreements where Rwanda receives people")
    )
    hosted.get_by_role("link", name="United Kingdom - Rwanda", exact=False).first.click()
    assert "/agreements/uk-rw-2022/" in page.url
    assert page.get_by_role("heading", name="Timeline").is_visible()
    events = AgreementEvent.objects.filter(agreement__slug="uk-rw-2022").count()
    assert events >= 12  # every dated step of the seed's timeline, as many as the seed holds
    assert page.locator("ol.timeline > li").count() == events
    shot(page, "agreement-uk-rw-2022")


def test_reader_filters_the_list_and_shares_the_url(live_server, seeded, page):
    page.goto(live_server.url + "/agreements/")
    page.get_by_role("combobox", name="Receiving country").select_option(label="Rwanda")
    page.get_by_label("In force").check()
    page.get_by_role("button", name="Apply filters").click()
    assert "receiving_country=RW" in page.url and "status=in_force" in page.url
    rows = page.locator("table.records tbody tr")
    assert rows.count() == 1
    assert "United States - Rwanda" in rows.first.inner_text()
    # The same URL in a fresh page gives the same result.
    shared = page.url
    page.goto(shared)
    assert page.locator("table.records tbody tr").count() == 1
    shot(page, "agreements-filtered")


def test_bad_filter_shows_a_message_in_the_browser(live_server, seeded, page):
    page.goto(live_server.url + "/agreements/?country=ZZ&date_from=2025-13-01")
    assert page.get_by_role("alert").first.is_visible()
    assert "Select a valid choice" in page.content()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/agreements/",
        "/agreements/us-sv-2025/",
        "/countries/sv/",
        "/transfers/",
        "/cases/",
        "/cases/jgg-v-trump/",
    ],
)
def test_pages_fit_a_phone_screen(live_server, seeded, phone, path):
    phone.goto(live_server.url + path)
    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "phone" + path.replace("/", "_"))


def test_reader_goes_from_a_timeline_ruling_to_its_case_and_filters_cases(
    live_server, seeded, page
):
    page.goto(live_server.url + "/agreements/uk-rw-2022/")
    page.locator("ol.timeline").get_by_role(
        "link", name="R (AAA and others)", exact=False
    ).first.click()
    assert page.url.endswith("/cases/r-aaa-v-sshd/")
    assert page.get_by_text("[2023] UKSC 42").first.is_visible()
    rulings = CourtRuling.objects.filter(case__slug="r-aaa-v-sshd").count()
    assert page.locator("section:has(#rulings) ol.timeline > li").count() == rulings
    page.get_by_role("link", name="Court cases").first.click()
    page.get_by_role("combobox", name="Stage").select_option(label="Pending")
    page.get_by_role("button", name="Apply filters").click()
    assert "stage=pending" in page.url
    shown = page.locator("table.records tbody tr").count()
    assert shown == CourtCase.objects.filter(stage="pending").count() > 0
    shot(page, "cases-pending")


def test_editor_logs_in_and_sees_the_curated_models(live_server, editor, page):
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("edna")
    page.get_by_label("Password").fill("a-long-editor-password")
    page.get_by_role("button", name="Log in").click()
    for name in ("Agreements", "Transfers", "Sources", "Agreement events"):
        assert page.get_by_role("link", name=name, exact=True).first.is_visible()
    assert page.get_by_role("link", name="Users").count() == 0


def pick(page, select_id, text):
    """Choose text in a Django admin autocomplete (select2) widget."""
    page.locator(f"#{select_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").last.fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def messages_or_errors(page):
    """The admin's success message, or its form errors to explain a failure."""
    page.locator("ul.messagelist, .errornote").first.wait_for()
    if page.locator("ul.messagelist").count():
        return page.locator("ul.messagelist").inner_text()
    return str(page.locator(".errorlist").all_inner_texts())


def log_in(page, base, username, password):
    page.goto(base + "/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_editorial_workflow_from_draft_to_public(live_server, editor, publisher, browser):
    base = live_server.url

    # An editor adds a source, then an agreement with an event and a transfer citing it.
    editor_context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = editor_context.new_page()
    log_in(page, base, "edna", "a-long-editor-password")
    page.goto(base + "/admin/agreements/source/add/")
    page.locator("#id_url").fill("https://news.example.org/eswatini-deal")
    page.locator("#id_title").fill("Eswatini agrees to take deportees")
    page.locator("#id_publisher").fill("Example Wire")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "was added successfully" in page.locator("ul.messagelist").inner_text()

    page.goto(base + "/admin/agreements/agreement/add/")
    page.locator("#id_title").fill("Browser test deal with Eswatini")
    page.locator("#id_slug").fill("browser-test-deal")
    pick(page, "id_sending_country", "United States")
    pick(page, "id_receiving_country", "Eswatini")
    page.locator("#id_status").select_option("signed")
    page.locator("#id_signed_on").fill("2025-05-14")
    page.get_by_text("Add another Agreement event").click()
    page.locator("#id_events-0-date").fill("2025-05-14")
    page.locator("#id_events-0-kind").select_option("signed")
    page.locator("#id_events-0-description").fill("The two governments signed the agreement.")
    pick(page, "id_events-0-sources", "Eswatini agrees")
    page.get_by_text("Add another Transfer").click()
    page.locator("#id_transfers-0-date").fill("2025-07-15")
    pick(page, "id_transfers-0-from_country", "United States")
    pick(page, "id_transfers-0-to_country", "Eswatini")
    page.locator("#id_transfers-0-people").fill("5")
    pick(page, "id_transfers-0-sources", "Eswatini agrees")
    page.locator("#id_transfers-0-publication_state").select_option("in_review")
    # Editors cannot pick "Published".
    options = page.locator("#id_publication_state option").all_inner_texts()
    assert options == ["Draft", "In review"]
    page.locator("#id_publication_state").select_option("in_review")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "was added successfully" in messages_or_errors(page)
    shot(page, "editor-submitted")
    editor_context.close()

    # Not public yet.
    reader = browser.new_context().new_page()
    assert reader.goto(base + "/agreements/browser-test-deal/").status == 404

    # A publisher publishes the agreement and its transfer.
    publisher_context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = publisher_context.new_page()
    log_in(page, base, "pat", "a-long-publisher-password")
    page.goto(base + "/admin/agreements/agreement/?publication_state__exact=in_review")
    page.get_by_role("link", name="Browser test deal with Eswatini").click()
    page.locator("#id_publication_state").select_option("published")
    page.locator("#id_transfers-0-publication_state").select_option("published")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "was changed successfully" in messages_or_errors(page)
    publisher_context.close()

    # An anonymous reader finds it through the country page and the filtered list.
    reader.goto(base + "/countries/")
    reader.get_by_role("link", name="Eswatini", exact=True).click()
    reader.get_by_role("link", name="Browser test deal with Eswatini").first.click()
    assert reader.get_by_role("heading", name="Browser test deal with Eswatini").is_visible()
    assert "The two governments signed the agreement." in reader.content()
    assert "Eswatini agrees to take deportees" in reader.content()
    reader.goto(base + "/agreements/")
    reader.get_by_role("combobox", name="Receiving country").select_option(label="Eswatini")
    reader.get_by_label("Signed", exact=True).check()
    reader.get_by_role("button", name="Apply filters").click()
    assert (
        reader.locator("table.records tbody tr")
        .all_inner_texts()[0]
        .startswith("Browser test deal with Eswatini")
    )
    shot(reader, "reader-finds-published-deal")


AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}


def serious_violations(page):
    """Run axe-core (from npm) in the page; the serious and critical violations, described."""
    if not AXE.exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{AXE} is missing: run npm ci")
        pytest.skip("axe-core not installed (npm ci)")
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text())
    return page.evaluate(
        """async () => (await axe.run()).violations
            .filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')}`)"""
    )


@pytest.mark.parametrize("size", SIZES)
def test_reader_explores_map_facets_search_and_download(live_server, seeded, browser, size):
    context = browser.new_context(viewport=SIZES[size], accept_downloads=True)
    page = context.new_page()
    blocked = []  # anything the Content-Security-Policy refused on our pages
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and blocked.append(message.text),
    )

    def check(name):
        shot(page, f"explore-{size}-{name}")
        assert serious_violations(page) == [], name
        assert blocked == [], name

    page.goto(live_server.url + "/")
    check("home")
    page.locator('.world-map a[href="/countries/us/"]').click()
    assert page.url.endswith("/countries/us/")
    check("country")
    page.goto(live_server.url + "/agreements/")
    if size == "phone":  # the facets fold behind the "Filter" button there
        page.get_by_text("Filter", exact=True).click()
    page.locator(".facet", has_text="Status").get_by_role("link", name="In force").click()
    assert "status=in_force" in page.url
    expected = int(
        page.locator(".facet", has_text="Status").locator("li.selected .count").text_content()
    )
    assert page.locator("table.records tbody tr").count() == min(expected, 25)
    check("facet")
    page.locator("#site-search-q").fill("CECOT")
    page.locator("#site-search-q").press("Enter")
    assert page.get_by_role("heading", name="Agreements (1)").is_visible()
    assert page.locator("mark").first.is_visible()
    check("search")
    page.goto(live_server.url + "/transfers/?to_country=SV")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,url,agreement,date") and len(lines) == 3
    check("transfers")
    for path in ("/trends/", "/countries/", "/agreements/us-sv-2025/", "/changes/"):
        page.goto(live_server.url + path)
        check(path.strip("/").replace("/", "-"))
    context.close()


def test_proposed_revision_goes_public_only_after_review(live_server, editor, publisher, browser):
    """The acceptance scenario: an editor proposes an edit to a published agreement, the public
    page stays as it was, a publisher approves, and the page and the change log show it."""
    import re

    from django.urls import reverse
    from playwright.sync_api import expect

    from tests.factories import AgreementEventFactory, AgreementFactory, SourceFactory

    old = "Deportees are flown to a third country under a memorandum."
    new = "Deportees are flown to a third country; the memorandum was renewed for two years."
    source = SourceFactory(title="Third-country deal signed")
    agreement = AgreementFactory(
        published=True,
        title="Review scenario deal",
        slug="review-scenario-deal",
        summary=old,
        sources=[source],
    )
    AgreementEventFactory(agreement=agreement, sources=[source])
    base = live_server.url
    public_url = base + agreement.get_absolute_url()
    blocked = []  # anything the Content-Security-Policy refused, on any page of any context

    def open_page(**options):
        page = browser.new_context(viewport={"width": 1280, "height": 1000}, **options).new_page()
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and blocked.append(f"{page.url}: {message.text}")
            ),
        )
        return page

    def check(page, name):
        shot(page, f"review-{name}")
        assert blocked == [], name

    # An anonymous reader has the published page open (and in the page cache).
    reader = open_page()
    reader.goto(public_url)
    expect(reader.locator("p.summary")).to_have_text(old)

    # 1. The editor logs in through the admin's form and edits the summary.
    editing = open_page()
    editing.goto(base + "/admin/")
    editing.get_by_label("Username").fill("edna")
    editing.get_by_label("Password").fill("a-long-editor-password")
    editing.get_by_role("button", name="Log in").click()
    expect(editing).to_have_url(re.compile(r"/admin/$"))
    editing.goto(base + reverse("admin:agreements_agreement_change", args=[agreement.pk]))
    editing.locator("#id_summary").fill(new)
    editing.get_by_role("button", name="Save", exact=True).click()
    expect(editing.locator("ul.messagelist")).to_contain_text(
        re.compile(r"Your change was saved as proposed revision #\d+")
    )
    check(editing, "editor-proposed")
    editing.context.close()

    # 2. The public page is unchanged.
    reader.reload()
    expect(reader.locator("p.summary")).to_have_text(old)
    expect(reader.get_by_text(new)).to_have_count(0)
    check(reader, "public-unchanged")

    # 3. The publisher finds the proposal through the queue and approves it.
    deciding = open_page()
    log_in(deciding, base, "pat", "a-long-publisher-password")
    queue_link = deciding.locator("#review-queue-summary a")
    expect(queue_link).to_contain_text("1 proposed revision,")
    check(deciding, "admin-index")
    queue_link.click()
    expect(deciding).to_have_url(re.compile(re.escape(reverse("admin:agreements_review_queue"))))
    deciding.locator("#pending-proposals").get_by_role("link", name="Review scenario deal").click()
    expect(
        deciding.get_by_role("heading", name=re.compile(r"Proposed revision #\d+"))
    ).to_be_visible()
    summary_row = deciding.locator(".revision-diff tbody tr", has_text="Summary")
    expect(summary_row.locator("td.old")).to_have_text(old)
    expect(summary_row.locator("td.new")).to_have_text(new)
    check(deciding, "proposal")
    deciding.get_by_role("button", name="Approve").click()
    expect(deciding.locator("ul.messagelist")).to_contain_text(
        re.compile(r"Approved proposed revision #\d+ by edna: Review scenario deal now shows it\.")
    )
    check(deciding, "approved")
    deciding.context.close()

    # 4. The reader sees the new summary, and the change in the public change log.
    reader.reload()
    expect(reader.locator("p.summary")).to_have_text(new)
    check(reader, "public-updated")
    reader.goto(base + "/changes/")
    entry = (
        reader.locator("ol.changes > li")
        .filter(has=reader.get_by_role("link", name="Review scenario deal", exact=True))
        .filter(has_text="Updated")
    )
    expect(entry).to_have_count(1)
    expect(entry.locator("ul > li")).to_have_text(["Summary edited"])
    check(reader, "changes")
    reader.context.close()


def test_a_withdrawn_record_and_its_change_log_fit_a_phone_screen(live_server, phone):
    from django.utils import timezone

    from tests.factories import AgreementFactory

    agreement = AgreementFactory(
        published=True, title="Withdrawn deal with a long name " * 3, slug="gone-deal"
    )
    agreement.publication_state = "withdrawn"
    agreement.withdrawn_at = timezone.now()
    # A long unbroken word (a URL) is the usual way a reason would push a page sideways.
    agreement.withdrawal_reason = "Duplicate of https://example.org/" + "a" * 120 + " (merged)."
    agreement.save()
    for path in (agreement.get_absolute_url(), "/changes/", "/agreements/gone-deal/changes/"):
        phone.goto(live_server.url + path)
        assert "Duplicate of" in phone.content(), path
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
    shot(phone, "withdrawn-phone")


def test_a_moved_or_dead_source_fits_a_phone_screen(live_server, phone):
    from django.utils import timezone

    from agreements.models import LinkCheck
    from tests.factories import AgreementFactory, SourceFactory

    moved, dead = SourceFactory(), SourceFactory()
    agreement = AgreementFactory(published=True, slug="linked-deal", sources=[moved, dead])
    new_address = "https://news.example.org/" + "x" * 120  # no place to break a line
    LinkCheck.objects.create(
        source=moved, url=moved.url, status="moved", http_status=200, final_url=new_address,
        checked_at=timezone.now(),
    )  # fmt: skip
    LinkCheck.objects.create(
        source=dead, url=dead.url, status="dead", http_status=404, final_url=dead.url,
        error="HTTP 404 Not Found", checked_at=timezone.now(),
    )  # fmt: skip
    for path in (agreement.get_absolute_url(), "/sources/"):
        phone.goto(live_server.url + path)
        assert "moved: now at" in phone.content(), path
        assert "Dead link" in phone.content(), path
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path


def test_reader_follows_an_onward_removal_and_the_chain_fits_a_phone(live_server, browser):
    import datetime

    from tests.factories import AgreementFactory, TransferFactory, country

    deal = AgreementFactory(
        published=True, sending_country=country("US"), receiving_country=country("SV")
    )
    flight = TransferFactory(
        published=True, agreement=deal, date=datetime.date(2025, 3, 15), people=238
    )
    sent_on = TransferFactory(
        published=True,
        agreement=None,
        from_country=country("SV"),
        to_country=country("VE"),
        date=datetime.date(2025, 7, 18),
        people=252,
    )
    sent_on.continues.add(flight)
    reader = browser.new_page(viewport={"width": 1280, "height": 900})
    reader.goto(live_server.url + flight.get_absolute_url())
    chain = reader.locator("section[aria-labelledby=chain]")
    assert chain.locator(".chain-path a").all_inner_texts() == [
        "United States",
        "El Salvador",
        "Venezuela",
    ]
    chain.get_by_role("link", name="18 July 2025").click()
    reader.wait_for_url(live_server.url + sent_on.get_absolute_url())
    assert reader.locator("h1").inner_text() == "El Salvador → Venezuela, 18 July 2025"
    assert "(this transfer)" in reader.locator(".chain-current").inner_text()
    reader.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.goto(live_server.url + sent_on.get_absolute_url())
    assert phone.locator(".chain-steps li").count() == 2
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "onward-chain-phone")
    context.close()


def test_an_agreement_prints_as_a_document_with_its_sources_addresses(live_server, seeded, page):
    page.goto(live_server.url + "/agreements/uk-rw-2022/")
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert not page.locator("footer.site-footer").is_visible()
    after = page.evaluate(
        """() => {
            const link = document.querySelector('main a[href^="http"]');
            return getComputedStyle(link, '::after').content;
        }"""
    )
    assert "http" in after  # the address is printed after the link
    assert page.get_by_role("heading", name="Cite this page").is_visible()
