"""The public site in Spanish, French and Arabic in a real browser (issue 13): every page type
fits a 390 px phone, says its language and direction, and passes axe-core; Arabic runs right to
left without mirroring the map or the digits; the language switcher keeps the page and its
filters and its choice sticks; record translations show, and untranslated texts are marked
English.

Some checks need the gettext catalogues compiled (`manage.py compile_translations`): without
them the pages are in their language's layout but with English words."""

import shutil

import pytest
import yaml
from django.conf import settings

from agreements.models import Transfer
from tests.test_browser import browser, countries, serious_violations, shot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["es", "fr", "ar"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PAGES = [
    "/", "/agreements/", "/agreements/us-sv-2025/", "/countries/", "/countries/sv/",
    "/transfers/", "{transfer}", "/cases/", "/cases/jgg-v-trump/", "/sources/",
    "/search/?q=Rwanda", "/trends/", "/about/", "/data/", "/changes/",
]  # fmt: skip
# The main menu's "Agreements" in each language (as in test_i18n): the page is in it.
AGREEMENTS_WORD = {"es": "Acuerdos", "fr": "Accords", "ar": "الاتفاقات"}

SEED = settings.BASE_DIR / "fixtures" / "seed"
# The part of the seed these pages need: the agreements with translations in translations.yaml
# and one without, two court cases and the onward transfers. The whole seed takes about 20 s to
# load, for each test; this part a few.
SEED_AGREEMENTS = {
    "us-sv-2025",
    "us-sv-2019",
    "uk-rw-2022",
    "us-rw-2025",
    "us-ly-2025",
    "uk-al-2025",
}
SEED_CASES = {"jgg-v-trump", "r-aaa-v-sshd"}
UNTRANSLATED = "uk-al-2025"
TRANSLATIONS = yaml.safe_load((SEED / "translations.yaml").read_text())["agreements"]


def _cited(data):
    """Every source key a seed record cites, at any depth."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "sources":
                yield from value
            elif key == "source":
                yield value
            else:
                yield from _cited(value)
    elif isinstance(data, list):
        for item in data:
            yield from _cited(item)


@pytest.fixture(scope="module")
def seed_part(tmp_path_factory):
    """fixtures/seed/ cut down to SEED_AGREEMENTS and SEED_CASES, the onward transfers that
    continue transfers of those agreements, their translations and the sources they cite."""
    part = tmp_path_factory.mktemp("seed")
    (part / "agreements").mkdir()
    (part / "cases").mkdir()
    records = []
    for slug in SEED_AGREEMENTS:
        path = SEED / "agreements" / f"{slug}.yaml"
        records.append(yaml.safe_load(path.read_text()))
        shutil.copy(path, part / "agreements")
    for slug in SEED_CASES:
        path = SEED / "cases" / f"{slug}.yaml"
        records.append(yaml.safe_load(path.read_text()))
        shutil.copy(path, part / "cases")
    onward = [
        transfer
        for transfer in yaml.safe_load((SEED / "onward.yaml").read_text())
        if {earlier["agreement"] for earlier in transfer["continues"]} <= SEED_AGREEMENTS
    ]
    records += onward
    (part / "onward.yaml").write_text(yaml.safe_dump(onward, allow_unicode=True))
    translations = yaml.safe_load((SEED / "translations.yaml").read_text())
    translations = {
        kind: {slug: texts for slug, texts in by_slug.items() if slug in SEED_AGREEMENTS}
        for kind, by_slug in translations.items()
    }
    (part / "translations.yaml").write_text(yaml.safe_dump(translations, allow_unicode=True))
    cited = set(_cited(records))
    sources = []
    for path in [SEED / "sources.yaml", *sorted((SEED / "sources").glob("*.yaml"))]:
        sources += [row for row in yaml.safe_load(path.read_text()) or [] if row["key"] in cited]
    (part / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True))
    return part


@pytest.fixture
def seeded_part(seed_part, countries):  # noqa: F811 (the countries fixture)
    from agreements.seed import load_seed

    return load_seed(seed_part)


def new_page(browser, viewport=DESKTOP, **options):  # noqa: F811 (the browser fixture)
    context = browser.new_context(viewport=viewport, **options)
    return context.new_page()


@pytest.fixture
def phone(browser):  # noqa: F811 (the browser fixture)
    page = new_page(browser, PHONE, is_mobile=True)
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser):  # noqa: F811 (the browser fixture)
    page = new_page(browser)
    yield page
    page.context.close()


# Geometry attributes of the SVG drawings: plain numbers whatever the language (a decimal comma
# from the template engine's localisation breaks the drawing).
SVG_NUMBERS = r"""() => {
    const names = ['viewBox', 'x', 'y', 'width', 'height', 'cx', 'cy', 'r', 'x1', 'x2', 'y1', 'y2'];
    const number = /^-?(\d+\.?\d*|\.\d+)(e-?\d+)?%?$/;
    const bad = [];
    for (const element of document.querySelectorAll('svg, svg *')) {
        for (const name of names) {
            const value = element.getAttribute(name);
            if (value !== null && !value.trim().split(/\s+/).every(v => number.test(v))) {
                bad.push(`<${element.tagName} ${name}="${value}">`);
            }
        }
    }
    return bad.slice(0, 3);
}"""
PAGE_STATE = """() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
})"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_fits_a_phone_in_its_language_and_passes_axe(
    live_server, seeded_part, phone, language
):
    transfer = Transfer.objects.published().filter(agreement__slug="us-sv-2025").first()
    urls = {"{transfer}": transfer.get_absolute_url()}
    problems = {}
    for path in PAGES:
        address = f"/{language}{urls.get(path, path)}"
        response = phone.goto(live_server.url + address)
        found = []
        if response.status != 200:
            found.append(f"HTTP {response.status}")
        if phone.url != live_server.url + address:
            found.append(f"redirected to {phone.url}")
        state = phone.evaluate(PAGE_STATE)
        if state["lang"] != language:
            found.append(f"lang={state['lang']!r}")
        if state["dir"] != ("rtl" if language == "ar" else "ltr"):
            found.append(f"dir={state['dir']!r}")
        if state["scrollWidth"] > min(state["innerWidth"], PHONE["width"]):
            found.append(f"{state['scrollWidth']} px wide in {state['innerWidth']} px")
        found += phone.evaluate(SVG_NUMBERS)
        found += serious_violations(phone)
        if found:
            problems[address] = found
            shot(phone, f"i18n-phone{address.replace('/', '_').replace('?', '_')}")
    assert problems == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_menu_is_in_the_language(live_server, phone, language):
    """Needs the compiled catalogues: without them the menu reads "Agreements" in every layout."""
    phone.goto(f"{live_server.url}/{language}/about/")
    menu = phone.locator("header.site-header nav ul a").first
    assert menu.inner_text() == AGREEMENTS_WORD[language]


def digits_in_order(page, selector, number):
    """Each `number` in the text under `selector`, as drawn: its first digit must be left of its
    last (a mirrored drawing puts it right). How many were checked, and the reversed ones."""
    return page.evaluate(
        """([selector, number]) => {
            let checked = 0;
            const reversed = [];
            for (const element of document.querySelectorAll(selector)) {
                const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    for (let at = node.data.indexOf(number); at >= 0;
                         at = node.data.indexOf(number, at + 1)) {
                        const box = (start) => {
                            const range = document.createRange();
                            range.setStart(node, start);
                            range.setEnd(node, start + 1);
                            return range.getBoundingClientRect();
                        };
                        const first = box(at), last = box(at + number.length - 1);
                        if (!first.width || !last.width) continue;  // not drawn
                        checked += 1;
                        if (first.left >= last.left) reversed.push(node.data.trim());
                    }
                }
            }
            return {checked, reversed};
        }""",
        [selector, number],
    )


def center(page, selector):
    box = page.locator(selector).first.bounding_box()
    return box["x"] + box["width"] / 2


def test_arabic_runs_right_to_left_without_mirroring_the_map_or_numbers(
    live_server, seeded_part, desktop
):
    from agreements.models import Agreement

    page, base = desktop, live_server.url
    page.goto(base + "/ar/")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    # The header starts at the right: the brand is nearer the right edge than the left.
    brand = page.locator("header.site-header a.brand").bounding_box()
    assert DESKTOP["width"] - (brand["x"] + brand["width"]) < brand["x"], brand

    # The world map is geography: not mirrored, the United States west of Rwanda.
    svg = page.locator(".world-map svg")
    assert svg.evaluate("svg => getComputedStyle(svg).transform") == "none"
    assert svg.get_attribute("transform") is None
    us = center(page, '.world-map a[href="/ar/countries/us/"]')
    rw = center(page, '.world-map a[href="/ar/countries/rw/"]')
    assert us < rw, (us, rw)
    shot(page, "i18n-ar-desktop-home")

    # Numbers keep their order in the text and as drawn.
    page.goto(base + "/ar/agreements/us-sv-2025/")
    summary = page.locator("p.summary").inner_text()
    assert "2025" in summary and "5202" not in summary
    years = digits_in_order(page, "main", "2025")
    assert years["checked"] > 0 and years["reversed"] == [], years

    # An arrow between two places points the way the line is read: turned in Arabic only, where
    # the first place is at the right.
    transfer = Transfer.objects.published().filter(agreement__slug="us-sv-2025").first()
    for language, transform in (("ar", "matrix(-1, 0, 0, 1, 0, 0)"), ("es", "none")):
        page.goto(f"{base}/{language}{transfer.get_absolute_url()}")
        arrow = page.locator("h1 .dir-arrow")
        assert arrow.evaluate("arrow => getComputedStyle(arrow).transform") == transform, language

    # So does a change "old → new", whatever the language of the values (English here): the old
    # value at the right.
    agreement = Agreement.objects.get(slug=UNTRANSLATED)
    old_title, agreement.title = agreement.title, "UK - Albania"
    agreement.save()
    page.goto(base + "/ar/changes/")
    change = page.locator("ol.changes li li", has=page.locator("del", has_text=old_title)).first
    old, new = (
        change.locator(tag).evaluate("e => [...e.getClientRects()].map(r => r.x + r.width / 2)")
        for tag in ("del", "ins")
    )
    assert old[-1] > new[0], (old, new)  # where the one ends and the other starts
    shot(page, "i18n-ar-desktop-changes")

    # The timeline is drawn from the right; its year labels are turned back to read normally.
    page.goto(base + "/ar/trends/")
    years = digits_in_order(page, "svg.gantt:not(.gantt-narrow) .gantt-year", "20")
    shot(page, "i18n-ar-desktop-trends")
    assert years["checked"] > 0 and years["reversed"] == [], years


def test_the_switcher_keeps_the_page_and_filters_and_the_choice_sticks(live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    from tests.factories import AgreementFactory

    AgreementFactory(published=True, title="A deal in force", status="in_force")
    AgreementFactory(published=True, title="A deal only signed", status="signed")
    base = live_server.url
    # A browser set to Spanish: Playwright sends Accept-Language from the locale.
    page = new_page(browser, locale="es-ES")
    page.goto(base + "/es/agreements/?status=in_force")
    switcher = page.locator("nav.language-switcher")
    expect(switcher.locator('[aria-current="true"]')).to_have_text("Español")
    switcher.get_by_role("link", name="Français").click()
    expect(page).to_have_url(base + "/fr/agreements/?status=in_force")
    assert page.locator("html").get_attribute("lang") == "fr"
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("A deal in force")
    page.locator("nav.language-switcher").get_by_role("link", name="English").click()
    expect(page).to_have_url(base + "/agreements/?status=in_force")
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    # English was chosen: the home page stays English although the browser asks for Spanish.
    page.goto(base + "/")
    expect(page).to_have_url(base + "/")
    assert page.locator("html").get_attribute("lang") == settings.LANGUAGE_CODE
    page.context.close()

    # A first visit from a browser set to Spanish, with no cookie, is sent to Spanish.
    first_visit = new_page(browser, locale="es-ES")
    first_visit.goto(base + "/")
    expect(first_visit).to_have_url(base + "/es/")
    assert first_visit.locator("html").get_attribute("lang") == "es"
    first_visit.context.close()


def test_record_translations_show_and_untranslated_texts_are_marked_english(
    live_server, seeded_part, desktop
):
    from agreements.models import Agreement

    page = desktop
    untranslated = Agreement.objects.get(slug=UNTRANSLATED)
    for language in LANGUAGES:
        page.goto(f"{live_server.url}/{language}/agreements/us-sv-2025/")
        title = TRANSLATIONS["us-sv-2025"][language]["title"]
        assert page.locator("h1").inner_text() == title, language
        assert page.title().startswith(title), language
        assert page.locator("h1 [lang]").count() == 0, language  # in the page's language

        page.goto(f"{live_server.url}/{language}{untranslated.get_absolute_url()}")
        assert page.locator("h1").inner_text() == untranslated.title, language
        # The English title is marked as such (screen readers switch voice): the nearest lang
        # attribute around its text says "en".
        lang = page.locator("h1").evaluate(
            """h1 => {
                const text = document.createTreeWalker(h1, NodeFilter.SHOW_TEXT).nextNode();
                return text.parentElement.closest('[lang]').getAttribute('lang');
            }"""
        )
        assert lang == "en", language
