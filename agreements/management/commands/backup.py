from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from agreements.management.commands._postgres import run


class Command(BaseCommand):
    help = "Write a pg_dump archive (custom format) of the database; prints its path."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, help="file to write (default: backups/<time>.dump)"
        )

    def handle(self, *args, output=None, **options):
        if output is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            output = settings.BASE_DIR / "backups" / f"tracker-{stamp}.dump"
        output.parent.mkdir(parents=True, exist_ok=True)
        run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={output}")
        self.stdout.write(str(output))
