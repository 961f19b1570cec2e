from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import DetailView
from django_filters.views import FilterView

from agreements.filters import AgreementFilter, TransferFilter
from agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementStatus,
    Country,
    Source,
    Transfer,
)

PAGE_SIZE = 25


def home(request):
    agreements = Agreement.objects.published()
    by_status = dict(
        agreements.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    transfers = Transfer.objects.published().totals()
    context = {
        "status_counts": [
            (value, label, by_status.get(value, 0))
            for value, label in AgreementStatus.choices
            if by_status.get(value)
        ],
        "agreement_total": sum(by_status.values()),
        "transfer_totals": transfers,
        "recent_agreements": agreements.with_parties().order_by("-updated_at", "id")[:8],
        "top_countries": Country.objects.with_record_counts()
        .filter(agreement_count__gt=0)
        .order_by("-agreement_count", "name")[:12],
    }
    return render(request, "agreements/home.html", context)


class AgreementListView(FilterView):
    filterset_class = AgreementFilter
    template_name = "agreements/agreement_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return Agreement.objects.published().with_parties().with_first_date()


class AgreementDetailView(DetailView):
    template_name = "agreements/agreement_detail.html"
    context_object_name = "agreement"

    def get_queryset(self):
        published_transfers = (
            Transfer.objects.published()
            .select_related("from_country", "to_country")
            .prefetch_related("nationalities", "sources")
            .order_by("date", "id")
        )
        return (
            Agreement.objects.published()
            .with_parties()
            .prefetch_related(
                Prefetch(
                    "events",
                    queryset=AgreementEvent.objects.prefetch_related("sources").order_by(
                        "date", "id"
                    ),
                ),
                Prefetch("transfers", queryset=published_transfers),
                Prefetch("sources", queryset=Source.objects.order_by("-published_on", "title")),
            )
        )


class TransferListView(FilterView):
    filterset_class = TransferFilter
    template_name = "agreements/transfer_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return Transfer.objects.published().for_listing()


class TransferDetailView(DetailView):
    template_name = "agreements/transfer_detail.html"
    context_object_name = "transfer"

    def get_queryset(self):
        return Transfer.objects.published().for_listing().prefetch_related("sources")


def country_list(request):
    code = request.GET.get("code", "").strip().upper()
    if code:
        # The "go to country" form of the index: a GET form works without JavaScript.
        country = (
            Country.objects.filter(code=code).first() if len(code) == 2 and code.isalpha() else None
        )
        if country:
            return redirect(country)
    countries = (
        Country.objects.with_record_counts()
        .filter(Q(agreement_count__gt=0) | Q(transfer_count__gt=0))
        .order_by("region", "name")
    )
    return render(
        request,
        "agreements/country_list.html",
        {
            "countries": countries,
            "all_countries": Country.objects.order_by("name").only("code", "name"),
            "not_found": bool(code),
        },
    )


COUNTRY_TRANSFER_LIMIT = 50


def country_detail(request, code):
    if code != code.lower():
        return redirect("country-detail", code=code.lower(), permanent=True)
    country = get_object_or_404(Country, code=code.upper())
    agreements = Agreement.objects.published().with_parties().order_by("title")
    transfers = Transfer.objects.published()
    transfers_in = transfers.filter(to_country=country)
    transfers_out = transfers.filter(from_country=country)
    return render(
        request,
        "agreements/country_detail.html",
        {
            "country": country,
            "agreements_sent": agreements.filter(sending_country=country),
            "agreements_hosted": agreements.filter(receiving_country=country),
            "transfers_in": transfers_in.for_listing()[:COUNTRY_TRANSFER_LIMIT],
            "transfers_out": transfers_out.for_listing()[:COUNTRY_TRANSFER_LIMIT],
            "totals_in": transfers_in.totals(),
            "totals_out": transfers_out.totals(),
            "transfer_limit": COUNTRY_TRANSFER_LIMIT,
        },
    )
