"""CSV imports of any size, for the admin, `manage.py import_csv` and the import worker.

`run_import(kind, data, user)` is the one way a whole file is imported outside the admin's
preview: it reads the file (UTF-8, CSV, the header row checked before any row runs), imports
every row through the kind's resource (agreements/resources.py: all or nothing, and through
agreements/publishing.py, so an editor's row that changes a published record becomes a proposed
revision) as `user`, and returns an `Outcome`: counts and errors as messages for people, never
a traceback.

A file larger than the admin imports while the editor waits (IMPORT_INLINE_MAX_ROWS) becomes an
`ImportJob`; `manage.py run_import_jobs` claims queued jobs (`claim_next`, SKIP LOCKED, so two
workers never take one job) and runs each (`run_job`) in one transaction that holds the job's
row lock from start to end and records the outcome with the rows it wrote. A job still "running"
whose row nobody holds, started more than IMPORT_JOB_STALE_SECONDS ago, belongs to a worker that
died: `requeue_abandoned` queues it again (or fails it after MAX_ATTEMPTS). docs/IMPORT.md.
"""

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from agreements import publishing
from agreements.models import ImportJob, ImportKind, ImportState
from agreements.resources import (
    AgreementResource,
    PartialDateField,
    SourceResource,
    TransferResource,
)

logger = logging.getLogger(__name__)

RESOURCES = {
    ImportKind.SOURCES: SourceResource,
    ImportKind.AGREEMENTS: AgreementResource,
    ImportKind.TRANSFERS: TransferResource,
}
# At most this many error messages are kept for one import; the rest are counted.
MAX_MESSAGES = 100
# A job whose worker died this many times is failed rather than queued again: it may be the
# file that kills the worker (memory).
MAX_ATTEMPTS = 3


def inline_max_rows() -> int:
    """Files with more data rows than this are imported in the background, not in the request.
    The admin's preview and its confirmation each import the file: on the development machine
    1,000 rows took 9 s (sources), 27 s (agreements) and 47 s (transfers) each, against
    gunicorn's 30 s; 250 leaves room for slower rows and a busier database."""
    return settings.IMPORT_INLINE_MAX_ROWS


def max_upload_bytes() -> int:
    """The largest file the admin accepts (nginx's client_max_body_size is the same 10 MB)."""
    return settings.IMPORT_MAX_UPLOAD_BYTES


def stale_after() -> timedelta:
    """How long a job may be "running" with no worker holding it before it is queued again."""
    return timedelta(seconds=settings.IMPORT_JOB_STALE_SECONDS)


def may_import(user, kind) -> bool:
    """The admin's rule for importing, everywhere: active staff allowed to add that model."""
    model = ImportKind(kind).model
    return bool(
        user is not None
        and user.is_active
        and user.is_staff
        and user.has_perm(f"agreements.add_{model._meta.model_name}")
    )


def may_see_jobs(user) -> bool:
    return any(may_import(user, kind) for kind in ImportKind)


# --- reading the file ------------------------------------------------------------------------------


@dataclass
class CsvFile:
    """A file as read: its text, header and rows, or why it cannot be imported."""

    text: str = ""
    headers: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def dataset(self):
        return tablib.Dataset(*self.rows, headers=self.headers)


def read_csv(data, resource_class) -> CsvFile:
    """Decode and parse data (bytes or text) as a CSV for resource_class and check its header
    row; no row is imported. Rows are numbered from the first below the header, as the admin's
    preview numbers them; blank lines are skipped and short rows padded, as there."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            return CsvFile(
                errors=[
                    f"The file is not UTF-8 text: byte {error.start + 1} (0x"
                    f"{data[error.start]:02x}) is not UTF-8. Save it from the spreadsheet as "
                    "“CSV UTF-8” and try again."
                ]
            )
    else:
        text = data.removeprefix("\ufeff")
    if not text.strip():
        return CsvFile(text=text, errors=["The file is empty."])
    headers, rows = None, []
    try:
        for cells in csv.reader(io.StringIO(text, newline="")):
            if headers is None:
                headers = cells
                continue
            if not cells:
                continue
            if len(cells) > len(headers):
                return CsvFile(
                    text=text,
                    headers=headers,
                    errors=[
                        f"row {len(rows) + 1}: {len(cells)} cells, but the header row has "
                        f"{len(headers)} columns (is a comma missing its quotes?)"
                    ],
                )
            rows.append(cells + [""] * (len(headers) - len(cells)))
    except csv.Error as error:
        return CsvFile(text=text, errors=[f"row {len(rows) + 1}: not readable as CSV ({error})"])
    headers = headers or []
    problems = resource_class.header_problems(headers)
    if problems:
        return CsvFile(
            text=text,
            headers=headers,
            errors=["The header row is wrong: " + "; ".join(problems) + "."],
        )
    if not rows:
        return CsvFile(
            text=text, headers=headers, errors=["The file has a header row but no rows to import."]
        )
    return CsvFile(text=text, headers=headers, rows=rows)


# --- importing -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What an import did (or, for a dry run or a failure, would have done)."""

    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    proposals: list = field(default_factory=list)  # ProposedRevisions made (none unless written)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return summarize(self.counts, written=self.written, ok=self.ok)


def summarize(counts, *, written, ok) -> str:
    rows = counts.get("rows", 0)
    if not ok:
        bad = counts.get("rows_with_errors")
        which = f"{bad:,} of {rows:,} rows have errors" if bad else "the file cannot be imported"
        return f"Nothing was written: {which}."
    parts = [
        f"{counts.get('new', 0):,} new",
        f"{counts.get('updated', 0):,} updated",
        f"{counts.get('unchanged', 0):,} unchanged",
        f"{counts.get('proposals', 0):,} kept as proposed revisions for a publisher to review",
    ]
    verb = "imported" if written else "checked (dry run: nothing was written)"
    return f"{rows:,} rows {verb}: " + ", ".join(parts) + "."


def run_import(kind, data, user, *, dry_run=False) -> Outcome:
    """Import a whole CSV file (bytes or text) of kind as user: all of it or nothing."""
    kind = ImportKind(kind)
    if not may_import(user, kind):
        return Outcome(
            errors=[
                f"{user} may not import {kind.label.lower()}: that needs an active staff account "
                f"allowed to add {kind.model._meta.verbose_name_plural}."
            ]
        )
    resource_class = RESOURCES[kind]
    parsed = read_csv(data, resource_class)
    if parsed.errors:
        return Outcome(counts={"rows": len(parsed.rows)}, errors=parsed.errors)
    resource = resource_class()
    result = resource.import_data(parsed.dataset(), dry_run=dry_run, raise_errors=False, user=user)
    errors = result_errors(result, resource)
    totals = result.totals
    proposals = list(getattr(result, "proposals", []))
    counts = {
        "rows": result.total_rows,
        "new": totals["new"],
        "updated": totals["update"] - len(proposals),
        "unchanged": totals["skip"],
        "proposals": len(proposals),
        "rows_with_errors": totals["error"] + totals["invalid"],
    }
    written = not dry_run and not errors
    return Outcome(
        counts=counts, errors=errors, proposals=proposals if written else [], written=written
    )


def result_errors(result, resource) -> list[str]:
    """Every error of an import result as "row 12: …" messages, in row order."""
    columns = {}
    for name, resource_field in resource.fields.items():
        columns[resource_field.attribute or name] = resource_field.column_name
        if isinstance(resource_field, PartialDateField):
            columns[resource_field.precision_attribute] = resource_field.column_name
    found = [(0, f"the import stopped: {describe(error.error)}") for error in result.base_errors]
    for number, errors in result.row_errors():
        found += [(number, f"row {number}: {describe(error.error)}") for error in errors]
    for row in result.invalid_rows:
        for name, texts in row.error_dict.items():
            where = "" if name == NON_FIELD_ERRORS else f"{columns.get(name, name)}: "
            found += [(row.number, f"row {row.number}: {where}{text}") for text in texts]
    messages = [message for _, message in sorted(found, key=lambda pair: pair[0])]
    if len(messages) > MAX_MESSAGES:
        rest = len(messages) - MAX_MESSAGES
        messages = messages[:MAX_MESSAGES] + [f"… and {rest:,} more errors not listed here."]
    return messages


def describe(error) -> str:
    """An exception raised by a row, as a sentence for its author (never a traceback)."""
    if isinstance(error, publishing.Refused):
        return error.message
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, ValueError | LookupError):
        return str(error)
    if isinstance(error, DatabaseError):
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        return "the database refused it: " + " ".join(lines)
    logger.error("import row failed", exc_info=error)
    return f"could not be imported ({type(error).__name__}); the details are in the server log"


# --- background jobs -------------------------------------------------------------------------------


def queue(kind, file_name, parsed: CsvFile, user) -> ImportJob:
    """Keep a checked file as a job for the worker."""
    return ImportJob.objects.create(
        kind=kind,
        file_name=file_name[:255],
        content=parsed.text,
        row_count=len(parsed.rows),
        created_by=user,
    )


def claim_next() -> ImportJob | None:
    """Take the oldest queued job, or None. Rows another worker is claiming are skipped, and a
    claimed job is "running" when this commits: no two workers take one job."""
    with transaction.atomic():
        job = (
            ImportJob.objects.queued()
            .select_for_update(skip_locked=True)
            .order_by("created_at", "id")
            .defer("content")
            .first()
        )
        if job is None:
            return None
        job.state = ImportState.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.save(update_fields=["state", "started_at", "attempts"])
        return job


def run_job(job) -> ImportJob:
    """Run a claimed job as its author and record the outcome, in one transaction: the job's row
    stays locked while it runs (a live worker's job is never taken for abandoned), and its state
    commits with the rows it wrote, or with nothing written."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("created_by").get(pk=job.pk)
        if job.state != ImportState.RUNNING:
            return job  # queued again meanwhile (its worker was taken for dead): not ours
        logger.info("import #%s of %s rows of %s started", job.pk, job.row_count, job.kind)
        outcome = run_import(job.kind, job.content, job.created_by)
        job.state = ImportState.SUCCEEDED if outcome.ok else ImportState.FAILED
        job.finished_at = max(timezone.now(), job.started_at)
        job.counts = outcome.counts
        job.errors = outcome.errors
        job.save(update_fields=["state", "finished_at", "counts", "errors"])
        job.proposals.set(outcome.proposals)
    logger.info("import #%s %s: %s", job.pk, job.state, outcome.summary())
    return job


def fail(job, message) -> None:
    """Record that a claimed job stopped without an outcome (nothing of it was written)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.state != ImportState.RUNNING:
            return
        job.state = ImportState.FAILED
        job.finished_at = max(timezone.now(), job.started_at)
        job.errors = [message]
        job.save(update_fields=["state", "finished_at", "errors"])


def give_back(job) -> None:
    """Queue a job again that this worker claimed but will not finish (it is stopping)."""
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk, state=ImportState.RUNNING).update(
            state=ImportState.QUEUED, started_at=None, attempts=max(job.attempts - 1, 0)
        )


def requeue_abandoned(now=None) -> tuple[list, list]:
    """Queue again the jobs whose worker died: "running", started over IMPORT_JOB_STALE_SECONDS
    ago, and not locked (a live worker holds its job's row until it finishes). A job abandoned
    MAX_ATTEMPTS times fails instead. Returns (requeued, failed)."""
    now = now or timezone.now()
    requeued, failed = [], []
    with transaction.atomic():
        abandoned = (
            ImportJob.objects.filter(state=ImportState.RUNNING, started_at__lt=now - stale_after())
            .select_for_update(skip_locked=True)
            .defer("content")
        )
        for job in abandoned:
            if job.attempts >= MAX_ATTEMPTS:
                job.state = ImportState.FAILED
                job.finished_at = max(now, job.started_at)
                job.errors = [
                    f"The import stopped without finishing {job.attempts} times (the worker "
                    "running it was stopped or ran out of memory); nothing was written. Split "
                    "the file into smaller ones and import them one by one."
                ]
                job.save(update_fields=["state", "finished_at", "errors"])
                failed.append(job)
            else:
                job.state = ImportState.QUEUED
                job.started_at = None
                job.save(update_fields=["state", "started_at"])
                requeued.append(job)
    return requeued, failed
