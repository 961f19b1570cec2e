from django.core.management.base import BaseCommand

from agreements.countries import sync_countries
from agreements.models import Country


class Command(BaseCommand):
    help = "Create or update all countries from pycountry (after upgrading it). Migrations run it once."

    def handle(self, *args, **options):
        written = sync_countries(Country)
        self.stdout.write(f"{Country.objects.count()} countries; {written} created or updated.")
