import datetime

import factory
from django.contrib.auth.models import Group, User

from agreements.models import (
    Agreement,
    AgreementEvent,
    Country,
    CourtCase,
    CourtRuling,
    ImportJob,
    Source,
    Transfer,
)

# Countries are loaded by a migration; factories pick existing ones.
_CODES = ["US", "SV", "RW", "GB", "IT", "AL", "AU", "NR", "SZ", "GH", "DK", "UG"]


def country(code: str) -> Country:
    return Country.objects.get(code=code)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    url = factory.Sequence(lambda n: f"https://news.example.org/story-{n}")
    title = factory.Sequence(lambda n: f"Report number {n}")
    publisher = "Example News"
    published_on = datetime.date(2025, 3, 16)


def is_published(record) -> bool:
    return record is not None and record.publication_state == "published"


def cite_sources(record, extracted, required):
    """Set record's sources to extracted when the test names them (sources=[] for none), else
    to one new source when the rules require one (publishing.blockers), else to none."""
    if extracted is not None:
        record.sources.set(extracted)
    elif required:
        record.sources.set([SourceFactory()])


class AgreementFactory(factory.django.DjangoModelFactory):
    """A draft agreement; published=True publishes it.

    The rules ask nothing of a published agreement's own sources: each of its events must cite
    one (AgreementEventFactory does that for a published agreement's events)."""

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    class Params:
        published = factory.Trait(publication_state="published")

    title = factory.Sequence(lambda n: f"Agreement {n}")
    slug = factory.Sequence(lambda n: f"agreement-{n}")
    sending_country = factory.Sequence(lambda n: country(_CODES[n % len(_CODES)]))
    receiving_country = factory.Sequence(lambda n: country(_CODES[(n + 1) % len(_CODES)]))
    status = "in_force"
    kind = "memorandum_of_understanding"
    summary = "A summary of the deal."
    publication_state = "draft"

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if create and extracted:
            self.sources.set(extracted)


class AgreementEventFactory(factory.django.DjangoModelFactory):
    """An event of a (draft) agreement. An event of a published agreement cites one new source,
    as the rules require; pass sources=[...] to choose them (sources=[] for none)."""

    class Meta:
        model = AgreementEvent
        skip_postgeneration_save = True

    agreement = factory.SubFactory(AgreementFactory)
    kind = "signed"
    date = datetime.date(2025, 3, 1)
    description = "The parties signed."

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if create:
            cite_sources(self, extracted, required=is_published(self.agreement))


class TransferFactory(factory.django.DjangoModelFactory):
    """A draft transfer under a draft agreement. published=True publishes both (readers see a
    transfer only under a published agreement, or with none); a published transfer cites one new
    source unless sources=[...] names them (sources=[] for none)."""

    class Meta:
        model = Transfer
        skip_postgeneration_save = True

    class Params:
        published = factory.Trait(
            publication_state="published",
            agreement=factory.SubFactory(AgreementFactory, published=True),
        )

    agreement = factory.SubFactory(AgreementFactory)
    from_country = factory.LazyAttribute(
        lambda o: o.agreement.sending_country if o.agreement else country("US")
    )
    to_country = factory.LazyAttribute(
        lambda o: o.agreement.receiving_country if o.agreement else country("SV")
    )
    date = datetime.date(2025, 3, 16)
    people = 10
    description = "A flight."
    publication_state = "draft"

    @factory.post_generation
    def nationalities(self, create, extracted, **kwargs):
        if create and extracted:
            self.nationalities.set(extracted)

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if create:
            cite_sources(self, extracted, required=is_published(self))


class CourtCaseFactory(factory.django.DjangoModelFactory):
    """A draft, decided case with one source (pass sources=[] for none); published=True
    publishes it."""

    class Meta:
        model = CourtCase
        skip_postgeneration_save = True

    class Params:
        published = factory.Trait(publication_state="published")

    name = factory.Sequence(lambda n: f"Applicant {n} v Minister")
    slug = factory.Sequence(lambda n: f"case-{n}")
    court = "Supreme Court"
    jurisdiction = factory.LazyFunction(lambda: country("GB"))
    citation = factory.Sequence(lambda n: f"[2023] UKSC {n}")
    filed_on = datetime.date(2023, 1, 10)
    decided_on = datetime.date(2023, 11, 15)
    stage = "decided"
    outcome = "The policy was held unlawful."
    publication_state = "draft"

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if create:
            self.sources.set(extracted if extracted is not None else [SourceFactory()])

    @factory.post_generation
    def agreements(self, create, extracted, **kwargs):
        if create and extracted:
            self.agreements.set(extracted)


class CourtRulingFactory(factory.django.DjangoModelFactory):
    """A ruling of a (draft) case, with one source (pass sources=[] for none)."""

    class Meta:
        model = CourtRuling
        skip_postgeneration_save = True

    case = factory.SubFactory(CourtCaseFactory)
    kind = "judgment"
    date = datetime.date(2023, 11, 15)
    description = "The court gave judgment."

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if create:
            self.sources.set(extracted if extracted is not None else [SourceFactory()])


class UserFactory(factory.django.DjangoModelFactory):
    """A staff account; groups=["Editors"] (or "Publishers") gives it a role."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))


def sources_csv(rows, start=0, header="url,title,publisher,published,kind"):
    """A sources CSV with rows data rows (docs/IMPORT.md), new URLs from number start."""
    lines = [header]
    lines += [
        f"https://news.example.org/import-{n},Imported story {n},Example News,2025-03,news"
        for n in range(start, start + rows)
    ]
    return "\n".join(lines) + "\n"


class ImportJobFactory(factory.django.DjangoModelFactory):
    """A queued import of row_count new sources."""

    class Meta:
        model = ImportJob

    kind = "sources"
    file_name = "sources.csv"
    row_count = 3
    content = factory.LazyAttribute(lambda job: sources_csv(job.row_count))
    created_by = factory.SubFactory(UserFactory, groups=["Editors"])
