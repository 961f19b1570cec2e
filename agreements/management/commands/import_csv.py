import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agreements import imports
from agreements.models import ImportKind


class Command(BaseCommand):
    help = (
        "Import a CSV file of sources, agreements or transfers as USERNAME, however large: all "
        "or nothing, with the admin's rules (docs/IMPORT.md). Exits with status 1 on any error."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", help="a UTF-8 CSV file with a header row; - reads stdin")
        parser.add_argument(
            "--user",
            required=True,
            help="the staff account the rows are imported as (it needs the add permission)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check every row, then write nothing"
        )

    def handle(self, *args, **options):
        kind = ImportKind(options["kind"])
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        if not imports.may_import(user, kind):
            raise CommandError(
                f"{user} may not import {kind.label.lower()}: that needs an active staff "
                f"account allowed to add {kind.model._meta.verbose_name_plural} (as in the admin)."
            )
        data = self._read(options["file"])
        outcome = imports.run_import(kind, data, user, dry_run=options["dry_run"])
        self.stdout.write(outcome.summary())
        for proposal in outcome.proposals:
            self.stdout.write(f"Proposed revision #{proposal.pk}: {proposal.record}")
        if not outcome.ok:
            for message in outcome.errors:
                self.stderr.write(message)
            raise CommandError(f"{len(outcome.errors)} error(s); nothing was written.")

    def _read(self, name):
        if name == "-":
            return sys.stdin.buffer.read()
        try:
            with open(name, "rb") as file:
                return file.read()
        except OSError as error:
            raise CommandError(f"Cannot read {name}: {error.strerror}.") from None
