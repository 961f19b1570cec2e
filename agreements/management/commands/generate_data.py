"""Generate a large, realistic-looking data set for benchmarks (never for the public site).

Skewed like real data: a few countries hold most agreements, and a few agreements most
transfers. Generated rows are marked (slug and URL prefixes) so `--clear` removes only them.
"""

import datetime
import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementKind,
    AgreementStatus,
    Country,
    DatePrecision,
    EventKind,
    PublicationState,
    Source,
    SourceKind,
    Transfer,
)

SLUG_PREFIX = "gen-"
URL_PREFIX = "https://generated.example/"
BATCH = 5000
WORDS = [
    "deportees",
    "transit",
    "detention",
    "asylum",
    "agreement",
    "memorandum",
    "court",
    "ruling",
    "payment",
    "flight",
    "camp",
    "prison",
    "return",
    "removal",
    "protection",
    "refugees",
    "migrants",
    "capacity",
    "minors",
    "lawyers",
    "ministry",
    "embassy",
    "parliament",
    "ratification",
    "suspension",
    "appeal",
    "border",
    "processing",
    "centre",
    "charter",
    "nationals",
    "humanitarian",
    "release",
    "repatriation",
    "grant",
    "cooperation",
    "readmission",
    "safe",
    "third",
    "country",
]
PUBLISHERS = ["Reuters", "AP", "AFP", "The Guardian", "El País", "Al Jazeera", "BBC", "NPR", "HRW"]


def skewed(rng, items, exponent=1.1):
    """A sampler that picks items with Zipf-like weights (the first few dominate)."""
    weights = [1 / (rank + 1) ** exponent for rank in range(len(items))]
    return lambda k=1: rng.choices(items, weights=weights, k=k)


class Command(BaseCommand):
    help = "Generate benchmark data: agreements, events, transfers and sources (published, some drafts)."

    def add_arguments(self, parser):
        parser.add_argument("--agreements", type=int, default=5000)
        parser.add_argument("--transfers", type=int, default=100_000)
        parser.add_argument("--sources", type=int, default=20_000)
        parser.add_argument("--draft-share", type=float, default=0.03)
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--clear", action="store_true", help="only delete generated rows")

    def handle(self, *args, **options):
        with transaction.atomic():
            self.clear()
            if options["clear"]:
                self.stdout.write("Generated rows deleted.")
                return
            counts = self.generate(options)
        self.stdout.write(
            "Generated {agreements} agreements, {events} events, {transfers} transfers, "
            "{sources} sources ({drafts} drafts).".format(**counts)
        )

    def clear(self):
        generated = Agreement.objects.filter(slug__startswith=SLUG_PREFIX)
        Transfer.objects.filter(agreement__in=generated).delete()
        generated.delete()
        Source.objects.filter(url__startswith=URL_PREFIX).delete()

    def generate(self, options):
        rng = random.Random(options["seed"])
        countries = list(Country.objects.order_by("code"))
        if len(countries) < 2:
            raise CommandError("Load the countries first (migrate).")
        rng.shuffle(countries)
        pick_sender = skewed(rng, countries, 1.3)
        pick_host = skewed(rng, list(reversed(countries)), 1.0)

        def sentence(n):
            return " ".join(rng.choices(WORDS, k=n)).capitalize() + "."

        def day(start, end):
            return start + datetime.timedelta(days=rng.randrange(max(1, (end - start).days)))

        sources = [
            Source(
                url=f"{URL_PREFIX}source/{i}",
                title=sentence(rng.randint(5, 10))[:-1],
                publisher=rng.choice(PUBLISHERS),
                published_on=day(datetime.date(2000, 1, 1), datetime.date(2026, 10, 1)),
                kind=rng.choice(SourceKind.values),
            )
            for i in range(options["sources"])
        ]
        Source.objects.bulk_create(sources, batch_size=BATCH)
        pick_source = skewed(rng, sources, 0.6)

        agreements = []
        for i in range(options["agreements"]):
            sender = pick_sender()[0]
            host = pick_host()[0]
            while host == sender:
                host = rng.choice(countries)
            announced = day(datetime.date(2000, 1, 1), datetime.date(2026, 6, 1))
            status = rng.choice(AgreementStatus.values)
            signed = announced + datetime.timedelta(days=rng.randrange(0, 400))
            ended = (
                signed + datetime.timedelta(days=rng.randrange(30, 2000))
                if status == "terminated"
                else None
            )
            agreements.append(
                Agreement(
                    title=f"{sender.name} - {host.name}: {' '.join(rng.choices(WORDS, k=3))} ({i})",
                    slug=f"{SLUG_PREFIX}{i}",
                    sending_country=sender,
                    receiving_country=host,
                    kind=rng.choice(AgreementKind.values),
                    status=status,
                    announced_on=announced,
                    signed_on=signed.replace(day=1),
                    signed_precision=DatePrecision.MONTH,
                    ended_on=ended,
                    summary=" ".join(sentence(rng.randint(8, 16)) for _ in range(3)),
                    compensation_notes=sentence(8),
                    publication_state=(
                        PublicationState.DRAFT
                        if rng.random() < options["draft_share"]
                        else PublicationState.PUBLISHED
                    ),
                )
            )
        Agreement.objects.bulk_create(agreements, batch_size=BATCH)

        events = [
            AgreementEvent(
                agreement=agreement,
                kind=rng.choice(EventKind.values),
                date=day(agreement.announced_on, datetime.date(2026, 11, 1)),
                description=sentence(rng.randint(8, 20)),
            )
            for agreement in agreements
            for _ in range(rng.randint(1, 5))
        ]
        AgreementEvent.objects.bulk_create(events, batch_size=BATCH)
        AgreementEvent.sources.through.objects.bulk_create(
            [
                AgreementEvent.sources.through(agreementevent_id=event.pk, source_id=source.pk)
                for event in events
                for source in set(pick_source(rng.randint(1, 2)))
            ],
            batch_size=BATCH,
        )

        pick_agreement = skewed(rng, agreements, 0.9)
        transfers = []
        for _ in range(options["transfers"]):
            agreement = pick_agreement()[0]
            people = max(1, int(rng.lognormvariate(2.5, 1.2)))
            transfers.append(
                Transfer(
                    agreement=agreement,
                    from_country=agreement.sending_country,
                    to_country=agreement.receiving_country,
                    date=day(agreement.announced_on, datetime.date(2026, 11, 1)),
                    people=people if rng.random() > 0.1 else None,
                    place=rng.choice(
                        ["", "", "Detention centre", "Airport hotel", "Reception camp"]
                    ),
                    description=sentence(rng.randint(6, 14)),
                    publication_state=(
                        PublicationState.DRAFT
                        if rng.random() < options["draft_share"]
                        else PublicationState.PUBLISHED
                    ),
                )
            )
        Transfer.objects.bulk_create(transfers, batch_size=BATCH)
        Transfer.nationalities.through.objects.bulk_create(
            [
                Transfer.nationalities.through(transfer_id=transfer.pk, country_id=country.pk)
                for transfer in transfers
                for country in set(rng.sample(countries, rng.randint(0, 3)))
            ],
            batch_size=BATCH,
        )
        Transfer.sources.through.objects.bulk_create(
            [
                Transfer.sources.through(transfer_id=transfer.pk, source_id=source.pk)
                for transfer in transfers
                for source in set(pick_source(rng.randint(1, 2)))
            ],
            batch_size=BATCH,
        )
        drafts = sum(a.publication_state == PublicationState.DRAFT for a in agreements)
        return {
            "agreements": len(agreements),
            "events": len(events),
            "transfers": len(transfers),
            "sources": len(sources),
            "drafts": drafts,
        }
