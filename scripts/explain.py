"""EXPLAIN ANALYZE the queries behind the benchmarked pages, on whatever DATABASE_URL points at
(the benchmark database: see `make bench`). Prints each plan's nodes and timing."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.http import QueryDict as Params  # noqa: E402

from agreements import exports  # noqa: E402
from agreements.filters import AgreementFilter, TransferFilter  # noqa: E402
from agreements.models import Agreement, Country, Transfer  # noqa: E402


def plan(label, queryset):
    print(f"== {label}")
    print(queryset.explain(analyze=True))
    print()


def main():
    busiest = Country.objects.with_record_counts().order_by("-agreement_count").first()
    agreements = Agreement.objects.published().with_parties().with_first_date()
    listed = AgreementFilter(
        Params(f"country={busiest.code}&status=in_force"), queryset=agreements
    ).qs
    plan("agreement list, country + status, first page", listed[:25])
    plan("agreement list, text search, first page", AgreementFilter(
        Params("q=detention"), queryset=agreements
    ).qs[:25])  # fmt: skip
    transfers = Transfer.objects.published()
    plan(
        "transfers to the busiest country, first page",
        TransferFilter(Params(f"to_country={busiest.code}"), queryset=transfers.for_listing()).qs[
            :25
        ],
    )
    plan(
        "a deep page of all transfers (page 2,000)", transfers.order_by("-date", "id")[50000:50025]
    )
    plan("the transfers download", exports.transfer_values(transfers))


if __name__ == "__main__":
    main()
