"""Full-text search across agreements, events, transfers and sources."""

import pytest

from agreements.search import search
from tests.factories import AgreementEventFactory, AgreementFactory, SourceFactory, TransferFactory

pytestmark = pytest.mark.django_db


def found(text, kind):
    return search(text)[kind][1]


def test_finds_an_agreement_by_a_word_in_its_summary():
    agreement = AgreementFactory(
        published=True, summary="Detainees are held at the Gjader facility."
    )
    assert found("gjader", "agreements") == [agreement]


def test_stems_words():
    agreement = AgreementFactory(published=True, summary="Several deportations followed.")
    assert found("deportation", "agreements") == [agreement]


def test_finds_a_source_by_a_word_in_its_title():
    source = SourceFactory(title="Eswatini confirms receipt of payment")
    AgreementEventFactory(agreement__published=True, sources=[source])
    assert found("receipt", "sources") == [source]


def test_a_title_match_ranks_above_a_body_match():
    in_body = AgreementFactory(
        published=True, title="Deal one", summary="The Nauru arrangement was renewed."
    )
    in_title = AgreementFactory(
        published=True, title="Nauru processing", summary="Offshore processing resumed."
    )
    assert found("nauru", "agreements") == [in_title, in_body]


def test_finds_events_and_transfers():
    event = AgreementEventFactory(
        agreement__published=True, description="A court in Juba heard the case."
    )
    transfer = TransferFactory(published=True, description="Flown via Djibouti.", place="Juba")
    assert found("juba", "events") == [event]
    assert found("juba", "transfers") == [transfer]


def test_drafts_and_their_parts_are_not_found():
    draft = AgreementFactory(publication_state="draft", summary="Secret Tuvalu talks")
    AgreementEventFactory(agreement=draft, description="Tuvalu ministers met.")
    TransferFactory(published=True, agreement=draft, description="Tuvalu flight")
    uncited = SourceFactory(title="Tuvalu report")
    AgreementEventFactory(agreement=draft, sources=[uncited])
    results = search("tuvalu")
    assert all(count == 0 for count, _ in results.values())


def test_matches_are_highlighted_and_markup_in_the_text_is_not_passed_through():
    AgreementFactory(published=True, summary="People held at <b onclick=x>CECOT</b> prison & more.")
    snippet = str(found("prison", "agreements")[0].snippet)
    assert "<mark>prison</mark>" in snippet
    assert "<b" not in snippet and "onclick" not in snippet


@pytest.mark.parametrize(
    "text",
    ['"unclosed', "(((", "a & b | !c", "-", "OR OR OR", "'; DROP TABLE x; --", "<script>", "::*:"],
)
def test_user_syntax_is_treated_safely(client, text):
    AgreementFactory(published=True, summary="Something to search")
    response = client.get("/search/", {"q": text})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("</header>")[1]


def test_web_search_syntax_works():
    both = AgreementFactory(
        published=True, summary="A safe third country agreement with Guatemala."
    )
    other = AgreementFactory(
        published=True, summary="A safe third country agreement with Honduras."
    )
    assert found('"safe third country" -guatemala', "agreements") == [other]
    assert set(found("guatemala or honduras", "agreements")) == {both, other}


def test_search_page_shows_groups(client):
    AgreementFactory(published=True, title="Albania protocol")
    content = client.get("/search/?q=albania").content.decode()
    assert "Agreements (1)" in content
    assert "<mark>Albania</mark>" in content


def test_the_list_text_filter_uses_full_text_search(client):
    AgreementFactory(published=True, title="Deportations to Rwanda")
    assert client.get("/agreements/?q=deportation").context["page_obj"].paginator.count == 1


# Runs of negation that Postgres would nest one NOT per hyphen ("tsquery stack too small").
NEGATION_RUNS = [
    "-" * 33,
    "-" * 200,
    "- " * 60,
    "-" * 40 + "word",
    '"' + "-" * 50 + '"',
    "a" + "-" * 60,
]


@pytest.mark.parametrize("text", NEGATION_RUNS)
@pytest.mark.parametrize(
    "path", ["/search/", "/agreements/", "/api/agreements/", "/agreements/export.csv"]
)
def test_runs_of_hyphens_get_a_result_not_a_server_error(client, settings, path, text):
    settings.RATELIMIT_ENABLED = False
    AgreementFactory(published=True, summary="A word to search")
    response = client.get(path, {"q": text})
    assert response.status_code == 200, (path, text)
    if response.streaming:  # the download must run to its end
        assert b"".join(response.streaming_content).startswith(b"slug,")


def test_a_negated_word_still_excludes_after_the_clean_up():
    kept = AgreementFactory(published=True, summary="Transfers to Honduras.")
    AgreementFactory(published=True, summary="Transfers to Guatemala.")
    assert found("transfers ---guatemala", "agreements") == [kept]


@pytest.mark.parametrize(
    "stored", ["\x02open only", "close only\x03", "\x03\x02 both, reversed", "nested \x02\x02 x"]
)
def test_marker_characters_in_stored_text_never_leave_a_mark_open(stored):
    from agreements.search import highlighted

    shown = str(highlighted(f"{stored} \x02match\x03 {stored}"))
    assert shown.count("<mark>") == shown.count("</mark>") == 1
    assert "<mark>match</mark>" in shown
