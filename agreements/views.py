import datetime
import re

from django import forms
from django.contrib.syndication.views import Feed
from django.core.paginator import InvalidPage, Paginator
from django.db.models import F, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.utils.functional import cached_property, classproperty
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import DetailView
from django_filters.views import FilterView

from agreements import l10n
from agreements.changes import entries_for, public_change_rows
from agreements.chips import active_filters
from agreements.filters import AgreementFilter, CaseFilter, SourceFilter, TransferFilter
from agreements.listing import first_rows, rows_for
from agreements.models import (
    HEAD_COUNTS,
    Agreement,
    AgreementEvent,
    Country,
    CourtCase,
    CourtRuling,
    PublicationState,
    ReportedFigure,
    Source,
    Transfer,
)
from agreements.onward import SENT_ON_LIMIT, sent_on_rows, transfer_chain
from agreements.search import search
from agreements.tombstones import (
    agreement_tombstone,
    case_tombstone,
    transfer_tombstone,
)
from agreements.trends import agreement_timeline, people_per_month
from agreements.worldmap import world_map
from tracker.caching import cached_per_version
from tracker.query import filter_parameters, reads_query

PAGE_SIZE = 25


MAX_PAGES = 200


class CountCachedPaginator(Paginator):
    """Counting 100,000 filtered rows costs more than fetching a page of them: the count of
    each distinct query is computed once per change of the data.

    Pages stop at MAX_PAGES (5,000 rows): a deep OFFSET makes the database read and sort every
    row before it, and nobody reads page 4,000; the page says to filter or download instead."""

    @cached_property
    def num_pages(self):
        return min(Paginator.num_pages.func(self), MAX_PAGES)

    @property
    def truncated(self):
        return self.count > MAX_PAGES * self.per_page

    @cached_property
    def count(self):
        if isinstance(self.object_list, QuerySet):
            return _row_count(self.object_list)
        return Paginator.count.func(self)


@cached_per_version
def _row_count(queryset):
    return queryset.count()


@cached_per_version
def _home_figures():
    status_counts = Agreement.objects.published().status_counts()
    return {
        "status_counts": status_counts,
        "agreement_total": sum(count for _, _, count in status_counts),
        "transfer_totals": Transfer.objects.published().totals(),
        "top_countries": list(
            Country.objects.with_record_counts()
            .filter(agreement_count__gt=0)
            .order_by("-agreement_count", "name")[:12]
        ),
    }


@reads_query()
def home(request):
    context = {
        **_home_figures(),
        "recent_agreements": Agreement.objects.published()
        .for_table()
        .order_by("-updated_at", "id")[:8],
        "map": world_map(),
    }
    return render(request, "agreements/home.html", context)


class PublicListView(FilterView):
    """The filtered public lists: their row counts cached, their pages bounded (MAX_PAGES)."""

    paginator_class = CountCachedPaginator
    paginate_by = PAGE_SIZE
    # A submitted filter form sends its empty fields too: tracker.query redirects to the URL
    # without them, so a shared link says only what is filtered.
    drops_empty_parameters = True

    @classproperty
    def query_parameters(cls):
        return filter_parameters(cls.filterset_class) | {cls.page_kwarg}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["active_filters"] = active_filters(self.filterset, self.request.path)
        return context


class AgreementListView(PublicListView):
    filterset_class = AgreementFilter
    template_name = "agreements/agreement_list.html"

    def get_queryset(self):
        return Agreement.objects.published().for_table().with_first_date()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        usable = not self.filterset.is_bound or self.filterset.is_valid()
        context["facets"] = self.filterset.facets() if usable else []
        return context


def gone(request, tombstone):
    """410 Gone: the record was public and is withdrawn; its page says when and why."""
    return render(request, "agreements/withdrawn.html", {"tombstone": tombstone}, status=410)


class TombstoneMixin:
    """A record readers cannot see answers 410 with its tombstone if it was withdrawn after
    publication, else 404. Looked up only after the record was not found, so published pages
    pay nothing for it; staff who can preview see the marked preview instead."""

    query_parameters = frozenset()  # a record's page reads no parameters

    def find_tombstone(self):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        try:
            response = super().get(request, *args, **kwargs)
        except Http404:
            tombstone = self.find_tombstone()
            if tombstone is None:
                raise
            return gone(request, tombstone)
        if not self.object.is_published:
            # A staff preview: no shared cache (a proxy, a CDN) may keep it for anyone else.
            patch_cache_control(response, private=True, no_store=True)
        return response


TRANSFER_LIMIT = 25


@cached_per_version
def _transfer_totals(transfers):
    return transfers.totals()


class AgreementDetailView(TombstoneMixin, DetailView):
    template_name = "agreements/agreement_detail.html"
    context_object_name = "agreement"

    def get_queryset(self):
        agreements = Agreement.objects.visible_to(self.request.user)
        return agreements.with_parties().prefetch_related(
            Prefetch(
                "events",
                queryset=AgreementEvent.objects.prefetch_related(
                    Prefetch("sources", queryset=Source.objects.with_link_check()),
                    # A ruling links to its case only where the case is public.
                    Prefetch(
                        "court_case",
                        queryset=CourtCase.objects.published().only("slug", "name"),
                    ),
                ).order_by("date", "id"),
            ),
            Prefetch(
                "sources",
                queryset=Source.objects.with_link_check().order_by("-published_on", "title"),
            ),
            Prefetch(
                "court_cases",
                queryset=CourtCase.objects.published()
                .for_table()
                .order_by(F("decided_on").desc(nulls_first=True), "name"),
            ),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        transfers = Transfer.objects.visible_to(self.request.user).filter(agreement=self.object)
        # Some agreements carry thousands of transfers: the page shows the first ones and the
        # totals, and links to the full, paginated list.
        shown = first_rows(transfers.order_by("date", "id"), TRANSFER_LIMIT)
        context["transfers"] = shown
        # The shown transfers' sources, in one query.
        context["cited_sources"] = self.object.cited_sources(
            Source.objects.with_link_check()
            .filter(transfers__in=[transfer.id for transfer in shown])
            .distinct()
        )
        context["transfer_totals"] = _transfer_totals(transfers)
        context["transfer_limit"] = TRANSFER_LIMIT
        context.update(self.sent_on())
        return context

    def sent_on(self):
        """Where the people this agreement's transfers moved were sent on to: published onward
        removals only, under any agreement or none (one query, two when there are some)."""
        rows, more = sent_on_rows(Transfer.objects.published().filter(agreement=self.object))
        receiving = self.object.receiving_country
        return {
            "sent_on": rows,
            "sent_on_more": more,
            "sent_on_limit": SENT_ON_LIMIT,
            # "Sent on from El Salvador" when they all leave the receiving country.
            "sent_on_from": receiving
            if rows and all(row.from_code == receiving.code for row in rows)
            else None,
        }

    def find_tombstone(self):
        return agreement_tombstone(self.kwargs["slug"])


class TransferListView(PublicListView):
    filterset_class = TransferFilter
    template_name = "agreements/transfer_list.html"

    def get_queryset(self):
        # The page query fetches ids only; the rows come in one query (agreements.listing).
        return Transfer.objects.published().only("id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = rows_for([transfer.pk for transfer in context["object_list"]])
        return context


class SourceListView(PublicListView):
    filterset_class = SourceFilter
    template_name = "agreements/source_list.html"

    def get_queryset(self):
        return Source.objects.with_link_check().listed_publicly()


class CaseListView(PublicListView):
    filterset_class = CaseFilter
    template_name = "agreements/case_list.html"

    def get_queryset(self):
        return CourtCase.objects.published().for_table()


class CaseDetailView(TombstoneMixin, DetailView):
    template_name = "agreements/case_detail.html"
    context_object_name = "case"

    def get_queryset(self):
        agreements = Agreement.objects.published()
        return (
            CourtCase.objects.visible_to(self.request.user)
            .select_related("jurisdiction")
            .prefetch_related(
                Prefetch(
                    "rulings",
                    queryset=CourtRuling.objects.prefetch_related(
                        Prefetch("sources", queryset=Source.objects.with_link_check())
                    ).order_by("date", "id"),
                ),
                Prefetch("sources", queryset=Source.objects.with_link_check()),
                Prefetch("agreements", queryset=agreements.with_parties().order_by("title")),
                # The timeline entries of published agreements that name this case.
                Prefetch(
                    "events",
                    queryset=AgreementEvent.objects.published()
                    .select_related("agreement")
                    .order_by("date", "id"),
                ),
            )
        )

    def find_tombstone(self):
        return case_tombstone(self.kwargs["slug"])


class TransferDetailView(TombstoneMixin, DetailView):
    template_name = "agreements/transfer_detail.html"
    context_object_name = "transfer"

    def get_queryset(self):
        return (
            Transfer.objects.visible_to(self.request.user)
            .select_related("agreement", "from_country", "to_country")
            .prefetch_related(
                "nationalities",
                Prefetch("sources", queryset=Source.objects.with_link_check()),
                Prefetch(
                    "reported_figures", queryset=ReportedFigure.objects.select_related("source")
                ),
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Published neighbours only, even in a staff preview: the chain is the public path,
        # and a draft in it would look public (one query per step of the chain each way).
        context["chain"] = transfer_chain(self.object, Transfer.objects.published())
        return context

    def find_tombstone(self):
        return transfer_tombstone(self.kwargs["pk"])


def _by_local_name(countries, by_region=False):
    """Countries in the alphabetical order of their names in the page's language (English
    keeps the database's order)."""
    countries = list(countries)
    if l10n.is_default_language():
        return countries
    return sorted(
        countries,
        key=lambda country: (
            country.region if by_region else "",
            l10n.sort_key(country.local_name),
        ),
    )


@cached_per_version
def _countries_by_region():
    return _by_local_name(Country.objects.with_records().order_by("region", "name"), by_region=True)


@cached_per_version
def _country_names():
    return _by_local_name(Country.objects.order_by("name").only("code", "name"))


@reads_query("code")
def country_list(request):
    code = request.GET.get("code", "").strip().upper()
    if code:
        # The "go to country" form of the index: a GET form works without JavaScript.
        country = (
            Country.objects.filter(code=code).first() if len(code) == 2 and code.isalpha() else None
        )
        if country:
            return redirect(country)
    countries = _countries_by_region()
    return render(
        request,
        "agreements/country_list.html",
        {
            "countries": countries,
            "map": world_map(),
            "all_countries": _country_names(),
            "not_found": bool(code),
        },
    )


COUNTRY_TRANSFER_LIMIT = 25
COUNTRY_AGREEMENT_LIMIT = 25


def with_shares(rows, key):
    """Add each row's share of the largest value (0-100), for bar widths."""
    largest = max((row[key] for row in rows), default=0) or 1
    for row in rows:
        row["share"] = round(100 * row[key] / largest)
    return rows


@reads_query()
def country_detail(request, code):
    if code != code.lower():
        return redirect("country-detail", code=code.lower(), permanent=True)
    country = get_object_or_404(Country, code=code.upper())
    agreements = Agreement.objects.published().for_table().order_by("title")
    transfers = Transfer.objects.published()
    transfers_in = transfers.filter(to_country=country)
    transfers_out = transfers.filter(from_country=country)
    return render(
        request,
        "agreements/country_detail.html",
        {
            "country": country,
            # Bounded like the transfer lists: the busiest countries have hundreds.
            "agreements_sent": agreements.filter(sending_country=country)[:COUNTRY_AGREEMENT_LIMIT],
            "agreements_hosted": agreements.filter(receiving_country=country)[
                :COUNTRY_AGREEMENT_LIMIT
            ],
            "agreement_limit": COUNTRY_AGREEMENT_LIMIT,
            "transfers_in": first_rows(transfers_in, COUNTRY_TRANSFER_LIMIT),
            "transfers_out": first_rows(transfers_out, COUNTRY_TRANSFER_LIMIT),
            **_country_figures(country.pk),
            "transfer_limit": COUNTRY_TRANSFER_LIMIT,
            "cases": CourtCase.objects.published()
            .involving(country)
            .for_table()
            .order_by(F("decided_on").desc(nulls_first=True), "name")[:COUNTRY_AGREEMENT_LIMIT],
        },
    )


def _last_updated(country_id):
    """When a published record about country last changed (its page's "last updated"), in
    one query."""

    def latest(records):
        newest = records.involving(country_id).order_by("-updated_at").values("updated_at")[:1]
        return Subquery(newest)

    row = (
        Country.objects.filter(pk=country_id)
        .annotate(
            agreements=latest(Agreement.objects.published()),
            transfers=latest(Transfer.objects.published()),
        )
        .values("agreements", "transfers")
        .get()
    )
    dates = [value for value in row.values() if value is not None]
    return max(dates) if dates else None


@cached_per_version
def _country_figures(country_id):
    agreements = Agreement.objects.published()
    transfers = Transfer.objects.published()
    transfers_in = transfers.filter(to_country=country_id)
    transfers_out = transfers.filter(from_country=country_id)
    return {
        "last_updated": _last_updated(country_id),
        "agreement_counts": {
            "sent": agreements.filter(sending_country=country_id).count(),
            "hosted": agreements.filter(receiving_country=country_id).count(),
        },
        "totals_in": transfers_in.totals(),
        "totals_out": transfers_out.totals(),
        # Onward removals: people sent on from here, and people who arrived by one.
        "onward_out": transfers_out.onward().totals(),
        "onward_in": transfers_in.onward().totals(),
        "years_in": with_shares(transfers_in.by_year(), "people_total"),
        "years_out": with_shares(transfers_out.by_year(), "people_total"),
        "nationalities_in": with_shares(
            top_and_others(transfers_in.nationality_counts(), "transfer_count", "nationalities"),
            "transfer_count",
        ),
        "partners_in": top_and_others(
            transfers_in.partner_counts("in"), "people_total", "countries"
        ),
        "partners_out": top_and_others(
            transfers_out.partner_counts("out"), "people_total", "countries"
        ),
    }


COUNTRY_TOP_ROWS = 20


def _others(count, noun):
    """ "12 other countries", "12 other nationalities", in the page's language."""
    if noun == "nationalities":
        text = ngettext("%(count)s other nationality", "%(count)s other nationalities", count)
    else:
        text = ngettext("%(count)s other country", "%(count)s other countries", count)
    return text % {"count": l10n.number(count)}


def top_and_others(rows, key, noun):
    """The first COUNTRY_TOP_ROWS rows, then one row summing the rest ("12 other countries"),
    so a country with partners everywhere still gets a short chart. noun: "countries" or
    "nationalities"."""
    if len(rows) <= COUNTRY_TOP_ROWS:
        return rows
    rest = rows[COUNTRY_TOP_ROWS:]
    other = {"code": "", "name": _others(len(rest), noun), "is_other": True}
    # Every count adds up (the head-counts and how many of them are unknown), so the row
    # reads "unknown" or "at least" as its parts do.
    for name in (key, *HEAD_COUNTS):
        if name in rows[0]:
            other[name] = sum(row[name] for row in rest)
    return [*rows[:COUNTRY_TOP_ROWS], other]


CHANGES_PAGE_SIZE = 50

# Characters XML 1.0 cannot carry at all (escaping does not help): the feed generator refuses
# them, so one in a title or a reason would break the whole feed.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def feed_text(text):
    """Plain text as an Atom feed can carry it (entry titles are plain text)."""
    return _NOT_XML.sub("", text)


class PlainTextAtomFeed(Atom1Feed):
    """Atom whose entry summaries are declared type="text": our summaries are plain text, and
    Django's type="html" would make a feed reader run any markup an editor typed in them."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


@reads_query("page")
def change_log(request, slug=None):
    # A withdrawn agreement keeps its log: its earlier public changes, then the withdrawal.
    agreement = get_object_or_404(Agreement.objects.on_record(), slug=slug) if slug else None
    paginator = Paginator(
        public_change_rows(agreement), CHANGES_PAGE_SIZE, allow_empty_first_page=True
    )
    try:
        page = paginator.page(request.GET.get("page", "1"))
    except InvalidPage:
        raise Http404("No such page") from None
    return render(
        request,
        "agreements/change_log.html",
        {"agreement": agreement, "page_obj": page, "entries": entries_for(list(page.object_list))},
    )


class ChangesFeed(Feed):
    feed_type = PlainTextAtomFeed
    query_parameters = frozenset()
    title = "Transfer Tracker: changes to published records"
    subtitle = "What changed in the tracker's published agreements, events and transfers."

    def link(self):
        return reverse("change-log")

    def items(self):
        return entries_for(list(public_change_rows()[:CHANGES_PAGE_SIZE]))

    def item_title(self, item):
        return feed_text(f"{item.action}: {item.record}")

    def item_description(self, item):
        if item.reason:  # a withdrawal: the Publisher's public reason
            return feed_text(item.reason)
        if not item.changes:
            return item.action
        return feed_text(
            "; ".join(
                f"{change.label}: {change.old} → {change.new}"
                if change.new
                else f"{change.label} edited"
                for change in item.changes
            )
        )

    def item_link(self, item):
        return item.url

    def item_guid(self, item):
        return f"{self.link()}#{item.key}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.when

    def item_updateddate(self, item):
        return item.when


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False, strip=True)


_search = cached_per_version(search)


@reads_query("q")
def search_page(request):
    form = SearchForm(request.GET)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    results = _search(text) if text else None
    return render(
        request, "agreements/search.html", {"form": form, "text": text, "results": results}
    )


@reads_query()
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon."""
    from django.templatetags.static import static

    return redirect(static("img/favicon.svg"), permanent=True)


@reads_query()
def about(request):
    """What the tracker counts and how, and what every recorded value means."""
    from django.conf import settings

    from agreements.glossary import SECTIONS

    contact = settings.CORRECTIONS_CONTACT
    return render(
        request,
        "agreements/about.html",
        {
            "sections": SECTIONS,
            "contact": contact,
            "contact_is_email": "@" in contact and "://" not in contact,
        },
    )


_people_per_month = cached_per_version(people_per_month)
_agreement_timeline = cached_per_version(agreement_timeline)


@cached_per_version
def _onward_totals():
    return Transfer.objects.published().onward_totals()


@cached_per_version
def _left_out_of_per_month():
    return (
        Transfer.objects.published()
        .filter(Q(people__isnull=True) | Q(date_precision="year"))
        .count()
    )


@reads_query()
def trends(request):
    return render(
        request,
        "agreements/trends.html",
        {
            "per_month": _people_per_month(),
            "onward": _onward_totals(),
            # Unknown is not zero: say how many transfers the monthly chart cannot show.
            "left_out": _left_out_of_per_month(),
            # Bars of agreements still in force run to today.
            "timeline": _agreement_timeline(datetime.date.today()),
        },
    )


class AgreementsFeed(Feed):
    """New and updated agreements, newest change first; per country at /countries/<code>/feed/."""

    feed_type = PlainTextAtomFeed
    query_parameters = frozenset()
    description_template = None

    def get_object(self, request, code=None):
        if code is None:
            return None
        return get_object_or_404(Country, code=code.upper())

    def title(self, country):
        where = f" involving {country.name}" if country else ""
        return f"Transfer Tracker: new and updated agreements{where}"

    def link(self, country):
        return country.get_absolute_url() if country else reverse("agreement-list")

    def subtitle(self, country):
        return "Third-country transfer agreements as they are added or change."

    def items(self, country):
        # Withdrawn agreements stay as an entry saying so, for readers who follow them.
        agreements = Agreement.objects.on_record().with_parties()
        if country:
            agreements = agreements.involving(country)
        return agreements.order_by("-updated_at", "id")[:50]

    def item_title(self, agreement):
        if agreement.publication_state == PublicationState.WITHDRAWN:
            return feed_text(f"Withdrawn: {agreement.title}")
        return feed_text(agreement.title)

    def item_description(self, agreement):
        if agreement.publication_state == PublicationState.WITHDRAWN:
            return feed_text(agreement.withdrawal_reason)
        parties = f"{agreement.sending_country.name} → {agreement.receiving_country.name}"
        return feed_text(f"{parties}. {agreement.get_status_display()}. {agreement.summary}")

    def item_pubdate(self, agreement):
        return agreement.created_at

    def item_updateddate(self, agreement):
        if agreement.publication_state == PublicationState.WITHDRAWN:
            return agreement.withdrawn_at
        return agreement.updated_at
