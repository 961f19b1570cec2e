from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from agreements.management.commands._postgres import run


class Command(BaseCommand):
    help = (
        "Replace the database's contents with a pg_dump archive written by `backup`. "
        "One transaction: if anything fails, the database is left as it was."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file, **options):
        if not file.is_file():
            raise CommandError(f"No such backup file: {file}")
        connection.close()  # our own connection must not hold locks on the tables being replaced
        run(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={connection.settings_dict['NAME']}",
            str(file),
        )
        self.stdout.write(f"Restored {file}.")
