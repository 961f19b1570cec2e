"""The review queue: where a publisher reads an editor's proposed revision as a field-by-field
diff of the live record and approves or rejects it, and where editors follow what became of
theirs. Every decision goes through agreements/publishing.py; nothing here writes a record.

Who sees what:
- any staff user who may change agreements, transfers or sources (editors, publishers) sees the
  proposals of those records, the queue page and each proposal page, read only;
- only publishers get the Approve and Reject buttons, and only a proposal's author gets
  "Withdraw my proposal"; a crafted POST meets the same refusal in publishing.py;
- nobody adds, changes or deletes a proposal through the generic admin forms.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Q, Value, When
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from agreements import publishing, revisions
from agreements.admin import ReadOnlyAdminMixin
from agreements.models import (
    REVISABLE,
    Agreement,
    CourtCase,
    ProposedRevision,
    PublicationState,
    RevisionState,
    Transfer,
)

# Pending proposals first, then decided ones; oldest first within each.
PENDING_FIRST = Case(When(state=RevisionState.PENDING, then=Value(0)), default=Value(1)).asc()
# The queue page lists at most this many rows of each kind (oldest first); the counts are exact.
QUEUE_LIMIT = 200
STALE_WARNING = (
    "The record changed since this was proposed (it was at version {base}, it is now at "
    "version {now}): approving is refused; reject it and ask for a new one."
)
# A proposal with the record it is about and the people involved, in one query.
PROPOSAL_RELATED = [
    "agreement",
    "transfer__agreement",
    "transfer__from_country",
    "transfer__to_country",
    "source",
    "courtcase",
    "proposed_by",
    "decided_by",
]


def record_model_name(proposal) -> str:
    """agreement | transfer | source, without fetching the record."""
    return next(name for name in REVISABLE if getattr(proposal, f"{name}_id") is not None)


def may_see(user, model_name) -> bool:
    """Staff who may change records of model_name may read the proposals about them."""
    return user.is_active and user.is_staff and user.has_perm(f"agreements.change_{model_name}")


def record_admin_url(record) -> str:
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


def queue_counts() -> dict:
    """What waits for a publisher: pending proposals, and records submitted for review."""
    in_review = Q(publication_state=PublicationState.IN_REVIEW)
    agreements = Agreement.objects.filter(in_review).count()
    transfers = Transfer.objects.filter(in_review).count()
    cases = CourtCase.objects.filter(in_review).count()
    return {
        "proposals": ProposedRevision.objects.pending().count(),
        "agreements": agreements,
        "transfers": transfers,
        "cases": cases,
        "records": agreements + transfers + cases,
    }


class ProposedByMeFilter(admin.SimpleListFilter):
    """For editors: their own proposals, to see which were approved or rejected, and why."""

    title = "proposed by"
    parameter_name = "proposed_by"

    def lookups(self, request, model_admin):
        return [("me", "Me")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(proposed_by=request.user)
        return queryset


@admin.register(ProposedRevision)
class ProposedRevisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "record_name",
        "kind",
        "state",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
    ]
    list_display_links = ["id", "record_name"]
    list_filter = ["state", "kind", ProposedByMeFilter]
    list_select_related = PROPOSAL_RELATED  # also in get_queryset, for the proposal's page
    search_fields = [
        "agreement__title",
        "source__title",
        "courtcase__name",
        "proposed_by__username",
        "note",
        "decision_reason",
    ]
    ordering = [PENDING_FIRST, "proposed_at", "id"]
    actions = None
    change_list_template = "admin/agreements/proposedrevision/change_list.html"

    # --- permissions: read here, decide through publishing.py -------------------------------

    def has_view_permission(self, request, obj=None):
        if obj is not None:
            return may_see(request.user, record_model_name(obj))
        return any(may_see(request.user, name) for name in REVISABLE)

    def get_queryset(self, request):
        # Only proposals about records the user may change (editors and publishers: all).
        queryset = super().get_queryset(request).select_related(*PROPOSAL_RELATED)
        visible = [name for name in REVISABLE if may_see(request.user, name)]
        if len(visible) == len(REVISABLE):
            return queryset
        about = Q(pk__in=[])
        for name in visible:
            about |= Q(**{f"{name}__isnull": False})
        return queryset.filter(about)

    @admin.display(description="record")
    def record_name(self, obj):
        return f"{obj.record._meta.verbose_name.capitalize()}: {obj.record}"

    # --- pages --------------------------------------------------------------------------------

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "review/",
                self.admin_site.admin_view(self.review_queue_view),
                name=f"{opts.app_label}_review_queue",
            ),
            *super().get_urls(),
        ]

    def review_queue_view(self, request):
        """Pending proposals and records in review, oldest first. Read only for everyone: the
        decisions are taken on each proposal's page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        in_review = PublicationState.IN_REVIEW
        context = {
            **self.admin_site.each_context(request),
            "title": "Review queue",
            "opts": self.opts,
            "counts": queue_counts(),
            "limit": QUEUE_LIMIT,
            "pending": list(
                self.get_queryset(request).pending().order_by("proposed_at", "id")[:QUEUE_LIMIT]
            ),
            "agreements": list(
                Agreement.objects.filter(publication_state=in_review)
                .select_related("sending_country", "receiving_country")
                .order_by("updated_at", "id")[:QUEUE_LIMIT]
            ),
            "transfers": list(
                Transfer.objects.filter(publication_state=in_review)
                .select_related("agreement", "from_country", "to_country")
                .order_by("updated_at", "id")[:QUEUE_LIMIT]
            ),
            "cases": list(
                CourtCase.objects.filter(publication_state=in_review)
                .select_related("jurisdiction")
                .order_by("updated_at", "id")[:QUEUE_LIMIT]
            ),
            "may_decide": publishing.may(request.user, "approve"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/agreements/proposedrevision/queue.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The proposal's own page: the diff, and the decision buttons for whoever may decide."""
        proposal = self.get_object(request, unquote(object_id))
        if proposal is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, proposal):
            raise PermissionDenied
        if request.method == "POST":
            self._decide(request, proposal)
            return HttpResponseRedirect(request.path)
        return TemplateResponse(
            request,
            "admin/agreements/proposedrevision/review.html",
            {
                **self.admin_site.each_context(request),
                **self._review_context(request, proposal),
                **(extra_context or {}),
            },
        )

    def _review_context(self, request, proposal):
        record = proposal.record
        model = type(record)
        pending = proposal.is_pending
        state = getattr(record, "publication_state", None)
        # Agreements and transfers have a page (a preview until published); sources have none.
        public_url = record.get_absolute_url() if hasattr(record, "get_absolute_url") else None
        return {
            "title": f"Proposed revision #{proposal.pk}",
            "opts": self.opts,
            "proposal": proposal,
            "record": record,
            "record_kind": model._meta.verbose_name,
            "record_url": record_admin_url(record),
            "public_url": public_url,
            "record_is_public": getattr(record, "is_published", False),
            "differences": revisions.differences(model, revisions.snapshot(record), proposal.data),
            "stale": (
                STALE_WARNING.format(base=proposal.base_version, now=record.version)
                if pending and record.version != proposal.base_version
                else ""
            ),
            "blockers": (
                publishing.blockers_in(model, proposal.data)
                if pending and state == PublicationState.PUBLISHED
                else []
            ),
            "may_decide": pending and publishing.may(request.user, "approve"),
            "may_withdraw": pending and proposal.proposed_by_id == request.user.pk,
            "queue_url": reverse(f"{self.admin_site.name}:agreements_review_queue"),
        }

    def _decide(self, request, proposal):
        """Approve, reject or withdraw, through publishing.py; a refusal is a message."""
        record = proposal.record
        link = format_html('<a href="{}">{}</a>', record_admin_url(record), record)
        try:
            if "approve" in request.POST:
                publishing.approve(proposal, request.user)
                done = format_html(
                    "Approved proposed revision #{} by {}: {} now shows it.",
                    proposal.pk,
                    proposal.proposed_by,
                    link,
                )
                log = "Approved"
            elif "reject" in request.POST:
                reason = request.POST.get("reason", "")
                publishing.reject(proposal, request.user, reason)
                done = format_html(
                    "Rejected proposed revision #{} of {}; {} will see your reason. "
                    "The record is unchanged.",
                    proposal.pk,
                    link,
                    proposal.proposed_by,
                )
                log = f"Rejected: {reason.strip()}"
            elif "withdraw" in request.POST:
                publishing.cancel(proposal, request.user)
                done = format_html(
                    "You withdrew your proposed revision #{} of {}; the record is unchanged.",
                    proposal.pk,
                    link,
                )
                log = "Withdrawn by its author"
            else:
                self.message_user(request, "Nothing was done: choose an action.", messages.ERROR)
                return
        except publishing.Refused as refused:
            self.message_user(request, f"Nothing was changed: {refused.message}", messages.ERROR)
            return
        except ValidationError as invalid:  # the proposed content no longer validates
            self.message_user(
                request,
                "Nothing was changed: the proposed content is not valid as it stands ("
                + "; ".join(invalid.messages)
                + "). Reject it and ask for a new one.",
                messages.ERROR,
            )
            return
        self.log_change(request, proposal, log)
        self.message_user(request, done, messages.SUCCESS)
