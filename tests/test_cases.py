"""Court cases: the model's rules, the one door, the public pages, exports and the API."""

import csv
import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from agreements import publishing, revisions
from agreements.models import CourtCase, ProposedRevision
from tests.factories import (
    AgreementEventFactory,
    AgreementFactory,
    CourtCaseFactory,
    CourtRulingFactory,
    SourceFactory,
    country,
)
from tests.helpers import change_url, loaded_form

pytestmark = pytest.mark.django_db


def refused_by_database(**changes):
    case = CourtCaseFactory(published=True)  # updated in SQL: the form's clean() is not asked
    with pytest.raises(IntegrityError), transaction.atomic():
        CourtCase.objects.filter(pk=case.pk).update(**changes)


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# --- the model's rules ------------------------------------------------------------------------


def test_the_database_refuses_a_case_without_a_court():
    refused_by_database(court="")


def test_the_database_refuses_a_case_without_docket_or_citation():
    refused_by_database(docket="", citation="")


def test_a_docket_alone_is_enough():
    case = CourtCaseFactory(published=True, citation="", docket="1:25-cv-00766-JEB")
    case.full_clean()


def test_the_form_explains_a_missing_docket_or_citation():
    case = CourtCaseFactory.build(
        published=True, citation="", docket="  ", jurisdiction=country("GB")
    )
    with pytest.raises(ValidationError) as error:
        case.full_clean(validate_constraints=False)
    assert "docket (case number) or the neutral citation" in str(error.value)


def test_the_database_refuses_a_decision_before_the_filing():
    refused_by_database(filed_on=datetime.date(2024, 1, 1), decided_on=datetime.date(2023, 1, 1))


def test_a_decided_case_needs_the_date_of_its_decision():
    refused_by_database(stage="decided", decided_on=None)


def test_a_pending_case_needs_no_decision_date():
    CourtCaseFactory(published=True, stage="pending", decided_on=None).full_clean()


def test_a_month_precision_date_is_stored_as_the_first_of_the_month():
    case = CourtCaseFactory.build(
        published=True,
        filed_on=datetime.date(2025, 10, 17),
        filed_precision="month",
        decided_on=None,
    )
    case.stage = "pending"
    case.full_clean(validate_constraints=False)
    assert case.filed_on == datetime.date(2025, 10, 1)
    assert case.filed_display == "October 2025"


def test_only_a_court_ruling_in_a_timeline_links_to_a_case():
    event = AgreementEventFactory(agreement__published=True, kind="signed")
    with pytest.raises(IntegrityError), transaction.atomic():
        type(event).objects.filter(pk=event.pk).update(court_case=CourtCaseFactory(published=True))


def test_the_reference_reads_citation_then_docket():
    case = CourtCaseFactory.build(
        published=True, citation="[2023] UKSC 42", docket="UKSC 2023/0093"
    )
    assert case.reference == "[2023] UKSC 42; UKSC 2023/0093"


# --- the one door ------------------------------------------------------------------------------


def test_a_case_without_a_source_cannot_be_published(publisher):
    case = CourtCaseFactory(publication_state="draft", sources=[])
    with pytest.raises(publishing.Refused, match="cites no source"):
        publishing.publish(case, publisher)
    case.refresh_from_db()
    assert case.publication_state == "draft"


def test_a_ruling_without_a_source_blocks_publishing(publisher):
    case = CourtCaseFactory(publication_state="draft")
    CourtRulingFactory(case=case, sources=[])
    with pytest.raises(publishing.Refused, match="ruling .* cites no source"):
        publishing.publish(case, publisher)


def test_an_editor_cannot_publish_a_case(editor):
    case = CourtCaseFactory(publication_state="draft")
    with pytest.raises(publishing.Refused):
        publishing.publish(case, editor)


def test_an_editors_change_to_a_published_case_is_a_proposal(editor_client):
    case = CourtCaseFactory(published=True, outcome="Held unlawful.")
    CourtRulingFactory(case=case)
    data = loaded_form(editor_client, change_url(case))
    data["outcome"] = "Held lawful."
    response = editor_client.post(change_url(case), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.outcome == "Held unlawful."
    proposal = ProposedRevision.objects.get(courtcase=case)
    assert proposal.data["fields"]["outcome"] == "Held lawful."
    assert len(proposal.data["rulings"]) == 1


def test_approving_a_proposal_changes_the_case_and_its_rulings(editor, publisher):
    case = CourtCaseFactory(published=True)
    ruling = CourtRulingFactory(case=case, description="First words.")
    data = revisions.snapshot(case)
    data["rulings"][0]["fields"]["description"] = "Better words."
    proposal = publishing.propose(case, data, editor, base_version=case.version)
    publishing.approve(proposal, publisher)
    ruling.refresh_from_db()
    assert ruling.description == "Better words."


def test_a_proposal_that_leaves_a_ruling_unsourced_is_refused(editor):
    case = CourtCaseFactory(published=True)
    CourtRulingFactory(case=case)
    data = revisions.snapshot(case)
    data["rulings"][0]["sources"] = []
    with pytest.raises(publishing.Refused, match="cites no source"):
        publishing.propose(case, data, editor, base_version=case.version)


def test_restoring_an_earlier_version_brings_back_its_rulings(publisher):
    case = CourtCaseFactory(publication_state="draft")
    source = SourceFactory()
    first = {
        "fields": revisions.snapshot_fields(case),
        "sources": [source.pk],
        "agreements": [],
        "rulings": [
            {
                "id": None,
                "fields": {"kind": "tro", "date": "2025-03-15", "date_precision": "day",
                           "court": "", "description": "A TRO.", "internal_notes": ""},
                "sources": [source.pk],
            }
        ],
    }  # fmt: skip
    publishing.edit(case, publisher, loaded_version=case.version, proposed=lambda: first,
                    write=lambda: revisions.write(case, first))  # fmt: skip
    version = case.history.order_by("-history_date").first()
    second = revisions.snapshot(case)
    second["rulings"] = []
    publishing.edit(case, publisher, loaded_version=case.version, proposed=lambda: second,
                    write=lambda: revisions.write(case, second))  # fmt: skip
    assert not case.rulings.exists()
    publishing.restore(case, version, publisher, loaded_version=case.version)
    assert list(case.rulings.values_list("description", flat=True)) == ["A TRO."]


def test_a_source_cited_by_a_case_cannot_be_deleted():
    source = SourceFactory()
    CourtCaseFactory(published=True, sources=[source])
    with pytest.raises(ProtectedError):
        source.delete()


def test_a_case_in_review_waits_in_the_review_queue(publisher_client):
    case = CourtCaseFactory(publication_state="in_review", name="Waiting v Minister")
    response = publisher_client.get(reverse("admin:agreements_review_queue"))
    assert case.name in body(response)


# --- public pages ------------------------------------------------------------------------------


def test_the_case_list_shows_published_cases_only(client):
    CourtCaseFactory(published=True, name="Published v Minister")
    CourtCaseFactory(name="Draft v Minister", publication_state="draft")
    page = body(client.get(reverse("case-list")))
    assert "Published v Minister" in page
    assert "Draft v Minister" not in page


@pytest.mark.parametrize(
    "query, shown",
    [
        ("stage=pending", "Pending v State"),
        ("court=High+Court+of+Australia", "Plaintiff v Commonwealth"),
        ("country=au", "Plaintiff v Commonwealth"),
        ("q=Plaintiff", "Plaintiff v Commonwealth"),
    ],
)
def test_the_case_list_filters(client, query, shown):
    CourtCaseFactory(published=True, name="Pending v State", stage="pending", decided_on=None)
    CourtCaseFactory(
        published=True,
        name="Plaintiff v Commonwealth",
        court="High Court of Australia",
        jurisdiction=country("AU"),
    )
    page = body(client.get(reverse("case-list") + "?" + query))
    names = {"Pending v State", "Plaintiff v Commonwealth"}
    assert shown in page
    assert all(name not in page for name in names - {shown})


def test_the_case_list_filters_by_agreement(client):
    agreement = AgreementFactory(published=True, slug="uk-rw-2022")
    CourtCaseFactory(published=True, name="About it v State", agreements=[agreement])
    CourtCaseFactory(published=True, name="Elsewhere v State")
    page = body(client.get(reverse("case-list") + "?agreement=uk-rw-2022"))
    assert "About it v State" in page and "Elsewhere v State" not in page


def test_the_country_filter_finds_cases_about_its_agreements_in_other_courts(client):
    agreement = AgreementFactory(
        published=True, sending_country=country("US"), receiving_country=country("SV")
    )
    CourtCaseFactory(
        published=True,
        name="Foreign court v State",
        jurisdiction=country("GB"),
        agreements=[agreement],
    )
    page = body(client.get(reverse("case-list") + "?country=sv"))
    assert "Foreign court v State" in page


@pytest.mark.parametrize(
    "query",
    ["stage=nonsense", "court=Nowhere", "country=zz", "agreement=%00", "ordering=zzz",
     "q=" + "x" * 500, "country=%00"],
)  # fmt: skip
def test_junk_filters_are_a_form_error_not_a_500(client, query):
    CourtCaseFactory(published=True)
    response = client.get(reverse("case-list") + "?" + query)
    assert response.status_code == 200


def test_the_court_menu_never_names_the_court_of_a_draft(client):
    CourtCaseFactory(court="Secret Tribunal", publication_state="draft")
    assert "Secret Tribunal" not in body(client.get(reverse("case-list")))


def test_a_case_page_shows_its_rulings_and_its_published_agreements_only(client):
    shown = AgreementFactory(published=True, title="Shown agreement")
    hidden = AgreementFactory(title="Draft agreement", publication_state="draft")
    case = CourtCaseFactory(published=True, agreements=[shown, hidden])
    CourtRulingFactory(case=case, kind="stay", description="The court stayed the flight.")
    page = body(client.get(case.get_absolute_url()))
    assert "The court stayed the flight." in page
    assert "Shown agreement" in page
    assert "Draft agreement" not in page


def test_a_draft_case_is_404_for_the_public_and_a_preview_for_staff(client, editor_client):
    case = CourtCaseFactory(publication_state="draft")
    from django.test import Client

    assert Client().get(case.get_absolute_url()).status_code == 404
    response = editor_client.get(case.get_absolute_url())
    assert response.status_code == 200
    assert "Preview" in body(response)


def test_a_withdrawn_case_is_gone_with_its_reason(client, publisher):
    case = CourtCaseFactory(published=True)
    publishing.withdraw(case, publisher, "The citation was wrong.")
    response = client.get(case.get_absolute_url())
    assert response.status_code == 410
    assert "The citation was wrong." in body(response)


def test_an_agreement_page_lists_its_published_cases(client):
    agreement = AgreementFactory(published=True)
    CourtCaseFactory(published=True, name="Listed v State", agreements=[agreement])
    CourtCaseFactory(name="Draft v State", agreements=[agreement], publication_state="draft")
    page = body(client.get(agreement.get_absolute_url()))
    assert "Listed v State" in page and "Draft v State" not in page


def test_a_timeline_ruling_links_to_its_case_only_when_the_case_is_public(client):
    agreement = AgreementFactory(published=True)
    public = CourtCaseFactory(published=True, name="Public v State")
    draft = CourtCaseFactory(name="Hidden v State", publication_state="draft")
    AgreementEventFactory(agreement=agreement, kind="court_ruling", court_case=public,
                          sources=[SourceFactory()])  # fmt: skip
    AgreementEventFactory(agreement=agreement, kind="court_ruling", court_case=draft,
                          date=datetime.date(2025, 4, 1), sources=[SourceFactory()])  # fmt: skip
    page = body(client.get(agreement.get_absolute_url()))
    assert public.get_absolute_url() in page
    assert draft.get_absolute_url() not in page and "Hidden v State" not in page


def test_a_country_page_lists_cases_in_its_courts_and_about_its_agreements(client):
    agreement = AgreementFactory(
        published=True, sending_country=country("GB"), receiving_country=country("RW")
    )
    CourtCaseFactory(
        published=True,
        name="About Rwanda v State",
        jurisdiction=country("GB"),
        agreements=[agreement],
    )
    CourtCaseFactory(published=True, name="Unrelated v State", jurisdiction=country("AU"))
    page = body(client.get(country("RW").get_absolute_url()))
    assert "About Rwanda v State" in page and "Unrelated v State" not in page


def test_the_case_list_does_not_grow_queries_with_cases(client, django_assert_max_num_queries):
    for _ in range(30):
        CourtCaseFactory(published=True)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("case-list")).status_code == 200


def test_a_case_page_does_not_grow_queries_with_rulings(client, django_assert_max_num_queries):
    case = CourtCaseFactory(
        published=True,
        agreements=[AgreementFactory(published=True), AgreementFactory(published=True)],
    )
    for day in range(1, 11):
        CourtRulingFactory(case=case, date=datetime.date(2024, 1, day))
    with django_assert_max_num_queries(10):
        assert client.get(case.get_absolute_url()).status_code == 200


# --- exports, API, sitemap ---------------------------------------------------------------------


def test_the_csv_lists_published_cases_with_their_rulings_and_published_agreements(client):
    shown = AgreementFactory(published=True, slug="shown-agreement")
    hidden = AgreementFactory(slug="hidden-agreement", publication_state="draft")
    case = CourtCaseFactory(published=True, slug="aaa", agreements=[shown, hidden])
    CourtRulingFactory(case=case, kind="tro", date=datetime.date(2025, 3, 15))
    CourtRulingFactory(case=case, kind="judgment", date=datetime.date(2025, 12, 1),
                       )  # fmt: skip
    CourtCaseFactory(slug="draft-case", publication_state="draft")
    rows = list(csv.DictReader(io.StringIO(body(client.get("/cases/export.csv")))))
    assert [row["slug"] for row in rows] == ["aaa"]
    assert rows[0]["agreements"] == "shown-agreement"
    assert rows[0]["rulings"] == "2025-03-15 tro|2025-12-01 judgment"


def test_the_json_download_and_the_api_agree(client):
    CourtCaseFactory(published=True, slug="k1", stage="pending", decided_on=None, jurisdiction=None,
                     court="Permanent Court of Arbitration", docket="PCA 2025-01", citation="")  # fmt: skip
    downloaded = json.loads(body(client.get("/cases/export.json")))
    api = client.get(reverse("api-list", args=["cases"])).json()
    assert downloaded[0]["jurisdiction"] is None
    assert api["results"][0]["slug"] == downloaded[0]["slug"] == "k1"


def test_the_api_filters_cases_and_refuses_junk(client):
    CourtCaseFactory(published=True, slug="decided-one")
    CourtCaseFactory(published=True, slug="pending-one", stage="pending", decided_on=None)
    found = client.get(reverse("api-list", args=["cases"]) + "?stage=pending").json()
    assert [row["slug"] for row in found["results"]] == ["pending-one"]
    assert client.get(reverse("api-list", args=["cases"]) + "?stage=junk").status_code == 400


def test_the_sitemap_lists_published_cases_only(client):
    CourtCaseFactory(published=True, slug="public-case")
    CourtCaseFactory(slug="draft-case", publication_state="draft")
    page = body(client.get("/sitemap-cases.xml"))
    assert "/cases/public-case/" in page and "draft-case" not in page


def test_the_search_page_finds_a_published_case_by_its_citation(client):
    CourtCaseFactory(published=True, name="Plaintiff M68 v Minister", citation="[2016] HCA 1")
    CourtCaseFactory(name="Unpublished M68 v Minister", publication_state="draft")
    page = body(client.get(reverse("search") + "?q=M68"))
    assert "Plaintiff" in page and "Unpublished" not in page


def test_a_published_case_and_its_withdrawal_are_in_the_change_log(client, publisher):
    case = CourtCaseFactory(publication_state="draft", name="Logged v State")
    publishing.publish(case, publisher)
    publishing.withdraw(case, publisher, "Duplicate of another case.")
    page = body(client.get(reverse("change-log")))
    assert page.count("Logged v State") == 2
    assert "Duplicate of another case." in page


def test_a_draft_case_is_not_in_the_change_log(client):
    CourtCaseFactory(publication_state="draft", name="Quiet v State")
    assert "Quiet v State" not in body(client.get(reverse("change-log")))


def test_an_editor_adds_a_case_with_a_ruling_and_submits_it(editor_client):
    source = SourceFactory()
    url = reverse("admin:agreements_courtcase_add")
    data = loaded_form(editor_client, url)
    data.update(
        {
            "name": "Applicant v Home Secretary",
            "slug": "applicant-v-home-secretary",
            "court": "Court of Appeal",
            "jurisdiction": str(country("GB").pk),
            "citation": "[2023] EWCA Civ 745",
            "filed_on": "2023-01-10",
            "decided_on": "2023-06-29",
            "stage": "decided",
            "sources": [str(source.pk)],
            "publication_state": "in_review",
            "rulings-TOTAL_FORMS": "1",
            "rulings-0-date": "2023-06-29",
            "rulings-0-date_precision": "day",
            "rulings-0-kind": "judgment",
            "rulings-0-description": "The appeal was allowed.",
            "rulings-0-sources": [str(source.pk)],
        }
    )
    data.pop("agreements", None)
    editor_client.post(url, data)
    case = CourtCase.objects.get(slug="applicant-v-home-secretary")
    assert case.publication_state == "in_review"
    assert case.rulings.get().description == "The appeal was allowed."


def test_the_admin_refuses_a_case_without_docket_or_citation(publisher_client):
    url = reverse("admin:agreements_courtcase_add")
    data = loaded_form(publisher_client, url)
    data.update({"name": "No Reference v State", "slug": "no-reference", "court": "High Court",
                 "stage": "pending", "rulings-TOTAL_FORMS": "0"})  # fmt: skip
    response = publisher_client.post(url, data)
    assert response.status_code == 200
    assert "docket (case number) or the neutral citation" in response.content.decode()
    assert not CourtCase.objects.filter(slug="no-reference").exists()


def test_an_editor_cannot_add_a_case_already_published(editor_client):
    url = reverse("admin:agreements_courtcase_add")
    data = loaded_form(editor_client, url)
    data.pop("agreements", None)
    data.update({"name": "Crafted v State", "slug": "crafted", "court": "High Court",
                 "citation": "[2024] EWHC 1", "stage": "pending", "sources": [str(SourceFactory().pk)],
                 "publication_state": "published", "rulings-TOTAL_FORMS": "0"})  # fmt: skip
    editor_client.post(url, data)
    assert not CourtCase.objects.filter(publication_state="published").exists()
