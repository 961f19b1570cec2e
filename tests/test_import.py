"""CSV import for editors: previewed, all-or-nothing, idempotent, with per-row reasons."""

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.models import Agreement, Source, Transfer
from agreements.resources import AgreementResource, SourceResource, TransferResource
from tests.factories import AgreementFactory, SourceFactory

pytestmark = pytest.mark.django_db

AGREEMENT_HEADERS = [
    "slug",
    "title",
    "sending_country",
    "receiving_country",
    "kind",
    "status",
    "signed",
    "sources",
]


def dataset(headers, rows):
    return tablib.Dataset(*rows, headers=headers)


def import_agreements(rows, dry_run=False):
    return AgreementResource().import_data(
        dataset(AGREEMENT_HEADERS, rows), dry_run=dry_run, use_transactions=True
    )


@pytest.fixture
def source():
    return SourceFactory(url="https://news.example.org/deal")


GOOD_ROWS = [
    ["us-xx-2025", "US - Kosovo deal", "US", "XK", "informal_arrangement", "in_force", "2025-06", "https://news.example.org/deal"],
    ["gb-rw-2022", "UK - Rwanda partnership", "gb", "rw", "memorandum_of_understanding", "terminated", "2022-04-14", "https://news.example.org/deal"],
]  # fmt: skip


def test_a_good_file_imports_every_row_as_drafts(source):
    result = import_agreements(GOOD_ROWS)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Agreement.objects.count() == 2
    kosovo = Agreement.objects.get(slug="us-xx-2025")
    assert (kosovo.signed_on.isoformat(), kosovo.signed_precision) == ("2025-06-01", "month")
    assert list(kosovo.sources.all()) == [source]
    assert set(Agreement.objects.values_list("publication_state", flat=True)) == {"draft"}


def test_importing_the_same_file_twice_creates_no_duplicates(source):
    import_agreements(GOOD_ROWS)
    result = import_agreements(GOOD_ROWS)
    assert Agreement.objects.count() == 2
    assert {row.import_type for row in result.rows} == {"skip"}


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (
            [
                "bad-1",
                "Bad",
                "US",
                "QQ",
                "unknown",
                "reported",
                "",
                "https://news.example.org/deal",
            ],
            "unknown country code 'QQ'",
        ),
        (
            [
                "bad-2",
                "Bad",
                "US",
                "SV",
                "unknown",
                "reported",
                "2025-14-01",
                "https://news.example.org/deal",
            ],
            "malformed date '2025-14-01'",
        ),
        (["bad-3", "Bad", "US", "SV", "unknown", "reported", "", ""], "missing source"),
        (
            ["bad-4", "Bad", "US", "SV", "unknown", "reported", "", "https://nowhere.example/x"],
            "unknown source URL",
        ),
        (
            [
                "bad-5",
                "Bad",
                "US",
                "US",
                "unknown",
                "reported",
                "",
                "https://news.example.org/deal",
            ],
            "must differ",
        ),
        (
            ["bad-6", "Bad", "US", "SV", "treaty", "reported", "", "https://news.example.org/deal"],
            "not a valid choice",
        ),
    ],
)
def test_one_bad_row_imports_nothing_and_says_which_row_and_why(source, bad_row, reason):
    result = import_agreements([*GOOD_ROWS, bad_row])
    assert result.has_errors() or result.has_validation_errors()
    assert Agreement.objects.count() == 0
    messages = [str(error.error) for _, errors in result.row_errors() for error in errors]
    messages += [
        f"{message}"
        for row in result.invalid_rows
        for messages_ in row.error_dict.values()
        for message in messages_
    ]
    row_numbers = [number for number, _ in result.row_errors()] + [
        row.number for row in result.invalid_rows
    ]
    assert row_numbers == [3]
    assert any(reason in message for message in messages), messages


def test_transfers_import_with_nationalities_and_sources(source):
    AgreementFactory(published=True, slug="us-sv-2025")
    headers = [
        "agreement",
        "date",
        "from_country",
        "to_country",
        "people",
        "nationalities",
        "sources",
    ]
    rows = [
        ["us-sv-2025", "2025-03-16", "US", "SV", "261", "VE|SV", "https://news.example.org/deal"]
    ]
    for _ in range(2):
        result = TransferResource().import_data(dataset(headers, rows), use_transactions=True)
        assert not result.has_errors() and not result.has_validation_errors()
    transfer = Transfer.objects.get()
    assert sorted(transfer.nationalities.values_list("code", flat=True)) == ["SV", "VE"]
    assert transfer.publication_state == "draft"


def test_a_transfer_without_a_source_is_refused(source):
    headers = [
        "agreement",
        "date",
        "from_country",
        "to_country",
        "people",
        "nationalities",
        "sources",
    ]
    result = TransferResource().import_data(
        dataset(headers, [["", "2025-03-16", "US", "SV", "3", "", ""]])
    )
    assert result.has_errors()
    assert Transfer.objects.count() == 0


def test_sources_import_by_url():
    headers = ["url", "title", "publisher", "published", "kind"]
    rows = [["https://a.example/1", "Story", "Paper", "2025-03", "news"]]
    for _ in range(2):
        SourceResource().import_data(dataset(headers, rows), use_transactions=True)
    assert Source.objects.get().published_precision == "month"


def test_publication_state_is_never_imported(source):
    headers = [*AGREEMENT_HEADERS, "publication_state"]
    AgreementResource().import_data(
        dataset(headers, [[*GOOD_ROWS[0], "published"]]), use_transactions=True
    )
    assert Agreement.objects.get().publication_state == "draft"


def test_export_round_trips_through_import(source):
    import_agreements(GOOD_ROWS)
    exported = AgreementResource().export()
    assert "2025-06" in exported.csv
    Agreement.objects.all().delete()
    result = AgreementResource().import_data(exported, use_transactions=True)
    assert not result.has_errors() and Agreement.objects.count() == 2


def test_admin_import_previews_then_reports_errors_by_row(editor_client, source):
    csv = "\n".join(
        [
            ",".join(AGREEMENT_HEADERS),
            ",".join(GOOD_ROWS[0]),
            "bad-1,Bad,US,QQ,unknown,reported,,https://news.example.org/deal",
        ]
    )
    response = editor_client.post(
        reverse("admin:agreements_agreement_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("a.csv", csv.encode())},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "unknown country code" in content and "QQ" in content
    assert Agreement.objects.count() == 0


def test_admin_import_preview_changes_nothing_until_confirmed(editor_client, source):
    csv = "\n".join([",".join(AGREEMENT_HEADERS), ",".join(GOOD_ROWS[0])])
    response = editor_client.post(
        reverse("admin:agreements_agreement_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("a.csv", csv.encode())},
    )
    assert response.status_code == 200
    assert "us-xx-2025" in response.content.decode()
    assert Agreement.objects.count() == 0
    confirm = response.context["confirm_form"]
    data = {name: confirm[name].value() for name in confirm.fields}
    response = editor_client.post(reverse("admin:agreements_agreement_process_import"), data)
    assert response.status_code == 302
    assert Agreement.objects.count() == 1


def test_the_admin_export_neutralises_formulas_and_reimports_unchanged(source):
    agreement = AgreementFactory(
        published=True,
        slug="formula-deal",
        title='=HYPERLINK("http://x")',
        summary="-2+3",
        sources=[source],
    )
    exported = AgreementResource().export(Agreement.objects.filter(pk=agreement.pk))
    row = exported.dict[0]
    assert (row["title"], row["summary"]) == ('\'=HYPERLINK("http://x")', "'-2+3")
    result = AgreementResource().import_data(
        tablib.Dataset().load(exported.export("csv"), format="csv"), use_transactions=True
    )
    assert not result.has_errors() and not result.has_validation_errors()
    agreement.refresh_from_db()
    assert (agreement.title, agreement.summary) == ('=HYPERLINK("http://x")', "-2+3")


def test_the_header_row_is_checked_before_any_row_runs():
    assert SourceResource.header_problems(["url", "title", "kind", "publisher"]) == []
    assert AgreementResource.header_problems([*AGREEMENT_HEADERS, "publication_state"]) == []
    problems = SourceResource.header_problems(["link", "name", "kind"])
    assert problems[:2] == ["missing columns: url, title", "unknown columns: link, name"]
    assert problems[2].startswith("expected: url, title, publisher, published, accessed_on")


def test_a_new_row_the_database_refuses_gets_the_constraints_message(source):
    # New rows are checked by the database's constraints when inserted, not queried one by one
    # beforehand; the refusal reads as the model's own message.
    # The rows after it are still checked (the refused insert is rolled back on its own).
    result = import_agreements([[*GOOD_ROWS[0][:3], "US", *GOOD_ROWS[0][4:]], GOOD_ROWS[1]])
    messages = [str(error.error) for _, errors in result.row_errors() for error in errors]
    messages += [m for row in result.invalid_rows for ms in row.error_dict.values() for m in ms]
    assert messages == ["The sending and receiving country must differ."]
    assert [row.number for row in result.invalid_rows] == [1]
    assert result.totals["new"] == 1
    assert Agreement.objects.count() == 0


def test_a_changed_row_is_checked_in_full_before_it_can_become_a_proposal(editor, source):
    from agreements.models import ProposedRevision

    AgreementFactory(published=True, slug="us-xx-2025", sources=[source])
    row = [*GOOD_ROWS[0][:3], "US", *GOOD_ROWS[0][4:]]  # sent from and to the same country
    result = AgreementResource().import_data(dataset(AGREEMENT_HEADERS, [row]), user=editor)
    assert result.has_validation_errors()
    assert not ProposedRevision.objects.exists()
    assert Agreement.objects.get().sending_country != Agreement.objects.get().receiving_country
