"""Withdrawn records: what their URLs, the change log and the feeds keep of them.

A record withdrawn after it was published answers 410 Gone with a page saying what it was, when
and why it was withdrawn (the Publisher's public reason), and where its history is. Its earlier
public changes stay in the change log, followed by the withdrawal. A record that was never
published (a draft withdrawn, say) stays a plain 404: there is nothing public to cite.

A published transfer under a withdrawn agreement is gone too: it was public only through its
agreement, and showing it would keep a piece of the withdrawn record online. Its page gives the
agreement's date and reason.

Which records are withdrawn after publication, or on record (public or withdrawn), is QuerySet
vocabulary: `Agreement.objects.withdrawn()`, `Transfer.objects.on_record()`, and so on.
"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext

from agreements.models import Agreement, CourtCase, PublicationState, Transfer
from agreements.translations import translation_field_names

WITHDRAWN = PublicationState.WITHDRAWN


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
        Agreement.objects.withdrawn()
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
        Transfer.objects.withdrawn()
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


def case_tombstone(slug) -> Tombstone | None:
    """A court case withdrawn after it was published."""
    case = (
        CourtCase.objects.withdrawn()
        .filter(slug=slug)
        .only("name", "slug", "withdrawn_at", "withdrawal_reason")
        .first()
    )
    if case is None:
        return None
    return Tombstone(
        "court case", case.name, case.withdrawn_at, case.withdrawal_reason, reverse("change-log")
    )
