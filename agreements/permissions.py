"""Editors curate records; Publishers also publish and withdraw them. Neither manages users."""

from django.contrib.auth.models import Group, Permission

EDITORS_GROUP = "Editors"
PUBLISHERS_GROUP = "Publishers"
EDITOR_MODELS = (
    "agreement",
    "agreementevent",
    "transfer",
    "source",
    "reportedfigure",
    "courtcase",
    "courtruling",
)
EDITOR_ACTIONS = ("add", "change", "view")


def _permissions(using, codenames):
    return list(
        Permission.objects.using(using).filter(
            content_type__app_label="agreements", codename__in=codenames
        )
    )


def ensure_groups(using: str = "default") -> Group:
    """Create or update the Editors and Publishers groups; returns Editors."""
    editing = [f"{action}_{model}" for model in EDITOR_MODELS for action in EDITOR_ACTIONS]
    # Countries are reference data loaded from ISO 3166: editors may look, not change.
    editing.append("view_country")
    editors, _ = Group.objects.using(using).get_or_create(name=EDITORS_GROUP)
    editors.permissions.set(_permissions(using, editing))

    publishing = editing + ["publish_records"]
    publishing += [
        f"delete_{model}" for model in ("agreementevent", "reportedfigure", "courtruling")
    ]
    publishers, _ = Group.objects.using(using).get_or_create(name=PUBLISHERS_GROUP)
    publishers.permissions.set(_permissions(using, publishing))
    return editors
