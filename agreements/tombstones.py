"""Withdrawn records: what their URLs, the change log and the feeds keep of them.

A record withdrawn after it was published answers 410 Gone with a page saying what it was, when
and why it was withdrawn (the Publisher's public reason), and where its history is. Its earlier
public changes stay in the change log, followed by the withdrawal. A record that was never
published (a draft withdrawn, say) stays a plain 404: there is nothing public to cite.

A published transfer under a withdrawn agreement is gone too: it was public only through its
agreement, and showing it would keep a piece of the withdrawn record online. Its page gives the
agreement's date and reason.

The QuerySet helpers are meant to become methods of AgreementQuerySet and TransferQuerySet
(`withdrawn()`, `on_record()`).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext

from agreements.models import Agreement, CourtCase, PublicationState, Transfer
from agreements.translations import translation_field_names

PUBLISHED = PublicationState.PUBLISHED
WITHDRAWN = PublicationState.WITHDRAWN


def _was_published(model, ref="pk"):
    """The record (by ref) has a history version in the published state."""
    return Exists(model.history.filter(id=OuterRef(ref), publication_state=PUBLISHED))


def _agreement_gone(of_transfer=False):
    """The agreement (or a transfer's agreement) is withdrawn and was published before."""
    if of_transfer:
        state, ref = "agreement__publication_state", "agreement_id"
    else:
        state, ref = "publication_state", "pk"
    return Q(**{state: WITHDRAWN}) & Q(_was_published(Agreement, ref))


def withdrawn_agreements():
    """Agreements withdrawn after having been published: their URLs answer 410 Gone."""
    return Agreement.objects.filter(_agreement_gone())


def on_record_agreements():
    """Agreements published now or withdrawn after publication: the change log keeps them."""
    return Agreement.objects.filter(Q(publication_state=PUBLISHED) | _agreement_gone())


def _transfer_states():
    """(published and public, gone) conditions on Transfer."""
    agreement_gone = _agreement_gone(of_transfer=True)
    agreement_on_record = (
        Q(agreement__isnull=True) | Q(agreement__publication_state=PUBLISHED) | agreement_gone
    )
    public = Q(publication_state=PUBLISHED) & (
        Q(agreement__isnull=True) | Q(agreement__publication_state=PUBLISHED)
    )
    gone = Q(_was_published(Transfer)) & (
        (Q(publication_state=WITHDRAWN) & agreement_on_record)
        | (Q(publication_state=PUBLISHED) & agreement_gone)
    )
    return public, gone


def withdrawn_transfers():
    """Transfers once public and gone now: withdrawn themselves, or under an agreement that was
    withdrawn."""
    return Transfer.objects.filter(_transfer_states()[1])


def on_record_transfers():
    """Transfers public now or gone (withdrawn_transfers()): the change log keeps them."""
    public, gone = _transfer_states()
    return Transfer.objects.filter(public | gone)


@dataclass
class Tombstone:
    """What a withdrawn record's page says."""

    kind: str  # "agreement", "transfer" or "court case": a code, for the template to word
    record: str  # what it was, in the page's language
    withdrawn_at: datetime
    reason: str
    changes_url: str
    agreement: Agreement | None = None  # set when a transfer went with its agreement


def agreement_tombstone(slug) -> Tombstone | None:
    agreement = (
        withdrawn_agreements()
        .filter(slug=slug)
        .only(
            "title", *translation_field_names("title"), "slug", "withdrawn_at", "withdrawal_reason"
        )
        .first()
    )
    if agreement is None:
        return None
    return Tombstone(
        "agreement",
        agreement.title,
        agreement.withdrawn_at,
        agreement.withdrawal_reason,
        reverse("agreement-changes", args=[agreement.slug]),
    )


def transfer_tombstone(pk) -> Tombstone | None:
    transfer = (
        withdrawn_transfers()
        .filter(pk=pk)
        .select_related("agreement", "from_country", "to_country")
        .first()
    )
    if transfer is None:
        return None
    # Translators: What a withdrawn transfer was: "Transfer from Denmark to Rwanda, 16 March 2025".
    record = gettext("Transfer from %(origin)s to %(destination)s, %(date)s") % {
        "origin": transfer.from_country.local_name,
        "destination": transfer.to_country.local_name,
        "date": transfer.date_display,
    }
    if transfer.publication_state == WITHDRAWN:
        return Tombstone(
            "transfer",
            record,
            transfer.withdrawn_at,
            transfer.withdrawal_reason,
            reverse("change-log"),
        )
    agreement = transfer.agreement  # published itself, gone with its withdrawn agreement
    return Tombstone(
        "transfer",
        record,
        agreement.withdrawn_at,
        agreement.withdrawal_reason,
        reverse("change-log"),
        agreement=agreement,
    )


def withdrawn_cases():
    """Court cases withdrawn after having been published: their URLs answer 410 Gone."""
    return CourtCase.objects.filter(publication_state=WITHDRAWN).filter(_was_published(CourtCase))


def on_record_cases():
    """Court cases published now or withdrawn after publication: the change log keeps them."""
    return CourtCase.objects.filter(
        Q(publication_state=PUBLISHED) | Q(pk__in=withdrawn_cases().values("pk"))
    )


def case_tombstone(slug) -> Tombstone | None:
    """A court case withdrawn after it was published."""
    case = (
        withdrawn_cases()
        .filter(slug=slug)
        .only("name", "slug", "withdrawn_at", "withdrawal_reason")
        .first()
    )
    if case is None:
        return None
    return Tombstone(
        "court case", case.name, case.withdrawn_at, case.withdrawal_reason, reverse("change-log")
    )
