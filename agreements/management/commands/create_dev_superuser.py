from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "admin"  # development only: the command refuses to run in production


class Command(BaseCommand):
    help = "Development only: create a local superuser admin/admin unless a superuser exists."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to create a default superuser in production.")
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser exists; log in at /admin/ with it.")
            return
        User.objects.create_superuser(USERNAME, "", PASSWORD)
        self.stdout.write(
            f"Created the local superuser {USERNAME!r} with password {PASSWORD!r}: "
            "log in at /admin/ (development only)."
        )
