"""make backup / make restore: a pg_dump archive round trip."""

import pytest
from django.core.management import call_command
from django.db import connection

from agreements.countries import sync_countries
from agreements.models import Agreement, Country, Transfer
from tests.factories import AgreementEventFactory, AgreementFactory, SourceFactory, TransferFactory

TABLES = ["agreements_agreement", "agreements_agreementevent", "agreements_transfer", "agreements_source",
          "agreements_country", "agreements_transfer_nationalities"]  # fmt: skip


def fingerprint():
    """Row count and an md5 of every row of the main tables, in id order."""
    result = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t"
            )
            result[table] = cursor.fetchone()
    return result


@pytest.mark.django_db(transaction=True)  # pg_dump reads committed data from its own connection
def test_backup_then_restore_brings_back_the_same_data(tmp_path):
    sync_countries(Country)  # a previous transactional test may have flushed them
    source = SourceFactory()
    agreement = AgreementFactory(published=True, sources=[source])
    AgreementEventFactory(agreement=agreement, sources=[source])
    TransferFactory(
        published=True,
        agreement=agreement,
        nationalities=[Country.objects.get(code="VE")],
        sources=[source],
    )
    before = fingerprint()
    archive = tmp_path / "backup.dump"

    call_command("backup", output=archive)
    assert archive.stat().st_size > 0
    Transfer.objects.all().delete()
    Agreement.objects.all().delete()
    Country.objects.filter(code="VE").update(name="Changed")
    assert fingerprint() != before

    call_command("restore", archive)
    assert fingerprint() == before


@pytest.mark.django_db(transaction=True)
def test_restoring_a_missing_or_broken_file_changes_nothing(tmp_path):
    from django.core.management.base import CommandError

    sync_countries(Country)
    AgreementFactory(published=True)
    before = fingerprint()
    with pytest.raises(CommandError):
        call_command("restore", tmp_path / "nope.dump")
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP not really")
    with pytest.raises(CommandError):
        call_command("restore", broken)
    assert fingerprint() == before
