"""sitemap.xml: an index of one sitemap per section (sitemap-agreements.xml, ...), paged, listing
published records and the countries that have any. Pages of 5,000 URLs keep each response small
(one sitemap of 100,000 transfers was 4.7 MB and took seconds to render)."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.urls import reverse

from agreements.models import Agreement, Country, CourtCase, Transfer


class PagedSitemap(Sitemap):
    limit = 5000

    def get_latest_lastmod(self):
        # Django's default calls lastmod() on every item: 100,000 rows for the index's one date.
        if not hasattr(self, "lastmod"):
            return None
        return self.items().aggregate(latest=Max("updated_at"))["latest"]


class StaticSitemap(PagedSitemap):
    def items(self):
        return [
            "home",
            "agreement-list",
            "country-list",
            "transfer-list",
            "case-list",
            "change-log",
            "data",
        ]

    def location(self, item):
        return reverse(item)


class AgreementSitemap(PagedSitemap):
    def items(self):
        return Agreement.objects.published().order_by("pk").only("slug", "updated_at")

    def lastmod(self, agreement):
        return agreement.updated_at


class TransferSitemap(PagedSitemap):
    def items(self):
        return Transfer.objects.published().order_by("pk").only("pk", "updated_at")

    def lastmod(self, transfer):
        return transfer.updated_at


class CaseSitemap(PagedSitemap):
    def items(self):
        return CourtCase.objects.published().order_by("pk").only("slug", "updated_at")

    def lastmod(self, case):
        return case.updated_at


class CountrySitemap(PagedSitemap):
    def items(self):
        return (
            Country.objects.with_record_counts()
            .filter(Q(agreement_count__gt=0) | Q(transfer_count__gt=0))
            .order_by("code")
        )


SITEMAPS = {
    "pages": StaticSitemap,
    "agreements": AgreementSitemap,
    "countries": CountrySitemap,
    "transfers": TransferSitemap,
    "cases": CaseSitemap,
}
