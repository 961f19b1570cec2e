"""What readers may see is defined once, as QuerySet methods (agreements/models.py), which every
page, count, download, feed and search asks. These specify each method directly; the page tests
(test_public_trust.py, test_tombstones.py, ...) check that the pages ask them."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from agreements.models import (
    Agreement,
    AgreementEvent,
    Country,
    CourtCase,
    CourtRuling,
    ReportedFigure,
    Source,
    Transfer,
)
from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    CourtCaseFactory,
    CourtRulingFactory,
    SourceFactory,
    TransferFactory,
    UserFactory,
    country,
)

pytestmark = pytest.mark.django_db


def withdraw(record):
    record.publication_state = "withdrawn"
    record.withdrawn_at = timezone.now()
    record.withdrawal_reason = "Duplicate."
    record.save()


# --- visible_to: the staff preview -----------------------------------------------------------


@pytest.mark.parametrize("model", [Agreement, Transfer, CourtCase])
def test_readers_see_only_published_records(model):
    factories = {
        Agreement: AgreementFactory,
        Transfer: TransferFactory,
        CourtCase: CourtCaseFactory,
    }
    published = factories[model](published=True)
    factories[model]()  # a draft
    assert list(model.objects.visible_to(AnonymousUser())) == [published]


def test_editors_who_can_view_drafts_see_them_as_a_preview(editor):
    draft = AgreementFactory()
    assert draft in Agreement.objects.visible_to(editor)


def test_staff_without_permission_to_view_agreements_see_only_published_records():
    draft = AgreementFactory()
    staff = UserFactory()  # staff, in no group
    assert draft not in Agreement.objects.visible_to(staff)


# --- published(): parts and dependants ---------------------------------------------------------


def test_a_published_transfer_under_a_draft_agreement_is_hidden():
    transfer = TransferFactory(published=True)
    transfer.agreement.publication_state = "draft"
    transfer.agreement.save()
    assert not Transfer.objects.published().exists()


def test_events_and_rulings_are_public_with_their_agreement_and_case():
    shown = AgreementEventFactory(agreement=AgreementFactory(published=True))
    AgreementEventFactory()  # of a draft agreement
    ruling = CourtRulingFactory(case=CourtCaseFactory(published=True))
    CourtRulingFactory()  # of a draft case
    assert list(AgreementEvent.objects.published()) == [shown]
    assert list(CourtRuling.objects.published()) == [ruling]


# --- sources -------------------------------------------------------------------------------------


def test_a_source_cited_only_by_drafts_is_not_cited_publicly():
    source = SourceFactory()
    AgreementFactory(sources=[source])
    TransferFactory(sources=[source])
    CourtCaseFactory(sources=[source])
    assert not Source.objects.cited_publicly().exists()


@pytest.mark.parametrize("citing", ["agreement", "event", "transfer", "case", "ruling"])
def test_a_source_cited_by_any_published_record_is_cited_publicly(citing):
    source = SourceFactory()
    if citing == "agreement":
        AgreementFactory(published=True, sources=[source])
    elif citing == "event":
        AgreementEventFactory(agreement=AgreementFactory(published=True), sources=[source])
    elif citing == "transfer":
        TransferFactory(published=True, sources=[source])
    elif citing == "case":
        CourtCaseFactory(published=True, sources=[source])
    else:
        CourtRulingFactory(case=CourtCaseFactory(published=True, sources=[]), sources=[source])
    assert list(Source.objects.cited_publicly()) == [source]


def test_a_source_behind_a_published_figure_is_shown_but_not_listed():
    """The source list holds cited sources; a reported figure's source shows on its transfer's
    page, so the protection and review rules treat it as public."""
    source = SourceFactory()
    transfer = TransferFactory(published=True, sources=[])
    ReportedFigure.objects.create(transfer=transfer, source=source, people=12)
    assert source in Source.objects.shown_publicly()
    assert source not in Source.objects.cited_publicly()


def test_the_public_source_list_is_newest_first():
    older = SourceFactory(published_on="2024-01-01")
    newer = SourceFactory(published_on="2025-01-01")
    AgreementFactory(published=True, sources=[older, newer])
    assert list(Source.objects.listed_publicly()) == [newer, older]


# --- countries -----------------------------------------------------------------------------------


def test_countries_with_only_drafts_have_no_records():
    AgreementFactory(sending_country=country("DK"), receiving_country=country("RW"))
    TransferFactory(
        published=True, agreement=None, from_country=country("US"), to_country=country("SV")
    )
    assert sorted(Country.objects.with_records().values_list("code", flat=True)) == ["SV", "US"]


# --- withdrawn and on record -------------------------------------------------------------------


def test_a_draft_withdrawn_before_publication_is_not_withdrawn_for_readers():
    """Never public: its address is a plain 404, not a tombstone."""
    draft = AgreementFactory()
    withdraw(draft)
    assert not Agreement.objects.withdrawn().exists()
    assert not Agreement.objects.on_record().exists()


def test_a_record_withdrawn_after_publication_stays_on_record():
    agreement = AgreementFactory(published=True)
    withdraw(agreement)
    assert list(Agreement.objects.withdrawn()) == [agreement]
    assert list(Agreement.objects.on_record()) == [agreement]


def test_a_published_transfer_is_gone_with_its_withdrawn_agreement():
    transfer = TransferFactory(published=True)
    withdraw(transfer.agreement)
    assert list(Transfer.objects.withdrawn()) == [transfer]
    assert not Transfer.objects.published().exists()
