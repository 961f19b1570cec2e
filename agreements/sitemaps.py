"""sitemap.xml: published records and the countries that have any."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Q
from django.urls import reverse

from agreements.models import Agreement, Country, Transfer


class StaticSitemap(Sitemap):
    def items(self):
        return ["home", "agreement-list", "country-list", "transfer-list", "change-log"]

    def location(self, item):
        return reverse(item)


class AgreementSitemap(Sitemap):
    def items(self):
        return Agreement.objects.published().order_by("pk").only("slug", "updated_at")

    def lastmod(self, agreement):
        return agreement.updated_at


class TransferSitemap(Sitemap):
    def items(self):
        return Transfer.objects.published().order_by("pk").only("pk", "updated_at")

    def lastmod(self, transfer):
        return transfer.updated_at


class CountrySitemap(Sitemap):
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
}
