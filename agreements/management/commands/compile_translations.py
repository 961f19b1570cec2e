"""Compile the gettext catalogues (locale/<language>/LC_MESSAGES/django.po) into the .mo files
Django reads, in pure Python (Babel): a fresh machine needs no gettext tools to run the site.
Django's compilemessages does the same with GNU msgfmt; the .mo files are not committed.

It also writes the source language's catalogue (English: every message as itself). English
needs no translation, but without a catalogue every lookup on an English page misses, and a
miss walks the whole chain of installed apps' catalogues (seven deep): a third of the home
page's rendering time. With it, each lookup is found in the first."""

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import to_locale


class Command(BaseCommand):
    help = "Compile the translation catalogues under LOCALE_PATHS (no gettext tools needed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Compile even catalogues that are up to date."
        )

    def handle(self, *args, force=False, **options):
        catalogues = sorted(
            path for root in settings.LOCALE_PATHS for path in Path(root).glob("*/LC_MESSAGES/*.po")
        )
        if not catalogues:
            raise CommandError(f"no catalogues under {settings.LOCALE_PATHS}")
        compiled = 0
        for po_path in catalogues:
            mo_path = po_path.with_suffix(".mo")
            if not force and _up_to_date(mo_path, po_path):
                continue
            catalogue = _read(po_path)
            problems = [
                f"{po_path}:{message.lineno}: {error}"
                for message, errors in catalogue.check()
                for error in errors
            ]
            if problems:
                # A placeholder missing from a translation would raise at render time.
                raise CommandError("\n".join(problems))
            # Fuzzy entries are guesses nobody checked: left out, so the English shows instead.
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalogue, use_fuzzy=False)
            compiled += 1
        source = catalogues[0]
        english = source.parents[2] / to_locale(settings.LANGUAGE_CODE) / "LC_MESSAGES"
        english_mo = english / source.with_suffix(".mo").name
        if force or not _up_to_date(english_mo, source):
            english.mkdir(parents=True, exist_ok=True)
            with english_mo.open("wb") as mo_file:
                write_mo(mo_file, _as_themselves(_read(source)))
            compiled += 1
        self.stdout.write(f"Compiled {compiled} of {len(catalogues) + 1} catalogues.")


def _up_to_date(mo_path: Path, po_path: Path) -> bool:
    return mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime


def _read(po_path: Path) -> Catalog:
    with po_path.open("rb") as po_file:
        return read_po(po_file, locale=po_path.parent.parent.name)


def _as_themselves(catalogue: Catalog) -> Catalog:
    """The source language's catalogue: the same messages, each translated as itself."""
    english = Catalog(locale=to_locale(settings.LANGUAGE_CODE))
    for message in catalogue:
        if message.id:
            english.add(message.id, string=message.id, context=message.context)
    return english
