"""Compile the gettext catalogues (locale/<language>/LC_MESSAGES/django.po) into the .mo files
Django reads, in pure Python (Babel): a fresh machine needs no gettext tools to run the site.
Django's compilemessages does the same with GNU msgfmt; the .mo files are not committed."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


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
            if (
                not force
                and mo_path.exists()
                and mo_path.stat().st_mtime >= po_path.stat().st_mtime
            ):
                continue
            language = po_path.parent.parent.name
            with po_path.open("rb") as po_file:
                catalogue = read_po(po_file, locale=language)
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
        self.stdout.write(f"Compiled {compiled} of {len(catalogues)} catalogues.")
