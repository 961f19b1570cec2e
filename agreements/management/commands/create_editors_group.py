from django.core.management.base import BaseCommand

from agreements.permissions import EDITORS_GROUP, PUBLISHERS_GROUP, ensure_groups


class Command(BaseCommand):
    help = "Create or update the Editors and Publishers groups. `migrate` runs it too."

    def handle(self, *args, **options):
        ensure_groups()
        self.stdout.write(f"{EDITORS_GROUP} and {PUBLISHERS_GROUP} groups are up to date.")
