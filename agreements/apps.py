from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class AgreementsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "agreements"
    verbose_name = "Transfer agreements"

    def ready(self):
        # Permissions exist only after migrate, so the group is (re)built after it.
        post_migrate.connect(_ensure_groups, sender=self, dispatch_uid="agreements-editors-group")
        # Any saved, deleted or re-linked record (countries, agreements, events, transfers,
        # sources, figures, and the history rows behind the change log) makes every cached
        # public page stale.
        from agreements.models import ContentVersion, ImportJob, ProposedRevision

        for model in self.get_models():
            # Proposals and import jobs are never public: a proposal waiting for review, or an
            # import queued or running, leaves every cached page as it is.
            if model in (ContentVersion, ProposedRevision, ImportJob):
                continue
            post_save.connect(_content_changed, sender=model, weak=False)
            post_delete.connect(_content_changed, sender=model, weak=False)
            for field in model._meta.local_many_to_many:
                m2m_changed.connect(_content_changed, sender=field.remote_field.through, weak=False)
        # Nothing cited can vanish: a cited source or a used country refuses to be deleted.
        from agreements import protection

        protection.connect()


def _ensure_groups(sender, using="default", **kwargs):
    from agreements.permissions import ensure_groups

    ensure_groups(using=using)


# The databases whose public data changed while bumps were deferred (deferred_content_bumps).
_deferred_bumps: ContextVar[set | None] = ContextVar("deferred_content_bumps", default=None)


@contextmanager
def deferred_content_bumps():
    """Inside, a change to public data is noted instead of bumping the content version at once;
    yields the set of database aliases that changed, for the caller to bump once, in the same
    transaction, when it is about to commit (agreements/resources.py does for every import).

    Every write bumps the same row, so a long import that bumped at its first row would hold
    that row's lock until it commits, and every other save would wait for it meanwhile."""
    changed = set()
    token = _deferred_bumps.set(changed)
    try:
        yield changed
    finally:
        _deferred_bumps.reset(token)


def _content_changed(sender, using="default", instance=None, **kwargs):
    from tracker.caching import bump_content_version

    if instance is not None and _never_shown(instance, using):
        return  # a draft at work: outsiders must not see the pages' validators change
    deferred = _deferred_bumps.get()
    if deferred is not None:
        deferred.add(using)
        return
    # In the writer's own transaction: the new version commits with the change, or not at all.
    bump_content_version(using)


# A record in these states is on no public page (a withdrawn one has its tombstone). Leaving
# the published state goes through agreements.publishing.transition, which makes the pages
# stale itself.
UNSEEN_STATES = {"draft", "in_review"}


def _never_shown(instance, using):
    """Whether saving instance (a record, its history row, or a part of a record) cannot
    change any public page."""
    from agreements.models import Agreement, CourtCase, Transfer

    # An event (or its history row) is shown with its agreement, a figure with its transfer,
    # a ruling with its case.
    parents = {
        "courtruling": (CourtCase, "case_id"),
        "historicalcourtruling": (CourtCase, "case_id"),
        "agreementevent": (Agreement, "agreement_id"),
        "historicalagreementevent": (Agreement, "agreement_id"),
        "reportedfigure": (Transfer, "transfer_id"),
        "historicalreportedfigure": (Transfer, "transfer_id"),
    }
    state = getattr(instance, "publication_state", None)
    if state is None and instance._meta.model_name in parents:
        parent, attname = parents[instance._meta.model_name]
        state = (
            parent.objects.using(using)
            .filter(pk=getattr(instance, attname))
            .values_list("publication_state", flat=True)
            .first()
        )
    return state in UNSEEN_STATES
