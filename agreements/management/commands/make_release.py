from django.core.management.base import BaseCommand, CommandError

from agreements.releases import TABLES, ReleaseError, make_release


class Command(BaseCommand):
    help = (
        "Make a dated data release: every published table as CSV and JSON, with "
        "datapackage.json, a README (licence, coverage, how to cite), CITATION.cff and "
        "SHA256SUMS, zipped under RELEASES_DIR and listed on /data/. Versions are the date "
        "(2026-12-01), then 2026-12-01.2 for a second release the same day; an existing "
        "release is never overwritten."
    )

    def handle(self, *args, **options):
        try:
            release = make_release()
        except ReleaseError as error:
            raise CommandError(str(error)) from None
        counts = ", ".join(
            f"{getattr(release, table.count_field):,} {table.name}" for table in TABLES
        )
        self.stdout.write(f"Release {release.version}: {release.path}")
        self.stdout.write(f"  {counts}")
        self.stdout.write(f"  {release.zip_size:,} bytes, SHA-256 {release.sha256}")
        if release.previous is None:
            self.stdout.write("  The first release: nothing to compare with.")
        elif release.changes is None:
            self.stdout.write(f"  Changes: not known ({release.previous.version} is unreadable).")
        else:
            changed = "; ".join(
                f"{table} +{added} ~{changed} -{withdrawn}"
                for table, added, changed, withdrawn in release.change_rows()
            )
            self.stdout.write(f"  Since {release.previous.version}: {changed or 'nothing changed'}")
