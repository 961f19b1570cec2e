from django.core.management.base import BaseCommand

from agreements.permissions import EDITORS_GROUP, ensure_editors_group


class Command(BaseCommand):
    help = "Create or update the Editors group (add/change/view on the curated models). `migrate` runs it too."

    def handle(self, *args, **options):
        group = ensure_editors_group()
        self.stdout.write(f"{EDITORS_GROUP}: {group.permissions.count()} permissions.")
