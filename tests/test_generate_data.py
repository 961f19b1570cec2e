"""The benchmark data generator: skewed, mostly published, removable."""

import pytest
from django.core.management import call_command
from django.db.models import Count

from agreements.models import Agreement, Source, Transfer

pytestmark = pytest.mark.django_db


def test_generates_the_requested_rows_skewed_and_mostly_published(seeded):
    call_command(
        "generate_data", agreements=300, transfers=2000, sources=200, draft_share=0.1, seed=1
    )
    generated = Agreement.objects.filter(slug__startswith="gen-")
    assert generated.count() == 300
    assert Transfer.objects.filter(agreement__in=generated).count() == 2000
    assert 0 < generated.filter(publication_state="draft").count() < 60
    by_sender = list(
        generated.values("sending_country")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("n", flat=True)
    )
    assert sum(by_sender[:5]) > 300 / 3  # a few countries hold a large share
    assert not Transfer.objects.filter(agreement__in=generated, sources__isnull=True).exists()


def test_clear_removes_only_generated_rows(seeded):
    before = (Agreement.objects.count(), Transfer.objects.count(), Source.objects.count())
    call_command("generate_data", agreements=20, transfers=50, sources=10)
    call_command("generate_data", clear=True)
    after = (Agreement.objects.count(), Transfer.objects.count(), Source.objects.count())
    assert after == before
