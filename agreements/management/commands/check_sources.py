import time
from collections import Counter

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, F, OuterRef

from agreements import links, publishing
from agreements.models import LinkHealth, ProposedRevision, Source

# Where Save Page Now is worth asking: the link answered (a bot wall may still let the archive
# in). Not for dead links, server errors, or links not checked this run.
ARCHIVABLE = {LinkHealth.OK, LinkHealth.MOVED, LinkHealth.BLOCKED}
UNREACHABLE = "unreachable"
SKIPPED = "skipped"


class Command(BaseCommand):
    help = (
        "Check every source's URL (status, final URL after redirects) and store its link health; "
        "with --user, ask the Internet Archive's Save Page Now for a snapshot of each source "
        "without an archive link and store it as that user, through the review rules. A source "
        "the network cannot reach is reported as unreachable and nothing about it changes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            help="the staff account archive links are stored as (it needs the permission to "
            "change sources; an editor's change of a published source waits for review). "
            "Without it, links are checked and nothing is archived.",
        )
        parser.add_argument(
            "--delay",
            type=float,
            default=10.0,
            help="seconds to wait between two Save Page Now requests (default 10: the archive "
            "limits how often it may be asked)",
        )
        parser.add_argument(
            "--limit",
            type=int,
            help="check at most this many sources: those never checked first, then the ones "
            "checked longest ago (a rolling check of a large catalogue)",
        )

    def handle(self, *args, **options):
        user = self._user(options["user"])
        if options["delay"] < 0:
            raise CommandError("--delay cannot be negative.")
        health = Counter()
        archived = Counter()
        sources = self._sources(options["limit"])
        archive_next_at = 0.0
        for source in sources:
            outcome = self._check(source)
            health[outcome] += 1
            if outcome not in ARCHIVABLE or source.archive_url or user is None:
                continue
            if source.has_pending_proposal:
                archived["waiting"] += 1
                continue
            time.sleep(max(0.0, archive_next_at - time.monotonic()))
            archived[self._archive(source, user)] += 1
            archive_next_at = time.monotonic() + options["delay"]
        self._summarise(health, archived, user, options["user"])

    def _user(self, name):
        if name is None:
            return None
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            raise CommandError(f"No user {name!r}.")
        if not links.may_store_archive_links(user):
            raise CommandError(
                f"{user} may not store archive links: that needs an active staff account "
                "allowed to change sources (as in the admin)."
            )
        return user

    def _sources(self, limit):
        pending = ProposedRevision.objects.pending().filter(source=OuterRef("pk"))
        sources = Source.objects.annotate(has_pending_proposal=Exists(pending)).order_by(
            F("link_check__checked_at").asc(nulls_first=True), "pk"
        )
        sources = sources.only("id", "url", "title", "publisher", "archive_url")
        return list(sources[:limit] if limit is not None else sources)

    def _check(self, source):
        try:
            observation = links.check(source.url)
        except links.NotCheckable as error:
            self.stdout.write(f"skipped: {source.url} ({error}); nothing stored")
            return SKIPPED
        except links.Unreachable as error:
            self.stdout.write(f"unreachable: {source.url} ({error}); nothing changed")
            return UNREACHABLE
        status = links.record(source, observation)
        if status != LinkHealth.OK:
            detail = observation.error or observation.final_url
            self.stdout.write(f"{status}: {source.url} ({detail})")
        return status

    def _archive(self, source, user):
        try:
            snapshot = links.request_snapshot(source.url)
        except links.Unreachable as error:
            self.stdout.write(f"archive unreachable for {source.url} ({error}); nothing stored")
            return "failed"
        except (links.ArchiveFailed, links.NotCheckable) as error:
            self.stdout.write(f"archive failed for {source.url} ({error}); nothing stored")
            return "failed"
        try:
            proposal = links.store_archive_url(source, snapshot, user)
        except publishing.Refused as refusal:
            self.stdout.write(f"archive link not stored for {source.url}: {refusal.message}")
            return "failed"
        except ValidationError as error:
            self.stdout.write(
                f"archive link not stored for {source.url}: {'; '.join(error.messages)}"
            )
            return "failed"
        if proposal is not None:
            self.stdout.write(
                f"archive link proposed for review (#{proposal.pk}): {source.url} -> {snapshot}"
            )
            return "proposed"
        self.stdout.write(f"archived: {source.url} -> {snapshot}")
        return "stored"

    def _summarise(self, health, archived, user, username):
        checked = sum(health.values())
        order = [*LinkHealth.values, UNREACHABLE, SKIPPED]
        parts = [f"{health[name]} {name}" for name in order if health[name]]
        self.stdout.write(
            f"Checked {checked} source(s)" + (": " + ", ".join(parts) if parts else "") + "."
        )
        if health[UNREACHABLE]:
            self.stdout.write(
                f"{health[UNREACHABLE]} unreachable: no answer (network, DNS or timeout); their "
                "last results were kept."
            )
            if health[UNREACHABLE] == checked:
                self.stdout.write("No source could be reached: is the network down?")
        if user is None:
            self.stdout.write(
                "Archive links were not stored: no --user given (an archive link changes a "
                "source, which is done as an editor or publisher)."
            )
            return
        self.stdout.write(
            f"Archive links as {username}: {archived['stored']} stored, "
            f"{archived['proposed']} proposed for review, {archived['failed']} failed, "
            f"{archived['waiting']} skipped (a proposed revision awaits review)."
        )
