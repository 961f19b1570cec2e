from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agreements.seed import SeedError, load_seed


class Command(BaseCommand):
    help = (
        "Load the seed agreements, events, transfers and sources from fixtures/seed/. "
        "All-or-nothing, and safe to run again: a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            type=Path,
            default=settings.BASE_DIR / "fixtures" / "seed",
            help="seed directory",
        )

    def handle(self, *args, **options):
        try:
            stats = load_seed(options["dir"])
        except SeedError as exc:
            raise CommandError(f"Seed data not loaded, nothing changed: {exc}") from exc
        self.stdout.write(str(stats))
