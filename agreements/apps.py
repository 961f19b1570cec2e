from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AgreementsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "agreements"
    verbose_name = "Transfer agreements"

    def ready(self):
        # Permissions exist only after migrate, so the group is (re)built after it.
        post_migrate.connect(_ensure_groups, sender=self, dispatch_uid="agreements-editors-group")


def _ensure_groups(sender, using="default", **kwargs):
    from agreements.permissions import ensure_groups

    ensure_groups(using=using)
