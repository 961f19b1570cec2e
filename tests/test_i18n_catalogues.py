"""The gettext catalogues: one per language, holding a checked translation of every string the
code and templates mark, compiling without errors."""

import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command

from agreements.translations import translation_languages

LOCALE = settings.BASE_DIR / "locale"
# What `make translations` extracts from (the Makefile's list): not the editors' admin, tests or
# scripts.
IGNORED = [".venv/*", "node_modules/*", ".data/*", "templates/admin/*", "tests/*", "scripts/*"]


def catalogue_path(root: Path, language: str) -> Path:
    return root / language / "LC_MESSAGES" / "django.po"


def read(path: Path, language: str):
    with path.open("rb") as file:
        return read_po(file, locale=language)


def untranslated(catalogue) -> list[str]:
    """The msgids of `catalogue` with no translation, or only a fuzzy (unchecked) one."""
    missing = []
    for message in catalogue:
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def keys(catalogue) -> set:
    return {(message.context, message.id) for message in catalogue if message.id}


@pytest.mark.parametrize("language", translation_languages())
def test_every_language_has_a_catalogue(language):
    assert catalogue_path(LOCALE, language).exists()


@pytest.mark.parametrize("language", translation_languages())
def test_every_catalogue_entry_is_translated(language):
    catalogue = read(catalogue_path(LOCALE, language), language)
    assert untranslated(catalogue) == []


@pytest.mark.parametrize("language", translation_languages())
def test_every_translation_keeps_its_placeholders(language):
    catalogue = read(catalogue_path(LOCALE, language), language)
    problems = [(message.id, errors) for message, errors in catalogue.check()]
    assert problems == []


def test_arabic_has_its_six_plural_forms():
    assert read(catalogue_path(LOCALE, "ar"), "ar").num_plurals == 6


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogues as `make translations` would write them from the code as it is now."""
    if shutil.which("xgettext") is None:
        if os.environ.get("REQUIRE_BROWSER"):  # CI: .ci/run installs gettext
            pytest.fail("xgettext is missing (apt-get install gettext)")
        pytest.skip("xgettext not installed (apt-get install gettext)")
    # From a copy of the code: makemessages writes into the locale folder beside the files it
    # reads, which would be the real catalogues.
    copy = tmp_path_factory.mktemp("source")
    for folder in ("agreements", "templates", "tracker"):
        shutil.copytree(
            settings.BASE_DIR / folder,
            copy / folder,
            ignore=shutil.ignore_patterns("__pycache__", "admin"),
        )
    root = copy / "locale"
    root.mkdir()
    from django.test import override_settings

    cwd = os.getcwd()
    os.chdir(copy)
    try:
        with override_settings(LOCALE_PATHS=[root]):
            call_command(
                "makemessages",
                locale=translation_languages(),
                ignore_patterns=IGNORED,
                verbosity=0,
            )
    finally:
        os.chdir(cwd)
    return root


@pytest.mark.parametrize("language", translation_languages())
def test_the_catalogue_has_every_marked_string(extracted, language):
    """A string marked in a template or in the code but missing from the catalogue (it was
    added after the last `make translations`) fails here, named."""
    wanted = keys(read(catalogue_path(extracted, language), language))
    present = keys(read(catalogue_path(LOCALE, language), language))
    assert sorted(wanted - present, key=str) == []


def test_the_catalogue_check_finds_a_missing_translation(tmp_path):
    """The check above can fail: an entry with no translation is reported."""
    path = catalogue_path(tmp_path, "es")
    path.parent.mkdir(parents=True)
    path.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Agreements"\nmsgstr "Acuerdos"\n\nmsgid "Countries"\nmsgstr ""\n'
    )
    assert untranslated(read(path, "es")) == ["Countries"]


def plural_messages(text: str) -> dict:
    """{(context, singular): {plurals}} of the {% blocktranslate count %} blocks in a template."""
    found = {}
    blocks = re.finditer(
        r"{%\s*blocktranslate([^%]*)%}(.*?){%\s*plural\s*%}(.*?){%\s*endblocktranslate\s*%}",
        text,
        re.S,
    )
    for block in blocks:
        context = re.search(r'context\s+"([^"]+)"', block.group(1))
        key = (context.group(1) if context else None, " ".join(block.group(2).split()))
        found.setdefault(key, set()).add(" ".join(block.group(3).split()))
    return found


def test_no_two_plural_messages_share_a_singular():
    """gettext keys a plural message by its singular: two with the same singular and different
    plurals become one entry, and one of them shows the other's words ("Download these rows" on
    an unfiltered list). Such pairs need a context each."""
    found = {}
    for path in (settings.BASE_DIR / "templates").rglob("*.html"):
        for key, plurals in plural_messages(path.read_text()).items():
            found.setdefault(key, set()).update(plurals)
    assert {key: plurals for key, plurals in found.items() if len(plurals) > 1} == {}


def test_the_shared_singular_check_can_fail():
    template = (
        "{% blocktranslate count counter=n %}one row{% plural %}these rows{% endblocktranslate %}"
        "{% blocktranslate count counter=n %}one row{% plural %}all rows{% endblocktranslate %}"
    )
    assert plural_messages(template)[(None, "one row")] == {"these rows", "all rows"}
