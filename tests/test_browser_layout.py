"""Every kind of page on a 390 px phone and a 1280 px screen, in a real browser (issue 12): no
page scrolls sideways, each list's first result is on a phone's first screen, and the filters
fold behind a "Filter" button there. /api/ answers JSON, not a page, so it is not here.

With UPDATE_SCREENSHOTS=1 the phone and desktop screenshots of the home page, the agreement
list and an agreement page are written to docs/ (the README shows them)."""

import os

import pytest
from django.conf import settings

from agreements.models import Transfer
from tests.test_browser import browser, countries, shot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
LISTS = ["/agreements/", "/transfers/", "/cases/", "/sources/", "/countries/"]
PAGES = [
    "/", *LISTS, "/agreements/uk-rw-2022/", "/countries/sv/", "{transfer}", "/cases/jgg-v-trump/",
    "/search/?q=Rwanda", "/trends/", "/changes/", "/agreements/uk-rw-2022/changes/", "{withdrawn}",
    "/about/", "/data/",
]  # fmt: skip
# name in docs/ -> page
DOCS_SCREENSHOTS = {
    "home": "/",
    "agreements": "/agreements/",
    "agreement": "/agreements/us-sv-2025/",
}


def withdrawn_agreement_url():
    from django.utils import timezone

    from tests.factories import AgreementFactory

    agreement = AgreementFactory(published=True, title="A withdrawn deal", slug="withdrawn-deal")
    agreement.publication_state = "withdrawn"
    agreement.withdrawn_at = timezone.now()
    agreement.withdrawal_reason = "Entered twice; the record kept is us-sv-2025."
    agreement.save()
    return agreement.get_absolute_url()


@pytest.fixture
def screen(browser, request):  # noqa: F811 (the browser fixture)
    width, height = SIZES[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=request.param == "phone"
    )
    page = context.new_page()
    page.size = request.param
    yield page
    context.close()


@pytest.mark.parametrize("screen", SIZES, indirect=True)
def test_no_page_scrolls_sideways_and_lists_start_on_the_first_screen(live_server, seeded, screen):
    width, height = SIZES[screen.size]
    urls = {
        "{transfer}": Transfer.objects.published().order_by("id").first().get_absolute_url(),
        "{withdrawn}": withdrawn_agreement_url(),
    }
    overflowing, below_the_fold = {}, {}
    for path in PAGES:
        path = urls.get(path, path)
        screen.goto(live_server.url + path)
        scroll_width = screen.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            overflowing[path] = scroll_width
        if path in LISTS:
            top = screen.locator("table.records tbody tr").first.bounding_box()["y"]
            if top >= height:
                below_the_fold[path] = top
        shot(screen, f"layout-{screen.size}{path.replace('/', '_').replace('?', '_')}")
    assert overflowing == {}, f"pages wider than {width} px"
    # On a desktop the facets come first in the page and may be long: the fold is a phone's.
    if screen.size == "phone":
        assert below_the_fold == {}, "first result below a phone's first screen"

    if os.environ.get("UPDATE_SCREENSHOTS"):
        for name, path in DOCS_SCREENSHOTS.items():
            screen.goto(live_server.url + path)
            screen.screenshot(
                path=str(settings.BASE_DIR / "docs" / f"screenshot-{name}-{screen.size}.png")
            )


def test_a_reader_filters_on_a_phone_and_removes_a_filter_with_its_chip(live_server, browser):  # noqa: F811
    from tests.factories import AgreementFactory, country

    us = country("US")
    AgreementFactory(
        published=True,
        title="Rwanda deal in force",
        sending_country=us,
        receiving_country=country("RW"),
    )
    AgreementFactory(
        published=True,
        title="Rwanda deal signed",
        sending_country=us,
        receiving_country=country("RW"),
        status="signed",
    )
    AgreementFactory(
        published=True, title="Ghana deal", sending_country=us, receiving_country=country("GH")
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.goto(live_server.url + "/agreements/")
    form = phone.get_by_role("combobox", name="Receiving country")
    assert not form.is_visible()  # folded behind the button
    phone.get_by_text("Filter", exact=True).click()
    form.select_option(label="Rwanda")
    phone.get_by_label("In force").check()
    phone.get_by_role("button", name="Apply filters").click()
    # Only the fields filled in reach the address.
    assert phone.url == live_server.url + "/agreements/?receiving_country=RW&status=in_force"
    assert (
        phone.locator("table.records tbody tr")
        .all_inner_texts()[0]
        .startswith("Rwanda deal in force")
    )
    assert not form.is_visible()  # folded again, the chips say what is filtered
    chips = phone.locator(".chips .chip")
    assert chips.all_inner_texts() == ["Receiving country: Rwanda ×", "Status: In force ×"]
    shot(phone, "layout-phone-filtered")
    phone.get_by_role("link", name="Remove filter Status: In force").click()
    assert phone.url == live_server.url + "/agreements/?receiving_country=RW"
    assert phone.locator("table.records tbody tr").count() == 2
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_the_trends_timeline_is_drawn_for_the_screen_it_is_on(live_server, seeded, browser):  # noqa: F811
    for width, shown in ((390, "svg.gantt-narrow"), (1280, "svg.gantt:not(.gantt-narrow)")):
        context = browser.new_context(viewport={"width": width, "height": 844})
        page = context.new_page()
        page.goto(live_server.url + "/trends/")
        assert page.locator("svg.gantt:visible").count() == 1
        assert page.locator(shown).is_visible()
        # Its labels are as large as the page's small print, not shrunk with the drawing.
        label_height = page.locator(f"{shown} text.gantt-label").first.bounding_box()["height"]
        assert label_height >= 11, label_height
        context.close()
