"""sitemap.xml: an index of one sitemap per section (sitemap-agreements.xml, ...), paged, listing
published records and the countries that have any. Pages of 5,000 URLs keep each response small
(one sitemap of 100,000 transfers was 4.7 MB and took seconds to render).

Every page is listed in every language (/agreements/x/, /es/agreements/x/, …), each with its
alternates in the others and an x-default (the English), as search engines ask."""

import functools
from collections.abc import Sequence

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from agreements.models import Agreement, Country, CourtCase, Transfer


class _PerLanguage(Sequence):
    """(record, language) pairs for every record and language, read a page at a time.

    Django's i18n sitemaps build this list whole, reading every record for each page; this reads
    only the records of the page asked for."""

    def __init__(self, items, languages):
        self.items, self.languages = items, list(languages)

    @functools.cached_property
    def _length(self):
        items = self.items
        count = items.count() if hasattr(items, "query") else len(items)
        return count * len(self.languages)

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        per_item = len(self.languages)
        if not isinstance(index, slice):
            item = self.items[index // per_item]
            return item, self.languages[index % per_item]
        start, stop, _step = index.indices(len(self))
        first = start // per_item
        rows = self.items[first : -(-stop // per_item)]
        pairs = [(row, language) for row in rows for language in self.languages]
        offset = start - first * per_item
        return pairs[offset : offset + (stop - start)]


class PagedSitemap(Sitemap):
    limit = 5000
    i18n = True
    alternates = True
    x_default = True

    def _items(self):
        return _PerLanguage(self.items(), self._languages())

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
        return Country.objects.with_records().order_by("code")


SITEMAPS = {
    "pages": StaticSitemap,
    "agreements": AgreementSitemap,
    "countries": CountrySitemap,
    "transfers": TransferSitemap,
    "cases": CaseSitemap,
}
