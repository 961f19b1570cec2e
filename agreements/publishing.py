"""The only code that changes what readers see. Every write path calls it: the admin forms and
their inlines, the list actions, history restore, CSV import and the review queue.

The rules, each in one place:
- who may do what: `may()` (editors draft, submit and propose; publishers also publish,
  withdraw, approve and reject; nobody else writes);
- a published record needs its sources: `blockers()` (every event of an agreement, and every
  transfer, cites at least one source), checked when publishing, when a published record is
  edited directly, and when a proposal or restore would leave it unsourced;
- an editor's change to a record readers can see is a *proposed revision*
  (`ProposedRevision`), stored aside: the live record changes only when a publisher approves;
- no lost update: every record has a `version`, bumped by every saved change; a form or a
  proposal carries the version it was loaded from, and saving over a newer one is refused
  (`Stale`), under a row lock, so two simultaneous saves cannot both pass;
- restoring a history version restores its content (parts and sources included), never its
  publication state, and goes through the same door as any edit.
After Wagtail's revisions (a change of live content is `save_revision` + `publish`).
"""

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from agreements import revisions
from agreements.models import (
    EDITOR_STATES,
    Agreement,
    CourtCase,
    ProposedRevision,
    PublicationState,
    RevisionKind,
    RevisionState,
    Source,
    Transfer,
    can_publish,
    may_change_publication,
)
from tracker.caching import bump_content_version

PUBLISHED = PublicationState.PUBLISHED
WITHDRAWN = PublicationState.WITHDRAWN
NEEDS_SOURCE = "Cite at least one source before publishing."


class Refused(Exception):
    """The change is not allowed as it stands; the message says why, for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Stale(Refused):
    """The record changed after the form or proposal was loaded: nothing was overwritten."""

    def __init__(self, record, loaded_version, since):
        self.record, self.loaded_version, self.since = record, loaded_version, since
        listed = "; ".join(since) if since else "a change to its publication or its parts"
        super().__init__(
            f"“{record}” was changed by someone else after you opened it, so nothing was "
            f"saved (you had version {loaded_version}). Changed meanwhile: {listed}. "
            "Reload it to see the current version, then make your change again."
        )


# Characters no page, feed (XML 1.0) or spreadsheet can show; tabs and line breaks are text.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_error(text):
    """A message when text holds a control character, else None: the one rule that forms,
    imports and the door's own reasons apply to what people type."""
    if isinstance(text, str) and CONTROL_CHARACTERS.search(text):
        return "This text contains a control character (an invisible character such as a form feed); remove it."
    return None


def public_text(text, what):
    """A reason readers (or the editor) will read: trimmed, and without control characters."""
    text = (text or "").strip()
    if control_character_error(text):
        raise Refused(f"The {what} contains a control character; remove it and try again.")
    return text


# --- who may, and what is public ----------------------------------------------------------------


def may(user, action, record=None) -> bool:
    """Whether user may take action (propose | edit | submit | publish | withdraw | approve |
    reject | restore) on record."""
    if user is None or not user.is_active or not user.is_staff:
        return False
    if action in {"publish", "withdraw", "approve", "reject"}:
        return can_publish(user)
    model = type(record)._meta.model_name if record is not None else "agreement"
    return user.has_perm(f"agreements.change_{model}")


def is_public(record) -> bool:
    """Whether readers can see record as stored: published agreements and transfers (the
    transfer's own state: its agreement may be published at any moment), and sources they cite."""
    if isinstance(record, Source):
        if record.pk is None:
            return False
        return Source.objects.filter(pk=record.pk).shown_publicly().exists()
    if record.pk is None:
        return False
    state = type(record).objects.filter(pk=record.pk).values_list("publication_state", flat=True)
    return state.first() == PUBLISHED


def needs_review(user, record) -> bool:
    return not can_publish(user) and is_public(record)


def blockers(record) -> list[str]:
    """Why record, as stored, may not be public."""
    if isinstance(record, Agreement):
        unsourced = record.events.filter(sources__isnull=True).order_by("date", "id")
        return [f"The event “{event}” cites no source. {NEEDS_SOURCE}" for event in unsourced]
    if isinstance(record, Transfer):
        return [] if record.sources.exists() else [f"The transfer “{record}” cites no source."]
    if isinstance(record, CourtCase):
        problems = [] if record.sources.exists() else [f"The case “{record}” cites no source."]
        unsourced = record.rulings.filter(sources__isnull=True).order_by("date", "id")
        return problems + [
            f"The ruling “{ruling}” cites no source. {NEEDS_SOURCE}" for ruling in unsourced
        ]
    return []


def blockers_in(model, data) -> list[str]:
    """Why a record with the content snapshot data may not be public."""
    if model is Agreement:
        return [
            f"The event of {event['fields'].get('date')} cites no source. {NEEDS_SOURCE}"
            for event in data.get("events", [])
            if not event.get("sources")
        ]
    if model is Transfer and not data.get("sources"):
        return [f"The transfer cites no source. {NEEDS_SOURCE}"]
    if model is CourtCase:
        problems = [] if data.get("sources") else [f"The case cites no source. {NEEDS_SOURCE}"]
        return problems + [
            f"The ruling of {ruling['fields'].get('date')} cites no source. {NEEDS_SOURCE}"
            for ruling in data.get("rulings", [])
            if not ruling.get("sources")
        ]
    return []


# The database's own check of onward removals (migration 0013), deferred to the commit.
ONWARD_TRIGGERS = "transfer_onward_link_check, transfer_onward_transfer_check"


def check_onward_links():
    """Run the deferred onward-removal check now, inside the door's transaction, so that a
    change it refuses is a message to the user, not an error at commit. Forms explain the rule
    first (Transfer.onward_problems); this catches what they cannot see (a concurrent edit)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {ONWARD_TRIGGERS} IMMEDIATE")
            cursor.execute(f"SET CONSTRAINTS {ONWARD_TRIGGERS} DEFERRED")
    except IntegrityError as error:
        if "transfer_onward_check" not in str(error):
            raise
        raise Refused(
            "An onward removal must start in the country the transfer it continues ended in, "
            f"and cannot be dated before it ({str(error).split(': ', 1)[-1].splitlines()[0]})."
        ) from None


# --- versions: no lost update ------------------------------------------------------------------


def locked_version(record) -> int:
    """The stored version of record, its row locked until the transaction ends, so that a
    concurrent save waits for this one and then sees its version."""
    return (
        type(record)
        .objects.select_for_update()
        .filter(pk=record.pk)
        .values_list("version", flat=True)
        .get()
    )


def changed_since(record, loaded_version) -> list[str]:
    """What happened to record after loaded_version, from its history: "10:42 by pat: summary"."""
    history = (
        record.history.filter(version__gt=loaded_version)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    found, previous = [], None
    model = type(record)
    for row in history:
        if previous is None:
            previous = (
                record.history.filter(version__lte=loaded_version)
                .order_by("-history_date", "-history_id")
                .first()
            )
        names = []
        if previous is not None:
            delta = row.diff_against(previous, excluded_fields=["version"])
            names = [
                str(model._meta.get_field(change.field).verbose_name) for change in delta.changes
            ]
        who = getattr(row.history_user, "username", None) or "someone"
        when = timezone.localtime(row.history_date).strftime("%Y-%m-%d %H:%M")
        what = ", ".join(names) if names else "its events, sources or figures"
        found.append(f"{when} by {who}: {what}")
        previous = row
    return found


def check_version(record, loaded_version) -> int:
    current = locked_version(record)
    if loaded_version is not None and int(loaded_version) != current:
        raise Stale(record, int(loaded_version), changed_since(record, int(loaded_version)))
    return current


def _bump(record, current):
    """Claim the next version: a conditional UPDATE that no concurrent writer can also win."""
    claimed = type(record).objects.filter(pk=record.pk, version=current).update(version=current + 1)
    if not claimed:  # cannot happen under the row lock; kept as the last line of defence
        raise Stale(record, current, [])
    record.version = current + 1


# --- editing ---------------------------------------------------------------------------------------


@contextmanager
def history_user(user):
    """Rows saved inside are attributed to user in their history, as the admin's request is
    (simple_history's middleware) when a write runs outside a request: an import command, the
    import worker, check_sources. Inside a request its own user stands."""
    context = HistoricalRecords.context
    if user is None or getattr(context, "request", None) is not None:
        yield
        return
    context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        del context.request


def edit(record, user, *, loaded_version, proposed, write, kind=RevisionKind.EDIT, note=""):
    """The one door for changing a record's content.

    proposed() returns the content snapshot the change would give the record (used when it
    must wait for review); write() stores the change directly. Returns the ProposedRevision when
    the change was kept for review, else None. Raises Refused (or Stale) and writes nothing when
    the change is not allowed.
    """
    with transaction.atomic():
        if record.pk is None:
            return _create(record, user, write)
        if not may(user, "edit", record):
            raise Refused("You do not have permission to change this record.")
        current = check_version(record, loaded_version)
        if needs_review(user, record):
            data = proposed()
            live = revisions.snapshot(type(record).objects.get(pk=record.pk))
            if not revisions.only_private_changes(type(record), live, data):
                return propose(record, data, user, base_version=current, kind=kind, note=note)
        _bump(record, current)
        if note:
            record._change_reason = note
        with history_user(user):
            write()
        check_onward_links()
        if is_public(record) or getattr(record, "publication_state", None) == PUBLISHED:
            problems = blockers(record)
            if problems:
                raise Refused(" ".join(problems))
        return None


def _create(record, user, write):
    state = getattr(record, "publication_state", None)
    if not (
        user is not None
        and user.is_active
        and user.is_staff
        and user.has_perm(f"agreements.add_{type(record)._meta.model_name}")
    ):
        raise Refused("You do not have permission to add this record.")
    if state is not None and state not in EDITOR_STATES and not can_publish(user):
        raise Refused("Only publishers can publish or withdraw a record.")
    if state == WITHDRAWN:
        raise Refused("A new record cannot start withdrawn.")
    write()
    check_onward_links()
    if state == PUBLISHED:
        problems = blockers(record)
        if problems:
            raise Refused(" ".join(problems))


def propose(record, data, user, *, base_version, kind=RevisionKind.EDIT, note=""):
    """Keep data as a proposed revision of record; the live record is untouched."""
    if not may(user, "propose", record):
        raise Refused("You do not have permission to change this record.")
    model = type(record)
    waiting = ProposedRevision.objects.pending().for_record(record).select_related("proposed_by")
    earlier = waiting.first()
    if earlier is not None:
        raise Refused(
            f"“{record}” already has a proposed revision awaiting review (#{earlier.pk}, by "
            f"{earlier.proposed_by}, {timezone.localtime(earlier.proposed_at):%Y-%m-%d %H:%M}). "
            "A publisher must decide it first, or its author can withdraw it."
        )
    if getattr(record, "publication_state", None) == PUBLISHED:
        problems = blockers_in(model, data)
        if problems:
            raise Refused(" ".join(problems))
    live = revisions.snapshot(model.objects.get(pk=record.pk))
    if not revisions.differences(model, live, data):
        raise Refused("Nothing to propose: this is the record as it stands.")
    try:
        with transaction.atomic():
            return ProposedRevision.objects.create(
                **{model._meta.model_name: record},
                kind=kind,
                data=data,
                base_version=base_version,
                note=note,
                proposed_by=user,
            )
    except IntegrityError:  # another proposal won the race for this record
        raise Refused(f"“{record}” already has a proposed revision awaiting review.") from None


def approve(proposal, user):
    """Make a pending proposal the live content of its record (a publisher's decision)."""
    if not may(user, "approve"):
        raise Refused("Only publishers can approve a proposed revision.")
    with transaction.atomic():
        proposal = ProposedRevision.objects.select_for_update().get(pk=proposal.pk)
        if not proposal.is_pending:
            raise Refused(f"Proposed revision #{proposal.pk} was already decided.")
        record = type(proposal.record).objects.get(pk=proposal.record.pk)
        current = locked_version(record)
        if current != proposal.base_version:
            raise Stale(record, proposal.base_version, changed_since(record, proposal.base_version))
        if getattr(record, "publication_state", None) == PUBLISHED:
            problems = blockers_in(type(record), proposal.data)
            if problems:
                raise Refused(" ".join(problems))
        _bump(record, current)
        record._change_reason = (
            f"Approved proposed revision #{proposal.pk} by {proposal.proposed_by}"
        )
        revisions.write(record, proposal.data)
        check_onward_links()
        if getattr(record, "publication_state", None) == PUBLISHED:
            problems = blockers(record)
            if problems:
                raise Refused(" ".join(problems))
        _decide(proposal, user, RevisionState.APPROVED)
        return record


def reject(proposal, user, reason):
    if not may(user, "reject"):
        raise Refused("Only publishers can reject a proposed revision.")
    reason = public_text(reason, "reason")
    if not reason:
        raise Refused("Say why the revision is rejected: the editor will see it.")
    with transaction.atomic():
        proposal = ProposedRevision.objects.select_for_update().get(pk=proposal.pk)
        if not proposal.is_pending:
            raise Refused(f"Proposed revision #{proposal.pk} was already decided.")
        _decide(proposal, user, RevisionState.REJECTED, reason)


def cancel(proposal, user):
    """Its author (or a publisher) takes a pending proposal back."""
    if proposal.proposed_by_id != user.pk and not can_publish(user):
        raise Refused("Only its author or a publisher can withdraw a proposed revision.")
    with transaction.atomic():
        proposal = ProposedRevision.objects.select_for_update().get(pk=proposal.pk)
        if not proposal.is_pending:
            raise Refused(f"Proposed revision #{proposal.pk} was already decided.")
        _decide(proposal, user, RevisionState.CANCELLED)


def _decide(proposal, user, state, reason=""):
    proposal.state = state
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.decision_reason = reason
    proposal.save()


def restore(record, version, user, *, loaded_version):
    """Bring back the content of history row `version` of record: its fields, sources and parts,
    never its publication state. An editor's restore of a public record is a proposal."""
    if version.id != record.pk:
        raise Refused("That version belongs to another record.")
    data = revisions.snapshot_from_history(record, version)
    note = f"Restored the version of {timezone.localtime(version.history_date):%Y-%m-%d %H:%M}"
    if getattr(record, "publication_state", None) == PUBLISHED:
        problems = blockers_in(type(record), data)
        if problems:
            raise Refused("That version cannot be restored while published: " + " ".join(problems))
    return edit(
        record,
        user,
        loaded_version=loaded_version,
        proposed=lambda: data,
        write=lambda: revisions.write(record, data),
        kind=RevisionKind.RESTORE,
        note=note,
    )


# --- publication state -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a state change did, for the message the user sees."""

    record: object
    transfers_published: list = field(default_factory=list)
    transfers_left: list = field(default_factory=list)  # (transfer, why)


def transition(record, user, new_state, *, loaded_version=None, reason="", with_transfers=True):
    """Move record to new_state (draft, in review, published, withdrawn) if user may."""
    with transaction.atomic():
        current = check_version(record, loaded_version)
        old_state = (
            type(record)
            .objects.filter(pk=record.pk)
            .values_list("publication_state", flat=True)
            .get()
        )
        outcome = Outcome(record)
        if old_state == new_state:
            return outcome
        if not may_change_publication(user, old_state, new_state) or not may(user, "edit", record):
            raise Refused("Only publishers can publish or withdraw a record.")
        record.publication_state = new_state
        if new_state == WITHDRAWN:
            reason = public_text(reason, "reason")
            if not reason:
                raise Refused("Say publicly why the record is withdrawn: readers will see it.")
            record.withdrawn_at, record.withdrawal_reason = timezone.now(), reason
        else:
            record.withdrawn_at, record.withdrawal_reason = None, ""
        if new_state == PUBLISHED:
            problems = blockers(record)
            if problems:
                raise Refused(f"“{record}” was not published. " + " ".join(problems))
        _bump(record, current)
        record._change_reason = {
            PUBLISHED: "Published",
            WITHDRAWN: "Withdrawn",
            PublicationState.IN_REVIEW: "Submitted for review",
            PublicationState.DRAFT: "Returned to draft",
        }[new_state]
        # Leaving the published state changes public pages though the record is no longer
        # public as saved (agreements/apps.py skips those): make them stale here.
        bump_content_version()
        record.save(
            update_fields=[
                "publication_state",
                "withdrawn_at",
                "withdrawal_reason",
                "version",
                "updated_at",
            ]
        )
        if new_state == PUBLISHED and isinstance(record, Agreement) and with_transfers:
            _publish_transfers(record, user, outcome)
        return outcome


def _publish_transfers(agreement, user, outcome):
    waiting = agreement.transfers.filter(
        publication_state__in=[PublicationState.DRAFT, PublicationState.IN_REVIEW]
    ).order_by("date", "id")
    for transfer in waiting:
        problems = blockers(transfer)
        if problems:
            outcome.transfers_left.append((transfer, "it cites no source"))
            continue
        transition(transfer, user, PUBLISHED)
        outcome.transfers_published.append(transfer)
    for transfer in agreement.transfers.filter(publication_state=WITHDRAWN):
        outcome.transfers_left.append((transfer, "it was withdrawn"))


def publish(record, user, *, with_transfers=True):
    return transition(record, user, PUBLISHED, with_transfers=with_transfers)


def withdraw(record, user, reason):
    return transition(record, user, WITHDRAWN, reason=reason)


def submit(record, user):
    return transition(record, user, PublicationState.IN_REVIEW)


def describe(outcome) -> list[str]:
    """Messages for the user about what a publication did and left undone."""
    lines = []
    if outcome.transfers_published:
        lines.append(
            f"Published with it: {len(outcome.transfers_published)} transfer(s) ("
            + "; ".join(str(t) for t in outcome.transfers_published)
            + ")."
        )
    if outcome.transfers_left:
        lines.append(
            "Not published with it: "
            + "; ".join(f"{transfer} ({why})" for transfer, why in outcome.transfers_left)
            + "."
        )
    return lines
