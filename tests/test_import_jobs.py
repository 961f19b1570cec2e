"""Imports of any size (issue 10, item 8): a file too large for a request is queued and run by
`manage.py run_import_jobs`; `manage.py import_csv` runs one directly; a wrong file is a message
for its author, never a traceback; the publishing rules hold on every path (docs/IMPORT.md)."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import imports
from agreements.models import (
    ImportJob,
    ImportState,
    ProposedRevision,
    Source,
)
from tests.factories import (
    AgreementFactory,
    ImportJobFactory,
    SourceFactory,
    UserFactory,
    sources_csv,
)

pytestmark = pytest.mark.django_db

SOURCES_IMPORT = reverse("admin:agreements_source_import")
WRONG_HEADERS = "link,name\nhttps://news.example.org/a,A story\n"


def upload(client, text, name="sources.csv"):
    return client.post(
        SOURCES_IMPORT,
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile(name, text.encode())},
    )


def no_traceback(text):
    return "Traceback" not in text and str(settings.BASE_DIR) not in text and ".py" not in text


def run_worker():
    out = StringIO()
    call_command("run_import_jobs", "--once", stdout=out)
    return out.getvalue()


def import_csv(*args, **options):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_csv", *args, stdout=out, stderr=err, **options)
    except CommandError as error:
        return False, out.getvalue(), err.getvalue() + str(error)
    return True, out.getvalue(), err.getvalue()


@pytest.fixture
def small_inline_limit(settings):
    """Files of more than 5 rows go to the worker (the default is about a thousand)."""
    settings.IMPORT_INLINE_MAX_ROWS = 5


@pytest.fixture
def csv_file(tmp_path):
    def write(text):
        path = tmp_path / "import.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


# --- a wrong file is a message -------------------------------------------------------------------


def test_wrong_headers_in_the_admin_are_a_form_error_listing_the_expected_columns(editor_client):
    response = upload(editor_client, WRONG_HEADERS)
    content = response.content.decode()
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["import_file"])
    assert "missing columns: url, title, kind" in errors
    assert "unknown columns: link, name" in errors
    assert "expected: url, title, publisher, published, accessed_on, archive_url, kind" in errors
    assert no_traceback(content)
    assert "confirm_form" not in response.context


def test_wrong_headers_in_a_file_large_enough_to_queue_are_a_form_error(
    editor_client, small_inline_limit
):
    response = upload(editor_client, sources_csv(20, header="link,name,publisher,published,kind"))
    assert response.status_code == 200
    assert "missing columns: url, title" in " ".join(response.context["form"].errors["import_file"])
    assert not ImportJob.objects.exists()


def test_wrong_headers_in_the_command_are_a_message_and_exit_status_1(editor, csv_file):
    ok, out, err = import_csv("sources", csv_file(WRONG_HEADERS), user=editor.username)
    assert not ok
    assert "missing columns: url, title, kind" in err and "unknown columns: link, name" in err
    assert no_traceback(out + err)


def test_the_command_exits_with_status_1_on_errors(editor, csv_file):
    with pytest.raises(CommandError) as refused:
        call_command("import_csv", "sources", csv_file(WRONG_HEADERS), user=editor.username,
                     stdout=StringIO(), stderr=StringIO())  # fmt: skip
    assert refused.value.returncode == 1  # what manage.py exits with
    assert "nothing was written" in str(refused.value)


def test_an_error_of_the_whole_import_shows_no_traceback_in_the_admin(editor_client, monkeypatch):
    from agreements.resources import SourceResource

    def fails(self, dataset, result, **kwargs):
        raise RuntimeError("the import could not finish")

    monkeypatch.setattr(SourceResource, "after_import", fails)
    content = upload(editor_client, sources_csv(2)).content.decode()
    assert "the import could not finish" in content
    assert no_traceback(content)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n\n", "The file is empty."),
        (b"url,title,kind\n", "a header row but no rows"),
        (b"url,title,kind\nhttps://a.example/1,Caf\xe9,news\n", "not UTF-8 text: byte"),
        (b"url,title,kind\nhttps://a.example/1,One,news,extra\n", "row 1: 4 cells"),
        (b"url,title,kind,url\nhttps://a.example/1,One,news,x\n", "repeated columns: url"),
        (
            b"url,title,,kind\nhttps://a.example/1,One,,news\n",
            "without a name in the header row: 3",
        ),
        (b"url ,title,kind\nhttps://a.example/1,One,news\n", "unknown columns: 'url '"),
    ],
)
def test_a_file_that_cannot_be_read_gets_a_clear_message(editor, data, message):
    outcome = imports.run_import("sources", data, editor)
    assert not outcome.ok and not outcome.written
    assert any(message in error for error in outcome.errors), outcome.errors
    assert not Source.objects.exists()


def test_a_utf8_file_with_a_byte_order_mark_imports(editor):
    outcome = imports.run_import("sources", "\ufeff" + sources_csv(2), editor)
    assert outcome.ok and Source.objects.count() == 2


def test_the_admin_refuses_a_file_that_is_not_utf8_with_a_message(editor_client):
    response = editor_client.post(
        SOURCES_IMPORT,
        {
            "format": "0",
            "resource": "0",
            "import_file": SimpleUploadedFile(
                "s.csv", b"url,title,kind\nhttps://a.example,\xe9,news"
            ),
        },
    )
    assert "not UTF-8" in " ".join(response.context["form"].errors["import_file"])


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(editor_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    response = upload(editor_client, sources_csv(50))
    assert "can be uploaded" in " ".join(response.context["form"].errors["import_file"])
    assert not ImportJob.objects.exists() and not Source.objects.exists()


def test_row_errors_name_the_row_and_the_column(editor):
    text = sources_csv(3) + "https://news.example.org/bad,Bad one,Paper,2025-13,news\n"
    text += "https://news.example.org/worse,Worse,Paper,,treaty\n"
    outcome = imports.run_import("sources", text, editor)
    assert outcome.errors == [
        "row 4: published: malformed date '2025-13': use YYYY-MM-DD, YYYY-MM or YYYY",
        "row 5: kind: Value 'treaty' is not a valid choice.",
    ]
    assert outcome.counts["rows_with_errors"] == 2
    assert not Source.objects.exists()


# --- large files leave the request ---------------------------------------------------------------


def test_a_large_file_is_queued_not_imported_in_the_request(
    editor_client, editor, small_inline_limit, django_assert_max_num_queries
):
    # The session, the user and their permissions (2), the job's INSERT, the message saved in
    # the session (3 with its savepoint): 8 whatever the file's size, none per row.
    with django_assert_max_num_queries(8):
        response = upload(editor_client, sources_csv(500))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert (job.state, job.row_count, job.created_by, job.kind) == (
        "queued",
        500,
        editor,
        "sources",
    )
    assert not Source.objects.exists()
    page = editor_client.get(response["Location"])
    assert "queued as import" in page.content.decode()


def test_a_file_within_the_limit_keeps_the_preview_and_confirm(editor_client, small_inline_limit):
    response = upload(editor_client, sources_csv(5))
    assert response.status_code == 200 and "confirm_form" in response.context
    assert not ImportJob.objects.exists() and not Source.objects.exists()


def test_the_worker_runs_a_queued_job_and_records_its_counts(
    editor_client, editor, small_inline_limit
):
    SourceFactory(url="https://news.example.org/import-0", title="Imported story 0",
                  publisher="Example News", published_on="2025-03-01", published_precision="month")  # fmt: skip
    Source.objects.filter(url="https://news.example.org/import-1").delete()
    upload(editor_client, sources_csv(8))
    output = run_worker()
    job = ImportJob.objects.get()
    assert job.state == ImportState.SUCCEEDED, job.errors
    assert job.counts == {
        "rows": 8, "new": 7, "updated": 0, "unchanged": 1, "proposals": 0, "rows_with_errors": 0,
    }  # fmt: skip
    assert job.started_at <= job.finished_at and job.attempts == 1 and job.errors == []
    assert Source.objects.count() == 8
    assert "succeeded" in output
    # The rows' history names the editor who uploaded the file, not the worker.
    history = Source.history.filter(url="https://news.example.org/import-5").get()
    assert history.history_user == editor


def test_a_job_with_one_bad_row_changes_nothing_and_records_the_rows_error(editor):
    text = sources_csv(30) + "https://news.example.org/bad,Bad,Paper,2025-14-01,news\n"
    job = ImportJobFactory(created_by=editor, content=text, row_count=31)
    run_worker()
    job.refresh_from_db()
    assert job.state == ImportState.FAILED
    assert job.errors == [
        "row 31: published: malformed date '2025-14-01': use YYYY-MM-DD, YYYY-MM or YYYY"
    ]
    assert not Source.objects.exists()
    assert not Source.history.exists()


def test_an_editors_job_that_changes_a_published_record_makes_proposals(editor, publisher):
    cited = SourceFactory(url="https://news.example.org/import-0", title="Original title")
    AgreementFactory(published=True, sources=[cited])  # published: the source is on a public page
    job = ImportJobFactory(created_by=editor, content=sources_csv(3), row_count=3)
    run_worker()
    job.refresh_from_db()
    cited.refresh_from_db()
    proposal = ProposedRevision.objects.get(source=cited)
    assert job.state == ImportState.SUCCEEDED, job.errors
    assert cited.title == "Original title"  # the live record waits for review
    assert proposal.data["fields"]["title"] == "Imported story 0"
    assert proposal.proposed_by == editor and proposal.kind == "import"
    assert list(job.proposals.all()) == [proposal]
    assert (job.counts["proposals"], job.counts["new"], job.counts["updated"]) == (1, 2, 0)


def test_a_publishers_job_changes_the_published_record_at_once(publisher):
    cited = SourceFactory(url="https://news.example.org/import-0", title="Original title")
    AgreementFactory(published=True, sources=[cited])
    job = ImportJobFactory(created_by=publisher, content=sources_csv(1), row_count=1)
    run_worker()
    job.refresh_from_db()
    cited.refresh_from_db()
    assert cited.title == "Imported story 0" and not job.proposals.exists()
    assert job.counts["updated"] == 1


def test_the_job_page_shows_counts_errors_and_proposals(editor_client, editor):
    failed = ImportJobFactory(created_by=editor, content=sources_csv(1) + "x,,,,\n", row_count=2)
    run_worker()
    content = editor_client.get(failed.get_absolute_url()).content.decode()
    assert "Nothing was written: 1 of 2 rows have errors" in content
    assert "<li>row 2: url: Enter a valid URL.</li>" in content


def test_a_user_who_lost_the_permission_after_queueing_imports_nothing(editor):
    job = ImportJobFactory(created_by=editor)
    editor.is_staff = False
    editor.save()
    run_worker()
    job.refresh_from_db()
    assert job.state == ImportState.FAILED and "may not import sources" in job.errors[0]
    assert not Source.objects.exists()


def test_an_import_bumps_the_content_version_once_not_per_row(editor):
    with CaptureQueriesContext(connection) as queries:
        outcome = imports.run_import("sources", sources_csv(20), editor)
    assert outcome.ok
    bumps = [q for q in queries.captured_queries if "agreements_contentversion" in q["sql"]]
    assert len(bumps) == 1


# --- who sees which jobs ---------------------------------------------------------------------------


def test_an_editor_cannot_see_another_editors_job(editor_client):
    theirs = ImportJobFactory(file_name="someone-elses.csv")
    response = editor_client.get(theirs.get_absolute_url())
    assert response.status_code == 302  # "does not exist", like any record one may not see
    listing = editor_client.get(reverse("admin:agreements_importjob_changelist"))
    assert listing.status_code == 200
    assert "someone-elses.csv" not in listing.content.decode()


def test_an_editor_sees_their_own_jobs(editor_client, editor):
    mine = ImportJobFactory(created_by=editor, file_name="mine.csv")
    assert editor_client.get(mine.get_absolute_url()).status_code == 200
    listing = editor_client.get(reverse("admin:agreements_importjob_changelist"))
    assert "mine.csv" in listing.content.decode()


def test_publishers_see_every_job(publisher_client):
    job = ImportJobFactory(file_name="an-editors.csv")
    assert publisher_client.get(job.get_absolute_url()).status_code == 200


def test_nobody_changes_a_job_in_the_admin(publisher_client):
    job = ImportJobFactory()
    response = publisher_client.post(
        reverse("admin:agreements_importjob_change", args=[job.pk]), {"state": "succeeded"}
    )
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.state == ImportState.QUEUED


def test_a_user_who_may_not_import_sees_no_jobs(client):
    viewer = UserFactory()  # staff, no permissions
    client.force_login(viewer)
    ImportJobFactory()
    assert client.get(reverse("admin:agreements_importjob_changelist")).status_code == 403


# --- the command ---------------------------------------------------------------------------------


def test_the_command_imports_a_file_as_the_user(editor, csv_file):
    ok, out, err = import_csv("sources", csv_file(sources_csv(4)), user=editor.username)
    assert ok, err
    assert "4 rows imported: 4 new" in out
    assert Source.objects.count() == 4
    assert {h.history_user for h in Source.history.all()} == {editor}


def test_the_command_dry_run_writes_nothing(editor, csv_file):
    ok, out, _ = import_csv("sources", csv_file(sources_csv(4)), user=editor.username, dry_run=True)
    assert ok and "dry run" in out and "4 new" in out
    assert not Source.objects.exists()


def test_the_command_refuses_a_non_staff_user(csv_file):
    User.objects.create_user("outsider", password="a-long-outsider-password")
    ok, _, err = import_csv("sources", csv_file(sources_csv(2)), user="outsider")
    assert not ok and "may not import sources" in err
    assert not Source.objects.exists()


def test_the_command_refuses_staff_without_the_add_permission(csv_file):
    UserFactory(username="viewer")
    ok, _, err = import_csv("sources", csv_file(sources_csv(2)), user="viewer")
    assert not ok and "allowed to add sources" in err
    assert not Source.objects.exists()


def test_the_command_refuses_an_unknown_user(csv_file):
    ok, _, err = import_csv("sources", csv_file(sources_csv(2)), user="nobody")
    assert not ok and "No user 'nobody'" in err


# --- workers ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_take_the_same_job():
    first, second = ImportJobFactory(), ImportJobFactory()
    claimed, holding, release = {}, threading.Event(), threading.Event()

    def worker_a():
        try:
            with transaction.atomic():  # A has locked its job and not yet committed the claim
                claimed["a"] = imports.claim_next()
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=worker_a)
    thread.start()
    assert holding.wait(10)
    claimed["b"] = imports.claim_next()  # worker B, meanwhile, on its own connection
    release.set()
    thread.join(10)
    claimed["c"] = imports.claim_next()  # after A committed: nothing left
    assert (claimed["a"].pk, claimed["b"].pk, claimed["c"]) == (first.pk, second.pk, None)
    assert set(ImportJob.objects.values_list("state", "attempts")) == {("running", 1)}


@pytest.mark.django_db(transaction=True)
def test_a_running_job_is_queued_again_only_when_its_worker_is_gone():
    job = ImportJobFactory()
    imports.claim_next()
    long_after = timezone.now() + imports.stale_after() + timedelta(seconds=1)
    holding, release = threading.Event(), threading.Event()

    def live_worker():  # holds the job's row as run_job does while importing
        try:
            with transaction.atomic():
                ImportJob.objects.select_for_update().get(pk=job.pk)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=live_worker)
    thread.start()
    assert holding.wait(10)
    assert imports.requeue_abandoned(now=long_after) == ([], [])  # alive, however long
    release.set()
    thread.join(10)
    assert imports.requeue_abandoned(now=timezone.now()) == ([], [])  # gone, but only just
    requeued, _ = imports.requeue_abandoned(now=long_after)
    assert [j.pk for j in requeued] == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.started_at) == (ImportState.QUEUED, None)


def test_a_job_abandoned_too_often_fails_with_a_message():
    job = ImportJobFactory(
        state=ImportState.RUNNING,
        started_at=timezone.now() - timedelta(days=1),
        attempts=imports.MAX_ATTEMPTS,
    )
    _, failed = imports.requeue_abandoned()
    job.refresh_from_db()
    assert [j.pk for j in failed] == [job.pk] and job.state == ImportState.FAILED
    assert "stopped without finishing 3 times" in job.errors[0]


def test_the_worker_queues_abandoned_jobs_again_when_it_starts(editor):
    job = ImportJobFactory(
        created_by=editor, state=ImportState.RUNNING,
        started_at=timezone.now() - timedelta(hours=2), attempts=1,
    )  # fmt: skip
    output = run_worker()
    job.refresh_from_db()
    assert "Queued again" in output
    assert job.state == ImportState.SUCCEEDED and job.attempts == 2


def test_a_worker_that_stops_mid_job_gives_it_back_with_nothing_written(editor, monkeypatch):
    from agreements.management.commands import run_import_jobs

    job = ImportJobFactory(created_by=editor)

    def stopped(*args, **kwargs):
        Source.objects.create(url="https://half.example/1", title="Half-done")
        raise run_import_jobs.Stop

    monkeypatch.setattr(imports, "run_import", stopped)
    output = run_worker()
    job.refresh_from_db()
    assert "stopped" in output
    assert (job.state, job.started_at, job.attempts) == (ImportState.QUEUED, None, 0)
    assert not Source.objects.exists()


def test_an_unexpected_error_fails_the_job_with_a_message_not_a_traceback(editor, monkeypatch):
    job = ImportJobFactory(created_by=editor)
    monkeypatch.setattr(imports, "run_import", lambda *a, **k: 1 / 0)
    run_worker()
    job.refresh_from_db()
    assert job.state == ImportState.FAILED
    assert job.errors == [
        "The import stopped with an unexpected error (ZeroDivisionError); nothing was written. "
        "The details are in the worker's log."
    ]


# --- the job's states hold in the database --------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"state": "queued", "started_at": timezone.now()},
        {"state": "running", "started_at": None},
        {"state": "succeeded", "started_at": timezone.now(), "finished_at": None},
        {
            "state": "succeeded",
            "started_at": timezone.now(),
            "finished_at": timezone.now() - timedelta(hours=1),
        },
        {"state": "failed", "started_at": timezone.now(), "finished_at": timezone.now()},
        {
            "state": "succeeded",
            "started_at": timezone.now(),
            "finished_at": timezone.now(),
            "errors": ["row 1: no"],
        },
        {"state": "paused"},
        {"kind": "countries"},
    ],
)
def test_the_database_refuses_a_job_whose_state_and_times_disagree(values):
    job = ImportJobFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(**values)


# --- size ------------------------------------------------------------------------------------------


def test_a_large_sources_file_imports_fully_through_the_worker(editor):
    """1,500 rows, past the admin's default limit; scripts/import_timing.py measures 7,000 and
    30,000 (docs/IMPORT.md has the numbers)."""
    job = ImportJobFactory(created_by=editor, content=sources_csv(1500), row_count=1500)
    run_worker()
    job.refresh_from_db()
    assert job.state == ImportState.SUCCEEDED, job.errors
    assert job.counts["new"] == Source.objects.count() == 1500
