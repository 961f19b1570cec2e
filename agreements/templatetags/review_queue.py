"""The review queue's counts for the admin index (templates/admin/index.html)."""

from django import template

from agreements.models import can_publish

register = template.Library()


@register.simple_tag(takes_context=True)
def review_queue_counts(context):
    """Pending proposals and records in review, for a publisher; None for anyone else."""
    user = context["request"].user
    if not (user.is_active and user.is_staff and can_publish(user)):
        return None
    from agreements.admin_review import queue_counts

    return queue_counts()
