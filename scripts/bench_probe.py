"""Run under Django against the benchmark database: pick the benchmark's URLs from the data,
count each page's queries (uncached), and print the SQL of the transfers export. JSON out."""

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from agreements import exports  # noqa: E402
from agreements.api import DATASETS  # noqa: E402
from agreements.models import Agreement, Country, Transfer  # noqa: E402
from tracker.caching import bump_content_version  # noqa: E402


def busiest_country():
    return Country.objects.with_record_counts().order_by("-agreement_count", "code").first()


def main():
    country = busiest_country()
    agreement = (
        Agreement.objects.published()
        .annotate(n=Count("transfers"))
        .order_by("-n", "id")
        .only("slug")
        .first()
    )
    word = "detention"
    urls = {
        "home": "/",
        "list_two_filters": f"/agreements/?country={country.code}&status=in_force",
        "list_text_search": f"/agreements/?q={word}",
        "busiest_country": f"/countries/{country.code.lower()}/",
        "agreement_detail": agreement.get_absolute_url(),
        "csv_all_transfers": "/transfers/export.csv",
    }
    queries = {}
    client = Client()
    with override_settings(PAGE_CACHE_SECONDS=0, RATELIMIT_ENABLED=False, ALLOWED_HOSTS=["*"]):
        for name, url in urls.items():
            # Cold: the first render after a change of the data, nothing derived cached yet.
            bump_content_version()
            executed = []

            def count(run, sql, params, many, context, executed=executed):
                executed.append(sql)
                return run(sql, params, many, context)

            with connection.execute_wrapper(count):
                started = time.perf_counter()
                response = client.get(url)
                if response.streaming:
                    for _ in response.streaming_content:
                        pass
                cold = time.perf_counter() - started
            # Warm: rendered again, with the counts, facets and option lists from the data cache.
            started = time.perf_counter()
            client.get(url)
            warm = time.perf_counter() - started
            queries[name] = {
                "status": response.status_code,
                "queries": len(executed),
                "cold_ms": round(cold * 1000, 1),
                "warm_ms": round(warm * 1000, 1),
            }
    # The download's own SELECT (joins, aggregates), to time as `COPY (...) TO STDOUT` in psql.
    export = exports.transfer_values(DATASETS["transfers"].filtered({}))
    sql, params = export.query.sql_with_params()
    with connection.cursor() as cursor:
        copy_sql = cursor.mogrify(sql, params)
    print(
        json.dumps(
            {
                "urls": urls,
                "queries": queries,
                "copy_sql": copy_sql,
                "counts": {
                    "agreements": Agreement.objects.published().count(),
                    "transfers": Transfer.objects.published().count(),
                    "countries": Country.objects.count(),
                },
                "busiest_country": country.name,
                "agreement_transfers": agreement.n,
            }
        )
    )


if __name__ == "__main__":
    main()
