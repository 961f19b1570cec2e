"""The Editors group: curate the records, never administer users."""

from django.contrib.auth.models import Group, Permission

EDITORS_GROUP = "Editors"
EDITOR_MODELS = ("agreement", "agreementevent", "transfer", "source")
EDITOR_ACTIONS = ("add", "change", "view")


def ensure_editors_group(using: str = "default") -> Group:
    group, _ = Group.objects.using(using).get_or_create(name=EDITORS_GROUP)
    codenames = [f"{action}_{model}" for model in EDITOR_MODELS for action in EDITOR_ACTIONS]
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="agreements", codename__in=codenames
    )
    # Countries are reference data loaded from ISO 3166: editors may look, not change.
    view_country = Permission.objects.using(using).filter(
        content_type__app_label="agreements", codename="view_country"
    )
    group.permissions.set([*permissions, *view_country])
    return group
