import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from agreements import imports

logger = logging.getLogger("agreements.imports")

# How often an idle worker looks for abandoned jobs (it looks for queued ones every --interval).
ABANDONED_CHECK_SECONDS = 60


class Stop(Exception):
    """SIGTERM: stop now; the job in hand is rolled back and queued again."""


class Command(BaseCommand):
    help = (
        "Run the CSV imports queued in the admin, oldest first, one at a time (start several "
        "workers to run several at once). First queues again the jobs of workers that died."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="run the jobs queued now, then exit"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help="seconds between looks for a queued job while idle (default 2)",
        )

    def handle(self, *args, **options):
        previous = signal.signal(signal.SIGTERM, _stop)
        last_check = 0.0
        try:
            while True:
                _refresh_connection()
                if time.monotonic() - last_check >= ABANDONED_CHECK_SECONDS:
                    self._requeue_abandoned()
                    last_check = time.monotonic()
                job = imports.claim_next()
                if job is not None:
                    self._run(job)
                    continue
                if options["once"]:
                    return
                time.sleep(options["interval"])
        except (Stop, KeyboardInterrupt):
            self.stdout.write("Import worker stopped.")
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _requeue_abandoned(self):
        requeued, failed = imports.requeue_abandoned()
        for job in requeued:
            self.stdout.write(f"Queued again (its worker stopped): {job}")
        for job in failed:
            self.stdout.write(f"Failed (its worker stopped {job.attempts} times): {job}")

    def _run(self, job):
        self.stdout.write(f"Running {job} ({job.row_count:,} rows) for {job.created_by}")
        try:
            job = imports.run_job(job)
        except (Stop, KeyboardInterrupt):
            # Rolled back: nothing of it was written. Another worker (or this one, restarted)
            # runs it again.
            _refresh_connection()
            imports.give_back(job)
            raise
        except Exception as error:
            _refresh_connection()
            if _stopping.is_set():  # the stop broke off a database call mid-way
                imports.give_back(job)
                raise Stop from error
            logger.exception("import #%s failed", job.pk)
            imports.fail(
                job,
                f"The import stopped with an unexpected error ({type(error).__name__}); nothing "
                "was written. The details are in the worker's log.",
            )
            return
        self.stdout.write(f"{job}: {job.get_state_display().lower()}")


_stopping = threading.Event()


def _stop(signum, frame):
    _stopping.set()
    raise Stop


def _refresh_connection():
    """A long-lived process: drop a connection that broke or grew old (as Django does between
    requests). Not inside a transaction, which only a caller's own (a test's) can be."""
    if not connection.in_atomic_block:
        close_old_connections()
