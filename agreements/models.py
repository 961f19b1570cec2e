import datetime
import functools
import operator

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Count, Exists, F, Func, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractYear, Least
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from agreements import l10n
from agreements.dates import (
    DatePrecision,
    format_partial_date,
    period_end,
    precision_constraint,
    truncate_to_precision,
)
from agreements.display import TransferDisplay
from agreements.fulltext import (
    AGREEMENT_SEARCH,
    CASE_SEARCH,
    EVENT_SEARCH,
    SOURCE_SEARCH,
    TRANSFER_SEARCH,
    full_text,
    search_vector,
)
from agreements.translations import translated, translation_field_names
from tracker.reversing import fast_reverse


class Region(models.TextChoices):
    AFRICA = "africa", _("Africa")
    ASIA = "asia", _("Asia")
    EUROPE = "europe", _("Europe")
    NORTH_AMERICA = "north_america", _("North America")
    SOUTH_AMERICA = "south_america", _("South America")
    OCEANIA = "oceania", _("Oceania")
    ANTARCTICA = "antarctica", _("Antarctica")


class CountryQuerySet(models.QuerySet):
    def with_record_counts(self):
        """Annotate published agreements (either side) and published transfers (either way)."""
        # Two counts added rather than one with OR: each side can use its own index, and a
        # record is never counted twice because both sides are never the same country (a
        # database constraint on both models).
        agreements = Agreement.objects.published()
        transfers = Transfer.objects.published()
        return self.annotate(
            agreement_count=_subquery_count(agreements.filter(sending_country=OuterRef("pk")))
            + _subquery_count(agreements.filter(receiving_country=OuterRef("pk"))),
            transfer_count=_subquery_count(transfers.filter(from_country=OuterRef("pk")))
            + _subquery_count(transfers.filter(to_country=OuterRef("pk"))),
        )

    def with_records(self):
        """Countries party to a published agreement or a published transfer, with their counts:
        the country index, its download, the API and the sitemap list these."""
        return self.with_record_counts().filter(Q(agreement_count__gt=0) | Q(transfer_count__gt=0))


def _subquery_count(queryset):
    counted = queryset.order_by().annotate(n=Func(F("id"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=models.IntegerField()), 0)


class ChoiceLabels:
    """get_<field>_display() that looks up one label. Django's builds a dict of every choice on
    each call, hashing each label: with translated (lazy) labels that is a translation per
    choice per call, 450 on a list of 25 agreements. The labels' dict is built once per field
    and only the label shown is translated."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        label = _choice_labels(field).get(value, value)
        return force_str(label, strings_only=True)


@functools.cache
def _choice_labels(field) -> dict:
    return dict(field.flatchoices)


class Country(ChoiceLabels, models.Model):
    """A party to agreements or a nationality. ISO 3166-1, plus Kosovo and the EU."""

    code = models.CharField(
        "ISO alpha-2 code",
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Two capital letters, e.g. SV.")],
    )
    alpha3 = models.CharField("ISO alpha-3 code", max_length=3, unique=True)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    region = models.CharField(max_length=20, choices=Region.choices)
    # The EU makes agreements (EU-Turkey 2016) but is a bloc, not a state.
    is_state = models.BooleanField(default=True)

    objects = CountryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return fast_reverse("country-detail", "code", self.code.lower())

    @property
    def local_name(self):
        """The name in the page's language (CLDR), for readers; `name` is the record's."""
        return l10n.country_name(self.code, self.name)

    display_name = local_name


class AgreementKind(models.TextChoices):
    MEMORANDUM = (
        "memorandum_of_understanding",
        pgettext_lazy("kind of instrument", "Memorandum of understanding"),
    )
    FORMAL_AGREEMENT = "formal_agreement", pgettext_lazy("kind of instrument", "Formal agreement")
    SAFE_THIRD_COUNTRY = (
        "safe_third_country_agreement",
        pgettext_lazy("kind of instrument", "Safe third country agreement"),
    )
    PROTOCOL = "protocol", pgettext_lazy("kind of instrument", "Protocol")
    EXCHANGE_OF_LETTERS = (
        "exchange_of_letters",
        pgettext_lazy("kind of instrument", "Exchange of letters"),
    )
    POLITICAL_STATEMENT = (
        "political_statement",
        pgettext_lazy("kind of instrument", "Political statement"),
    )
    INFORMAL_ARRANGEMENT = (
        "informal_arrangement",
        pgettext_lazy("kind of instrument", "Informal or verbal arrangement"),
    )
    UNKNOWN = "unknown", pgettext_lazy("kind of instrument", "Unknown")


class LegalBindingness(models.TextChoices):
    BINDING = "binding", pgettext_lazy("legally binding", "Binding")
    NON_BINDING = "non_binding", pgettext_lazy("legally binding", "Non-binding")
    UNCLEAR = "unclear", pgettext_lazy("legally binding", "Unclear")


class TextDisclosure(models.TextChoices):
    PUBLISHED = "published", pgettext_lazy("agreement text", "Published")
    LEAKED = "leaked", pgettext_lazy("agreement text", "Leaked")
    UNDISCLOSED = "undisclosed", pgettext_lazy("agreement text", "Undisclosed")


class AgreementStatus(models.TextChoices):
    # Translators: Where an agreement stands, shown as a badge beside it: agree with "agreement".
    REPORTED = "reported", pgettext_lazy("agreement status", "Reported")
    UNDER_NEGOTIATION = "under_negotiation", pgettext_lazy("agreement status", "Under negotiation")
    ANNOUNCED = "announced", pgettext_lazy("agreement status", "Announced")
    SIGNED = "signed", pgettext_lazy("agreement status", "Signed")
    IN_FORCE = "in_force", pgettext_lazy("agreement status", "In force")
    SUSPENDED = "suspended", pgettext_lazy("agreement status", "Suspended")
    STRUCK_DOWN = "struck_down", pgettext_lazy("agreement status", "Struck down")
    TERMINATED = "terminated", pgettext_lazy("agreement status", "Terminated")
    DENIED = "denied", pgettext_lazy("agreement status", "Denied")


class SourceKind(models.TextChoices):
    NEWS = "news", pgettext_lazy("kind of source", "News")
    GOVERNMENT = "government", pgettext_lazy("kind of source", "Government")
    COURT = "court", pgettext_lazy("kind of source", "Court")
    NGO = "ngo", pgettext_lazy("kind of source", "NGO")
    INTERNATIONAL_ORGANISATION = (
        "international_organisation",
        pgettext_lazy("kind of source", "International organisation"),
    )
    OTHER = "other", pgettext_lazy("kind of source", "Other")


class PublicationState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("publication state", "Draft")
    IN_REVIEW = "in_review", pgettext_lazy("publication state", "In review")
    PUBLISHED = "published", pgettext_lazy("publication state", "Published")
    WITHDRAWN = "withdrawn", pgettext_lazy("publication state", "Withdrawn")


# States an editor may move a record between; publishing and withdrawing need a publisher.
EDITOR_STATES = {PublicationState.DRAFT, PublicationState.IN_REVIEW}


def may_change_publication(user, old_state: str, new_state: str) -> bool:
    """Whether user may move a record from old_state to new_state (unchanged is always fine)."""
    if old_state == new_state or can_publish(user):
        return True
    return old_state in EDITOR_STATES and new_state in EDITOR_STATES


def can_preview(user) -> bool:
    """Staff who can see drafts in the admin can preview them on the public pages."""
    return user.is_staff and user.has_perm("agreements.view_agreement")


def can_publish(user) -> bool:
    return user.is_superuser or user.has_perm("agreements.publish_records")


def VersionField():  # noqa: N802 (reads like a field class where it is used)
    """Counts the saves of a record's content (optimistic locking, agreements/publishing.py):
    a form or a proposal carries the version it was loaded from, and saving over a newer one is
    refused instead of silently undoing the other edit."""
    return models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every saved change of the content."
    )


def withdrawal_constraint(prefix):
    """A withdrawn record says why, publicly: its tombstone page shows the reason."""
    return models.CheckConstraint(
        condition=~Q(publication_state=PublicationState.WITHDRAWN)
        | (~Q(withdrawal_reason="") & Q(withdrawn_at__isnull=False)),
        name=f"{prefix}_withdrawal_has_reason",
        violation_error_message="Say publicly why the record is withdrawn.",
    )


class ReviewedRecord(ChoiceLabels, models.Model):
    """What every record with a public face and a review workflow carries: its publication
    state (changed only by agreements/publishing.py), the public reason if withdrawn, editors'
    private notes, and the version that guards against lost updates."""

    publication_state = models.CharField(
        max_length=10, choices=PublicationState.choices, default=PublicationState.DRAFT
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawal_reason = models.TextField(
        blank=True,
        editable=False,
        help_text="Public: shown on the withdrawn record's page and in the change log.",
    )
    internal_notes = models.TextField(
        blank=True, help_text="For editors only; never shown publicly."
    )
    version = VersionField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_published(self):
        return self.publication_state == PublicationState.PUBLISHED


class SourceQuerySet(models.QuerySet):
    def cited_publicly(self):
        """Sources cited by a published agreement or its events, a published transfer, or a
        published court case or its rulings: the public source list, its downloads, the data
        releases, search and the API."""
        return self.filter(_cited_publicly())

    def listed_publicly(self):
        """cited_publicly(), newest first: the public source list and its download."""
        return self.cited_publicly().order_by("-published_on", "url")

    def shown_publicly(self):
        """cited_publicly(), and the sources behind a published transfer's reported figures:
        every source some public page shows."""
        figures = ReportedFigure.objects.filter(
            source=OuterRef("pk"), transfer__in=Transfer.objects.published()
        )
        return self.filter(_cited_publicly() | Exists(figures))

    def with_link_check(self):
        """Each source with its last link check (LinkCheck), joined in: what the public
        source lists show (includes/link_health.html) without a query per source."""
        return self.select_related("link_check")


def _cited_publicly():
    agreements = Agreement.objects.published()
    cases = CourtCase.objects.published()
    return (
        Exists(
            Agreement.sources.through.objects.filter(
                source=OuterRef("pk"), agreement__in=agreements
            )
        )
        | Exists(
            AgreementEvent.sources.through.objects.filter(
                source=OuterRef("pk"), agreementevent__agreement__in=agreements
            )
        )
        | Exists(
            Transfer.sources.through.objects.filter(
                source=OuterRef("pk"), transfer__in=Transfer.objects.published()
            )
        )
        | Exists(
            CourtCase.sources.through.objects.filter(source=OuterRef("pk"), courtcase__in=cases)
        )
        | Exists(
            CourtRuling.sources.through.objects.filter(
                source=OuterRef("pk"), courtruling__case__in=cases
            )
        )
    )


class Source(ChoiceLabels, models.Model):
    url = models.URLField("URL", max_length=500, unique=True)
    title = models.CharField(max_length=500)
    publisher = models.CharField(max_length=200, blank=True)
    published_on = models.DateField("publication date", null=True, blank=True)
    published_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    accessed_on = models.DateField("access date", null=True, blank=True)
    archive_url = models.URLField("archive URL", max_length=500, blank=True)
    kind = models.CharField(max_length=30, choices=SourceKind.choices, default=SourceKind.NEWS)
    internal_notes = models.TextField(
        blank=True, help_text="For editors only; never shown publicly."
    )
    version = VersionField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [precision_constraint("source", "published_on", "published_precision")]
        indexes = [
            GinIndex(search_vector(*SOURCE_SEARCH), name="source_search"),
            # The sources page's order: its first page without sorting 20,000 sources.
            models.Index(fields=["-published_on", "url"], name="source_published"),
        ]

    def __str__(self):
        return f"{self.publisher}: {self.title}" if self.publisher else self.title

    def clean(self):
        self.published_on = truncate_to_precision(self.published_on, self.published_precision)

    @property
    def published_display(self):
        return format_partial_date(self.published_on, self.published_precision)

    @property
    def current_link_check(self):
        """The last check of this source's URL as it stands, or None: never checked, or checked
        before an editor changed the URL. Free when the query had select_related("link_check")."""
        try:
            check = self.link_check
        except LinkCheck.DoesNotExist:
            return None
        return check if check.url == self.url else None


class LinkHealth(models.TextChoices):
    """What `manage.py check_sources` last saw at a source's URL (agreements/links.py).

    A network failure on our side (no DNS answer, connection refused, timeout) is no answer
    about the link at all: it is reported as "unreachable" and never stored, so it cannot make
    a link dead nor hide the last real result."""

    OK = "ok", pgettext_lazy("link health", "Working")
    # It answers, after redirects, at another address.
    MOVED = "moved", pgettext_lazy("link health", "Moved")
    # 401, 403, 429: paywalls and bot walls.
    BLOCKED = "blocked", pgettext_lazy("link health", "Refuses automated checks")
    # 5xx, a redirect loop: dead only if it lasts.
    ERROR = "error", pgettext_lazy("link health", "Server error")
    # 404, 410 and other 4xx, or an error on ERRORS_BEFORE_DEAD checks.
    DEAD = "dead", pgettext_lazy("link health", "Dead")


class LinkCheck(ChoiceLabels, models.Model):
    """The last real answer a source's URL gave `manage.py check_sources`.

    Machine-observed metadata, not editorial content, so it lives beside the Source instead of
    in it: checking a link must not bump the source's version (an editor's open form would turn
    stale every night), fill its history with a row a day, or need the review that a change of
    a published source does. An editor changes a source; the checker only observes it. The
    archive link it finds, by contrast, is content and is stored on the Source through
    agreements/publishing.py.

    `url` is the address that was checked: when an editor changes the source's URL, the check
    no longer applies (Source.current_link_check) until the next run checks the new one.
    """

    source = models.OneToOneField(
        Source, on_delete=models.CASCADE, primary_key=True, related_name="link_check"
    )
    url = models.URLField("checked URL", max_length=500)
    status = models.CharField(max_length=10, choices=LinkHealth.choices)
    http_status = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    final_url = models.URLField(
        "final URL", max_length=2048, help_text="Where the URL led after redirects."
    )
    checked_at = models.DateTimeField()
    error = models.TextField("last error", blank=True)
    consecutive_errors = models.PositiveSmallIntegerField(
        default=0, help_text="Server errors in a row; this many make the link dead."
    )

    ERRORS_BEFORE_DEAD = 3  # a server down for three daily checks is taken as gone

    class Meta:
        verbose_name = "link check"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=LinkHealth.values), name="linkcheck_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=LinkHealth.OK)
                | Q(final_url=F("url"), http_status__gte=200, http_status__lt=300),
                name="linkcheck_ok_answers_at_its_url",
                violation_error_message="A working link answers 2xx at its own URL.",
            ),
            models.CheckConstraint(
                condition=~Q(status=LinkHealth.MOVED)
                | (
                    ~Q(final_url="")
                    & ~Q(final_url=F("url"))
                    & Q(http_status__gte=200, http_status__lt=300)
                ),
                name="linkcheck_moved_has_new_url",
                violation_error_message="A moved link answers 2xx at a final URL of its own.",
            ),
            models.CheckConstraint(
                condition=~Q(status=LinkHealth.ERROR) | ~Q(error=""),
                name="linkcheck_error_says_why",
                violation_error_message="A server error is recorded with what went wrong.",
            ),
            models.CheckConstraint(
                condition=Q(consecutive_errors=0)
                | Q(status__in=[LinkHealth.ERROR, LinkHealth.DEAD]),
                name="linkcheck_error_count_only_when_failing",
            ),
        ]
        indexes = [
            # The admin's link health filter and the dead-link list of the editors.
            models.Index(fields=["status"], name="linkcheck_status"),
        ]

    def __str__(self):
        return f"{self.get_status_display()}: {self.url}"

    def get_absolute_url(self):
        # Staff only: the check is shown on its source's admin page.
        return reverse("admin:agreements_source_change", args=[self.source_id])


AGREEMENT_DATE_FIELDS = ("announced", "signed", "in_force", "ended")
# The dates an agreement is first known by (AgreementQuerySet.with_first_date takes the earliest).
FIRST_DATE_FIELDS = ("announced", "signed", "in_force")


def _was_published(model, ref="pk"):
    """The record (by ref) has a history version in the published state: it was public once."""
    return Exists(
        model.history.filter(id=OuterRef(ref), publication_state=PublicationState.PUBLISHED)
    )


class ReviewedQuerySet(models.QuerySet):
    """What readers see of a reviewed record (agreements, transfers, court cases): every public
    page, count, download and feed asks these, so "public" is defined here only."""

    def _public(self):
        return Q(publication_state=PublicationState.PUBLISHED)

    def _gone(self):
        return Q(publication_state=PublicationState.WITHDRAWN) & Q(_was_published(self.model))

    def published(self):
        return self.filter(self._public())

    def withdrawn(self):
        """Withdrawn after they were published: their addresses answer 410 Gone with a page
        saying what they were (agreements.tombstones). One never published is a plain 404."""
        return self.filter(self._gone())

    def on_record(self):
        """Published now or withdrawn(): the public change log keeps them."""
        return self.filter(self._public() | self._gone())

    def visible_to(self, user):
        """What user's public pages show: the published records, or every record for staff
        who can preview (their pages are marked as a preview and never cached)."""
        return self if can_preview(user) else self.published()


class AgreementQuerySet(ReviewedQuerySet):
    def involving(self, country):
        return self.filter(Q(sending_country=country) | Q(receiving_country=country))

    def status_counts(self):
        """[(status, label, count)] in the order of AgreementStatus, statuses with none left out."""
        counts = dict(self.order_by().values_list("status").annotate(n=Count("id")))
        return [
            (value, label, counts[value])
            for value, label in AgreementStatus.choices
            if counts.get(value)
        ]

    def with_parties(self):
        return self.select_related("sending_country", "receiving_country")

    # What a row of includes/agreement_table.html shows: not the long texts.
    TABLE_FIELDS = (
        "id", "title", *translation_field_names("title"),
        "slug", "status", "kind", "publication_state", "updated_at",
        "sending_country__id", "sending_country__code", "sending_country__name",
        "receiving_country__id", "receiving_country__code", "receiving_country__name",
        # The date column: the earliest of these, at its precision (Agreement.first_dated).
        "announced_on", "announced_precision", "signed_on", "signed_precision",
        "in_force_on", "in_force_precision",
    )  # fmt: skip

    def for_table(self):
        return self.with_parties().only(*self.TABLE_FIELDS)

    def search(self, text):
        """Full-text matches, annotated with rank: a title match outranks a summary match."""
        return full_text(self, AGREEMENT_SEARCH, text)

    def missing_sources(self):
        """Agreements with an event that cites no source: not publishable as they stand."""
        return self.filter(events__isnull=False, events__sources__isnull=True).distinct()

    def with_first_date(self):
        # Least() skips NULLs in Postgres: the earliest date the agreement is known by.
        return self.annotate(first_date=Least("announced_on", "signed_on", "in_force_on"))


class Agreement(ReviewedRecord):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=100, unique=True)
    # PROTECT: a country referenced by agreements must never disappear with them.
    sending_country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        related_name="agreements_as_sender",
        help_text="The state that sends people out.",
    )
    receiving_country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        related_name="agreements_as_host",
        help_text="The state that receives (hosts) them.",
    )
    kind = models.CharField(
        max_length=40, choices=AgreementKind.choices, default=AgreementKind.UNKNOWN
    )
    legal_bindingness = models.CharField(
        max_length=20, choices=LegalBindingness.choices, default=LegalBindingness.UNCLEAR
    )
    text_disclosure = models.CharField(
        max_length=20, choices=TextDisclosure.choices, default=TextDisclosure.UNDISCLOSED
    )
    status = models.CharField(
        max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.REPORTED
    )

    announced_on = models.DateField(null=True, blank=True)
    announced_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    signed_on = models.DateField(null=True, blank=True)
    signed_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    in_force_on = models.DateField("in force from", null=True, blank=True)
    in_force_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    ended_on = models.DateField(null=True, blank=True)
    ended_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )

    summary = models.TextField(blank=True)
    # Translations (agreements/translations.py): blank where there is none.
    title_es = models.CharField("title (Spanish)", max_length=300, blank=True)
    title_fr = models.CharField("title (French)", max_length=300, blank=True)
    title_ar = models.CharField("title (Arabic)", max_length=300, blank=True)
    summary_es = models.TextField("summary (Spanish)", blank=True)
    summary_fr = models.TextField("summary (French)", blank=True)
    summary_ar = models.TextField("summary (Arabic)", blank=True)
    compensation_amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    compensation_currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code such as USD, GBP or EUR.")],
    )
    compensation_notes = models.TextField(blank=True)
    cap = models.IntegerField(
        "cap on the number of people", null=True, blank=True, validators=[MinValueValidator(0)]
    )
    eligible_populations = models.TextField(blank=True)
    text_url = models.URLField("link to the published text", max_length=500, blank=True)
    sources = models.ManyToManyField(Source, blank=True, related_name="agreements")

    objects = AgreementQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"], m2m_fields=[sources])

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(sending_country=F("receiving_country")),
                name="agreement_sending_differs_from_receiving",
                violation_error_message="The sending and receiving country must differ.",
            ),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gte=0),
                name="agreement_cap_not_negative",
                violation_error_message="The cap cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(compensation_amount__isnull=True) | Q(compensation_amount__gte=0),
                name="agreement_compensation_not_negative",
                violation_error_message="The compensation amount cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(compensation_amount__isnull=True) | ~Q(compensation_currency=""),
                name="agreement_compensation_has_currency",
                violation_error_message="Give the currency of the compensation amount.",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(ended_on__isnull=True)
                    | Q(**{f"{start}_on__isnull": True})
                    | Q(ended_on__gte=F(f"{start}_on")),
                    name=f"agreement_ended_not_before_{start}",
                    violation_error_message=f"The end date cannot be before the {label} date.",
                )
                for start, label in (
                    ("announced", "announcement"),
                    ("signed", "signature"),
                    ("in_force", "entry-into-force"),
                )
            ],
            *[
                precision_constraint("agreement", f"{name}_on", f"{name}_precision")
                for name in AGREEMENT_DATE_FIELDS
            ],
            withdrawal_constraint("agreement"),
        ]
        indexes = [
            # Public list filters (status, kind) always combine with the publication state.
            models.Index(fields=["publication_state", "status"], name="agreement_published_status"),
            models.Index(fields=["publication_state", "kind"], name="agreement_published_kind"),
            # Home page "recently updated".
            models.Index(fields=["-updated_at"], name="agreement_updated"),
            # A country page's agreements, by title, without sorting all of them.
            models.Index(
                fields=["sending_country", "publication_state", "title"], name="agreement_sent"
            ),
            models.Index(
                fields=["receiving_country", "publication_state", "title"],
                name="agreement_hosted",
            ),
            # Date-range filter on the list: the earliest known date.
            models.Index(
                Least("announced_on", "signed_on", "in_force_on"), name="agreement_first_date"
            ),
            # Full-text search (the search page and the list's text filter).
            GinIndex(search_vector(*AGREEMENT_SEARCH), name="agreement_search"),
        ]
        permissions = [
            ("publish_records", "Can publish and withdraw agreements and transfers"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return fast_reverse("agreement-detail", "slug", self.slug)

    @property
    def display_name(self):
        """The title in the page's language (agreements.translations), for readers."""
        return translated(self, "title")[0]

    def clean(self):
        # Store partial dates canonically instead of refusing "2025-03-16, month precision".
        for name in AGREEMENT_DATE_FIELDS:
            value = getattr(self, f"{name}_on")
            setattr(
                self, f"{name}_on", truncate_to_precision(value, getattr(self, f"{name}_precision"))
            )

    def dated(self, name):
        return format_partial_date(getattr(self, f"{name}_on"), getattr(self, f"{name}_precision"))

    @property
    def first_dated(self):
        """The earliest known date (the one with_first_date() sorts and filters on), as
        precisely as it is known ("March 2025"); "" when the agreement has none."""
        known = [name for name in FIRST_DATE_FIELDS if getattr(self, f"{name}_on")]
        if not known:
            return ""
        return self.dated(min(known, key=lambda name: getattr(self, f"{name}_on")))

    def cited_sources(self, more_sources=()):
        """Sources on the agreement itself and its events (as prefetched), and more_sources
        (those of the transfers a page shows), once each."""
        found = {source.pk: source for source in self.sources.all()}
        for event in self.events.all():
            found.update((source.pk, source) for source in event.sources.all())
        found.update((source.pk, source) for source in more_sources)
        # Oldest first, undated last.
        return sorted(found.values(), key=lambda s: (s.published_on or datetime.date.max, s.title))

    @property
    def key_dates(self):
        """(label, formatted date) for each known date, in the order they happen."""
        labels = {
            "announced": pgettext("date of an agreement", "Announced"),
            "signed": pgettext("date of an agreement", "Signed"),
            "in_force": pgettext("date of an agreement", "In force"),
            "ended": pgettext("date of an agreement", "Ended"),
        }
        return [
            (labels[name], self.dated(name))
            for name in AGREEMENT_DATE_FIELDS
            if getattr(self, f"{name}_on")
        ]


class EventKind(models.TextChoices):
    # Translators: What happened on a date in an agreement's timeline: an event, not a status.
    NEGOTIATIONS = "negotiations", pgettext_lazy("timeline event", "Negotiations reported")
    REPORTED = "reported", pgettext_lazy("timeline event", "Reported")
    ANNOUNCED = "announced", pgettext_lazy("timeline event", "Announced")
    SIGNED = "signed", pgettext_lazy("timeline event", "Signed")
    IN_FORCE = "in_force", pgettext_lazy("timeline event", "Entered into force")
    FIRST_TRANSFER = "first_transfer", pgettext_lazy("timeline event", "First transfer")
    COURT_RULING = "court_ruling", pgettext_lazy("timeline event", "Court ruling")
    SUSPENDED = "suspended", pgettext_lazy("timeline event", "Suspended")
    TERMINATED = "terminated", pgettext_lazy("timeline event", "Terminated")
    DENIED = "denied", pgettext_lazy("timeline event", "Denied")
    OTHER = "other", pgettext_lazy("timeline event", "Other")


class AgreementEventQuerySet(models.QuerySet):
    def published(self):
        """The events of published agreements: an event is public when its agreement is."""
        return self.filter(agreement__in=Agreement.objects.published())


class AgreementEvent(ChoiceLabels, models.Model):
    """One dated step in an agreement's timeline. Public when its agreement is."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices, default=EventKind.OTHER)
    date = models.DateField()
    date_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    description = models.TextField()
    # Translations (agreements/translations.py): blank where there is none.
    description_es = models.TextField("description (Spanish)", blank=True)
    description_fr = models.TextField("description (French)", blank=True)
    description_ar = models.TextField("description (Arabic)", blank=True)
    # PROTECT: a case named by a timeline is withdrawn, not deleted (agreements/protection.py).
    court_case = models.ForeignKey(
        "CourtCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        help_text="For a court ruling: the case it was made in (its page is linked).",
    )
    sources = models.ManyToManyField(Source, blank=True, related_name="events")
    internal_notes = models.TextField(
        blank=True, help_text="For editors only; never shown publicly."
    )

    objects = AgreementEventQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[sources])

    class Meta:
        ordering = ["date", "id"]
        verbose_name = "agreement event"
        constraints = [
            precision_constraint("event", "date", "date_precision"),
            models.CheckConstraint(
                condition=Q(court_case__isnull=True) | Q(kind=EventKind.COURT_RULING),
                name="event_case_only_for_rulings",
                violation_error_message="Only a court ruling links to a court case.",
            ),
        ]
        indexes = [GinIndex(search_vector(*EVENT_SEARCH), name="event_search")]

    def __str__(self):
        return f"{self.get_kind_display()}, {self.date_display}"

    def clean(self):
        self.date = truncate_to_precision(self.date, self.date_precision)
        if self.court_case_id and self.kind != EventKind.COURT_RULING:
            raise ValidationError({"court_case": "Only a court ruling links to a court case."})

    @property
    def date_display(self):
        return format_partial_date(self.date, self.date_precision)


# How many transfers, the sum of their known head-counts, and how far to trust that sum: the
# transfers with no count at all (unknown is not zero) and those whose count is a floor.
HEAD_COUNTS = {
    "transfer_count": Count("id"),
    "people_total": Coalesce(Sum("people"), 0),
    "unknown_count": Count("id", filter=Q(people__isnull=True)),
    "uncertain_count": Count("id", filter=Q(people__isnull=True) | Q(people_is_minimum=True)),
}


class TransferQuerySet(ReviewedQuerySet):
    def _public(self):
        # A transfer under a draft agreement stays hidden: showing it would reveal the draft.
        published = PublicationState.PUBLISHED
        return Q(publication_state=published) & (
            Q(agreement__isnull=True) | Q(agreement__publication_state=published)
        )

    def _gone(self):
        # Withdrawn itself after it was public, or public itself and gone with its agreement
        # (withdrawn after publication): it was public only through that agreement.
        published, withdrawn = PublicationState.PUBLISHED, PublicationState.WITHDRAWN
        agreement_gone = Q(agreement__publication_state=withdrawn) & Q(
            _was_published(Agreement, "agreement_id")
        )
        agreement_on_record = (
            Q(agreement__isnull=True) | Q(agreement__publication_state=published) | agreement_gone
        )
        return Q(_was_published(Transfer)) & (
            (Q(publication_state=withdrawn) & agreement_on_record)
            | (Q(publication_state=published) & agreement_gone)
        )

    def involving(self, country):
        return self.filter(Q(from_country=country) | Q(to_country=country))

    def missing_sources(self):
        return self.filter(sources__isnull=True)

    def by_year(self):
        """[{year, transfer_count, people_total}] in year order."""
        return list(
            self.order_by()
            .annotate(year=ExtractYear("date"))
            .values("year")
            .annotate(**HEAD_COUNTS)
            .order_by("year")
        )

    def nationality_counts(self):
        """[{code, name, transfer_count}]: how many of these transfers included each nationality."""
        through = Transfer.nationalities.through.objects.filter(
            transfer__in=self.order_by().values("pk")
        )
        return list(
            through.values(code=F("country__code"), name=F("country__name"))
            .annotate(transfer_count=Count("transfer"))
            .order_by("-transfer_count", "name")
        )

    def partner_counts(self, direction):
        """[{code, name, transfer_count, people_total}] of the countries on the other end."""
        other = "from_country" if direction == "in" else "to_country"
        return list(
            self.order_by()
            .values(code=F(f"{other}__code"), name=F(f"{other}__name"))
            .annotate(**HEAD_COUNTS)
            .order_by("-people_total", "name")
        )

    def totals(self):
        """HEAD_COUNTS of these transfers: their number, the sum of the known head-counts, how
        many have no count and how many counts are unknown or floors."""
        return self.aggregate(**HEAD_COUNTS)

    # Onward removals as the public pages count them: only a *published* earlier transfer
    # makes a transfer onward, so a hidden record never shows through a mark, a filter or a
    # count (a published transfer that continues only a draft reads as a first leg).

    @staticmethod
    def continues_any(earlier):
        """An expression, true for a transfer that continues one of `earlier` (a queryset)."""
        links = Transfer.continues.through.objects.filter(
            from_transfer=OuterRef("pk"), to_transfer__in=earlier.order_by().values("pk")
        )
        return Exists(links)

    def continuing(self, earlier):
        """Those of these transfers that continue one of `earlier` (a Transfer queryset)."""
        return self.filter(self.continues_any(earlier))

    def onward(self):
        """Onward removals: transfers that continue a published transfer."""
        return self.continuing(Transfer.objects.published())

    def first_legs(self):
        """Transfers that continue no published transfer: the people's first recorded move."""
        return self.exclude(self.continues_any(Transfer.objects.published()))

    def onward_totals(self):
        """totals() of these transfers' first legs, of their onward removals, and of the onward
        removals that continue a first leg ("sent_on": people moved on again from the country
        they were first taken to; a later move of the same people is not counted twice), in
        one query. Earlier transfers count only when published."""
        published = Transfer.objects.published()
        groups = {
            "first_legs": ~Q(is_onward=True),
            "onward": Q(is_onward=True),
            "sent_on": Q(is_sent_on=True),
        }
        unsure = Q(people__isnull=True) | Q(people_is_minimum=True)
        aggregates = {}
        for group, condition in groups.items():
            aggregates[f"{group}__transfer_count"] = Count("id", filter=condition)
            aggregates[f"{group}__people_total"] = Coalesce(Sum("people", filter=condition), 0)
            aggregates[f"{group}__uncertain_count"] = Count("id", filter=condition & unsure)
        flat = (
            self.order_by()
            .annotate(
                is_onward=self.continues_any(published),
                is_sent_on=self.continues_any(published.first_legs()),
            )
            .aggregate(**aggregates)
        )
        totals = {group: {} for group in groups}
        for key, value in flat.items():
            group, name = key.split("__")
            totals[group][name] = value
        return totals


class Transfer(TransferDisplay, ReviewedRecord):
    """A movement of a group of people from one country to another."""

    # PROTECT: deleting an agreement must not silently delete or orphan its transfers.
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers",
        help_text="Leave empty when no agreement is known.",
    )
    from_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="transfers_in")
    date = models.DateField()
    date_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    people = models.IntegerField(
        "number of people",
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Leave empty when no reliable count is known.",
    )
    people_is_minimum = models.BooleanField(
        "at least", default=False, help_text="The count is a floor (“at least”, “more than”)."
    )
    nationalities = models.ManyToManyField(
        Country, blank=True, related_name="transfers_as_nationality"
    )
    place = models.CharField("facility or place", max_length=200, blank=True)
    description = models.TextField(blank=True)
    # Translations (agreements/translations.py): blank where there is none.
    description_es = models.TextField("description (Spanish)", blank=True)
    description_fr = models.TextField("description (French)", blank=True)
    description_ar = models.TextField("description (Arabic)", blank=True)
    sources = models.ManyToManyField(Source, blank=True, related_name="transfers")
    # Onward removal (chain refoulement): the earlier transfer(s) that brought these people to
    # the country this transfer leaves. A database trigger (migration 0013) holds the rule that
    # clean_continues() explains: it leaves the country they ended in, not before they arrived.
    continues = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="continued_by",
        verbose_name="continues transfer(s)",
        help_text="For an onward removal: the transfer(s) that brought these people to the "
        "country this one leaves.",
    )

    objects = TransferQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["created_at", "updated_at"],
        m2m_fields=[sources, nationalities, continues],
    )

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_country=F("to_country")),
                name="transfer_from_differs_from_to",
                violation_error_message="The origin and destination country must differ.",
            ),
            models.CheckConstraint(
                condition=Q(people__isnull=True) | Q(people__gte=0),
                name="transfer_people_not_negative",
                violation_error_message="The number of people cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(people_is_minimum=False) | Q(people__isnull=False),
                name="transfer_minimum_needs_count",
                violation_error_message="“At least” needs a number of people.",
            ),
            precision_constraint("transfer", "date", "date_precision"),
            withdrawal_constraint("transfer"),
        ]
        indexes = [
            # Public transfer list: published rows by date (default order and date range).
            models.Index(fields=["publication_state", "-date"], name="transfer_published_date"),
            # An agreement's and a country's first transfers by date, without walking every
            # transfer in date order (EXPLAIN on 100,000 transfers: 5 ms -> well under 1 ms).
            models.Index(
                fields=["agreement", "publication_state", "date", "id"],
                name="transfer_agreement_date",
            ),
            models.Index(
                fields=["to_country", "publication_state", "date", "id"], name="transfer_to_date"
            ),
            models.Index(
                fields=["from_country", "publication_state", "date", "id"],
                name="transfer_from_date",
            ),
            GinIndex(search_vector(*TRANSFER_SEARCH), name="transfer_search"),
        ]

    def __str__(self):
        return f"{self.from_country} → {self.to_country}, {self.date_display}"

    def get_absolute_url(self):
        return fast_reverse("transfer-detail", "pk", self.pk)

    @property
    def display_name(self):
        """str() with the countries named in the page's language, for readers."""
        # Translators: a transfer's name: where people were sent from, to, and when.
        return gettext("%(origin)s → %(destination)s, %(date)s") % {
            "origin": self.from_country.local_name,
            "destination": self.to_country.local_name,
            "date": self.date_display,
        }

    @property
    def is_published(self):
        """Public only when it and its agreement (if any) are published."""
        published = self.publication_state == PublicationState.PUBLISHED
        return published and (self.agreement is None or self.agreement.is_published)

    def figure_spread(self):
        """(lowest, highest, figures) when sources report different head-counts, else None.

        Uses prefetched reported_figures where a page prefetched them.
        """
        figures = list(self.reported_figures.all())
        counts = {figure.people for figure in figures}
        if self.people is not None:
            counts.add(self.people)
        if len(counts) < 2:
            return None
        return min(counts), max(counts), figures

    def clean(self):
        self.date = truncate_to_precision(self.date, self.date_precision)

    @property
    def is_onward(self):
        """Whether it continues an earlier transfer (prefetched `continues` where a page has it)."""
        return bool(self.continues.all())

    def onward_problems(self, earlier_transfers) -> list[str]:
        """Why this transfer cannot continue earlier_transfers: the rule the database trigger
        `transfer_onward_check` enforces, in words. Dates compare by period, so an onward
        removal dated "September 2025" may continue one of 15 September 2025."""
        problems = []
        latest = period_end(self.date, self.date_precision)
        for earlier in earlier_transfers:
            if self.pk is not None and earlier.pk == self.pk:
                problems.append("A transfer cannot continue itself.")
                continue
            if earlier.to_country_id != self.from_country_id:
                problems.append(
                    f"It continues “{earlier}”, which ended in {earlier.to_country}, so it must "
                    f"start there, not in {self.from_country}."
                )
            if latest is not None and earlier.date and latest < earlier.date:
                problems.append(
                    f"It continues “{earlier}”, so it cannot be dated before it "
                    f"({earlier.date_display})."
                )
        return problems

    def chain_before(self, visible=None):
        """The transfers that brought these people here, earliest first: each continued
        transfer, and what it continued in turn. visible limits them (public pages pass the
        published transfers). Guarded against loops."""
        return _walk(self, "continues", visible)

    def chain_after(self, visible=None):
        """Where these people were sent on to, and on from there."""
        return _walk(self, "continued_by", visible)


def _walk(transfer, relation, visible):
    queryset = Transfer.objects.select_related("from_country", "to_country", "agreement")
    if visible is not None:
        queryset = queryset & visible
    seen, found, frontier = {transfer.pk}, [], [transfer.pk]
    while frontier:
        # One query per step of the chain, not per transfer: chains are a few steps long.
        # The transfers T continues are those "continued by" T, and the other way round.
        inverse = "continued_by" if relation == "continues" else "continues"
        step = list(queryset.filter(**{f"{inverse}__in": frontier}).exclude(pk__in=seen).distinct())
        found += step
        seen.update(t.pk for t in step)
        frontier = [t.pk for t in step]
    return sorted(found, key=lambda t: (t.date, t.pk))


class ReportedFigure(models.Model):
    """One source's head-count for a transfer, kept beside the editors' chosen figure."""

    transfer = models.ForeignKey(
        Transfer, on_delete=models.CASCADE, related_name="reported_figures"
    )
    people = models.IntegerField("number of people", validators=[MinValueValidator(0)])
    people_is_minimum = models.BooleanField("at least", default=False)
    # PROTECT: a figure without its source would be an unsourced claim.
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="reported_figures")
    note = models.CharField(max_length=300, blank=True, help_text="e.g. “first flight only”")

    history = HistoricalRecords()

    class Meta:
        ordering = ["people", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(people__gte=0),
                name="figure_people_not_negative",
                violation_error_message="The number of people cannot be negative.",
            ),
            models.UniqueConstraint(
                fields=["transfer", "source", "people"],
                name="figure_unique_per_source",
                violation_error_message="This source's figure is already recorded.",
            ),
        ]

    def __str__(self):
        prefix = "at least " if self.people_is_minimum else ""
        return f"{prefix}{self.people:,} ({self.source.publisher or self.source.title})"


class CaseStage(models.TextChoices):
    PENDING = "pending", pgettext_lazy("court case stage", "Pending")
    DECIDED = "decided", pgettext_lazy("court case stage", "Decided")
    APPEALED = "appealed", pgettext_lazy("court case stage", "Decided, under appeal")
    REFERRED = "referred", pgettext_lazy("court case stage", "Referred to a higher court")
    CLOSED = "closed", pgettext_lazy("court case stage", "Closed without a ruling on the merits")


# Stages that say a court has decided: they need the decision's date.
DECIDED_STAGES = (CaseStage.DECIDED, CaseStage.APPEALED)


class RulingKind(models.TextChoices):
    FILING = "filing", pgettext_lazy("kind of ruling", "Case filed")
    # Translators: A US court order: emergency relief for a few days.
    TRO = "tro", pgettext_lazy("kind of ruling", "Temporary restraining order")
    INJUNCTION = "injunction", pgettext_lazy("kind of ruling", "Injunction")
    # Translators: A court order putting another order or a removal on hold.
    STAY = "stay", pgettext_lazy("kind of ruling", "Stay")
    ORDER = "order", pgettext_lazy("kind of ruling", "Order")
    HEARING = "hearing", pgettext_lazy("kind of ruling", "Hearing")
    OPINION = "opinion", pgettext_lazy("kind of ruling", "Advisory opinion")
    JUDGMENT = "judgment", pgettext_lazy("kind of ruling", "Judgment")
    APPEAL = "appeal", pgettext_lazy("kind of ruling", "Appeal decision")
    OTHER = "other", pgettext_lazy("kind of ruling", "Other")


class CourtCaseQuerySet(ReviewedQuerySet):
    def involving(self, country):
        """Cases in country's courts or about an agreement country is party to."""
        agreements = Agreement.objects.involving(country)
        return self.filter(
            Q(jurisdiction=country) | Q(Exists(agreements.filter(court_cases=OuterRef("pk"))))
        )

    def search(self, text):
        return full_text(self, CASE_SEARCH, text)

    def missing_sources(self):
        return self.filter(
            Q(sources__isnull=True) | Q(rulings__sources__isnull=True, rulings__isnull=False)
        ).distinct()

    def for_table(self):
        return self.select_related("jurisdiction")


class CourtCase(ReviewedRecord):
    """Litigation about one or more agreements: a case in one court system, with its rulings."""

    name = models.CharField(max_length=300, help_text="As the case is usually cited.")
    slug = models.SlugField(max_length=100, unique=True)
    court = models.CharField(
        max_length=200, help_text="The court where the case is (or was last) heard."
    )
    # Null: an international tribunal (inter-state arbitration) under no one state's courts.
    jurisdiction = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="court_cases",
        help_text="The state (or the EU) whose courts hear it; empty for an international "
        "tribunal.",
    )
    docket = models.CharField(
        "docket or case number", max_length=200, blank=True, help_text="e.g. 1:25-cv-00766-JEB"
    )
    citation = models.CharField(
        "neutral citation", max_length=200, blank=True, help_text="e.g. [2023] UKSC 42"
    )
    filed_on = models.DateField(null=True, blank=True)
    filed_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    decided_on = models.DateField(null=True, blank=True)
    decided_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    stage = models.CharField(max_length=10, choices=CaseStage.choices, default=CaseStage.PENDING)
    outcome = models.CharField(
        max_length=300, blank=True, help_text="One line: what the court decided (or “pending”)."
    )
    summary = models.TextField(blank=True)
    # Translations (agreements/translations.py): blank where there is none.
    outcome_es = models.CharField("outcome (Spanish)", max_length=300, blank=True)
    outcome_fr = models.CharField("outcome (French)", max_length=300, blank=True)
    outcome_ar = models.CharField("outcome (Arabic)", max_length=300, blank=True)
    summary_es = models.TextField("summary (Spanish)", blank=True)
    summary_fr = models.TextField("summary (French)", blank=True)
    summary_ar = models.TextField("summary (Arabic)", blank=True)
    judgment_url = models.URLField(
        "link to the judgment", max_length=500, blank=True, help_text="Where it is public."
    )
    agreements = models.ManyToManyField(
        Agreement, blank=True, related_name="court_cases", help_text="The agreements it concerns."
    )
    sources = models.ManyToManyField(Source, blank=True, related_name="court_cases")

    objects = CourtCaseQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["created_at", "updated_at"], m2m_fields=[sources, agreements]
    )

    class Meta:
        ordering = ["-filed_on", "name"]
        verbose_name = "court case"
        constraints = [
            models.CheckConstraint(
                condition=~Q(court=""),
                name="case_has_court",
                violation_error_message="Name the court.",
            ),
            models.CheckConstraint(
                condition=~Q(docket="") | ~Q(citation=""),
                name="case_has_docket_or_citation",
                violation_error_message="Give the docket (case number) or the neutral citation.",
            ),
            models.CheckConstraint(
                condition=Q(decided_on__isnull=True)
                | Q(filed_on__isnull=True)
                | Q(decided_on__gte=F("filed_on")),
                name="case_decided_not_before_filed",
                violation_error_message="The decision cannot be dated before the filing.",
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=DECIDED_STAGES) | Q(decided_on__isnull=False),
                name="case_decided_has_date",
                violation_error_message="A decided case needs the date of the decision.",
            ),
            models.CheckConstraint(
                condition=Q(stage__in=CaseStage.values), name="case_stage_valid"
            ),
            precision_constraint("case", "filed_on", "filed_precision"),
            precision_constraint("case", "decided_on", "decided_precision"),
            withdrawal_constraint("case"),
        ]
        indexes = [
            models.Index(fields=["publication_state", "-filed_on"], name="case_published_filed"),
            GinIndex(search_vector(*CASE_SEARCH), name="case_search"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return fast_reverse("case-detail", "slug", self.slug)

    @property
    def display_name(self):
        return self.name  # a proper name, as courts and reports cite it

    @property
    def reference(self):
        """How to cite it: the neutral citation and the docket, either or both."""
        return "; ".join(part for part in (self.citation, self.docket) if part)

    @property
    def filed_display(self):
        return format_partial_date(self.filed_on, self.filed_precision)

    @property
    def decided_display(self):
        return format_partial_date(self.decided_on, self.decided_precision)

    @property
    def jurisdiction_display(self):
        return str(self.jurisdiction) if self.jurisdiction_id else "International"

    def clean(self):
        self.filed_on = truncate_to_precision(self.filed_on, self.filed_precision)
        self.decided_on = truncate_to_precision(self.decided_on, self.decided_precision)
        errors = {}
        if not self.docket.strip() and not self.citation.strip():
            errors["docket"] = "Give the docket (case number) or the neutral citation."
        if self.stage in DECIDED_STAGES and self.decided_on is None:
            errors["decided_on"] = "A decided case needs the date of the decision."
        if self.filed_on and self.decided_on and self.decided_on < self.filed_on:
            errors["decided_on"] = "The decision cannot be dated before the filing."
        if errors:
            raise ValidationError(errors)


class CourtRulingQuerySet(models.QuerySet):
    def published(self):
        """The rulings of published cases: a ruling is public when its case is."""
        return self.filter(case__in=CourtCase.objects.published())


class CourtRuling(ChoiceLabels, models.Model):
    """One dated step of a case (an order, a stay, a judgment, an appeal). Public when its
    case is."""

    case = models.ForeignKey(CourtCase, on_delete=models.CASCADE, related_name="rulings")
    kind = models.CharField(max_length=12, choices=RulingKind.choices, default=RulingKind.ORDER)
    date = models.DateField()
    date_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    court = models.CharField(
        max_length=200, blank=True, help_text="Leave empty when it is the case's court."
    )
    description = models.TextField()
    # Translations (agreements/translations.py): blank where there is none.
    description_es = models.TextField("description (Spanish)", blank=True)
    description_fr = models.TextField("description (French)", blank=True)
    description_ar = models.TextField("description (Arabic)", blank=True)
    sources = models.ManyToManyField(Source, blank=True, related_name="rulings")
    internal_notes = models.TextField(
        blank=True, help_text="For editors only; never shown publicly."
    )

    objects = CourtRulingQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[sources])

    class Meta:
        ordering = ["date", "id"]
        verbose_name = "court ruling"
        constraints = [precision_constraint("ruling", "date", "date_precision")]

    def __str__(self):
        return f"{self.get_kind_display()}, {self.date_display}"

    def clean(self):
        self.date = truncate_to_precision(self.date, self.date_precision)

    @property
    def date_display(self):
        return format_partial_date(self.date, self.date_precision)


class RevisionState(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Withdrawn by its author"


class RevisionKind(models.TextChoices):
    EDIT = "edit", "Edit"
    RESTORE = "restore", "Restore of an earlier version"
    IMPORT = "import", "CSV import"


class ProposedRevisionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=RevisionState.PENDING)

    def for_record(self, record):
        return self.filter(**{type(record)._meta.model_name: record})


# The records an editor's change can wait for review on: those with a public face.
# Each is also the name of the proposal's link to it (its model_name), as permissions are.
REVISABLE = ("agreement", "transfer", "source", "courtcase")


class ProposedRevision(models.Model):
    """An editor's change to a published record, kept aside until a publisher decides on it.

    `data` is the whole proposed content (agreements/revisions.py: fields, sources, and an
    agreement's events or a transfer's nationalities and reported figures); `base_version` is the
    record's version it was made from, so a proposal over a record that changed since is refused
    rather than undoing the newer change. The live record, and so every public page, is untouched
    until a publisher approves (agreements/publishing.py).
    """

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, null=True, blank=True, related_name="revisions"
    )
    transfer = models.ForeignKey(
        Transfer, on_delete=models.CASCADE, null=True, blank=True, related_name="revisions"
    )
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, blank=True, related_name="revisions"
    )
    courtcase = models.ForeignKey(
        CourtCase,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="revisions",
        verbose_name="court case",
    )
    kind = models.CharField(max_length=10, choices=RevisionKind.choices, default=RevisionKind.EDIT)
    data = models.JSONField(help_text="The whole proposed content of the record.")
    base_version = models.PositiveIntegerField()
    note = models.TextField(blank=True, help_text="What the proposal is for (optional).")
    state = models.CharField(
        max_length=10, choices=RevisionState.choices, default=RevisionState.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposed_revisions"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_revisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(
        blank=True, help_text="Why it was rejected (the editor sees it)."
    )

    objects = ProposedRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["proposed_at", "id"]
        verbose_name = "proposed revision"
        constraints = [
            models.CheckConstraint(
                # Exactly one of the REVISABLE links is set.
                condition=functools.reduce(
                    operator.or_,
                    [
                        Q(**{f"{name}__isnull": name != chosen for name in REVISABLE})
                        for chosen in REVISABLE
                    ],
                ),
                name="revision_has_one_record",
                violation_error_message="A proposed revision is of exactly one record.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=RevisionState.values),
                name="revision_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(state=RevisionState.PENDING)
                | Q(decided_at__isnull=False, decided_by__isnull=False),
                name="revision_decision_recorded",
                violation_error_message="A decided revision records who decided it and when.",
            ),
            models.CheckConstraint(
                condition=~Q(state=RevisionState.REJECTED) | ~Q(decision_reason=""),
                name="revision_rejection_has_reason",
                violation_error_message="Say why the revision is rejected.",
            ),
            # One proposal at a time per record: a later one is refused until the earlier one
            # is decided, so no proposal is ever approved over another unseen.
            *[
                models.UniqueConstraint(
                    fields=[name],
                    condition=Q(state=RevisionState.PENDING),
                    name=f"revision_one_pending_per_{name}",
                    violation_error_message="This record already has a proposed revision "
                    "awaiting review.",
                )
                for name in REVISABLE
            ],
        ]
        indexes = [models.Index(fields=["state", "proposed_at"], name="revision_queue")]

    def __str__(self):
        return f"Proposed revision #{self.pk} of {self.record}"

    def get_absolute_url(self):
        # Staff only: proposals never reach a public page.
        return reverse("admin:agreements_proposedrevision_change", args=[self.pk])

    @property
    def record(self):
        return self.agreement or self.transfer or self.source or self.courtcase

    @property
    def is_pending(self):
        return self.state == RevisionState.PENDING


class ContentVersion(models.Model):
    """One row that changes, in the same transaction, with every change to public data.

    Cached public pages are keyed by it (tracker/caching.py). Kept in the database rather than
    the cache so that every process sees a change the moment its transaction commits, whatever
    the cache backend.
    """

    number = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="content_version_single_row")]

    def __str__(self):
        return f"content version {self.number} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


# --- CSV imports that run in the background --------------------------------------------------------


class ImportKind(models.TextChoices):
    """What a CSV file holds; each kind is imported by its resource (agreements/resources.py)."""

    SOURCES = "sources", "Sources"
    AGREEMENTS = "agreements", "Agreements"
    TRANSFERS = "transfers", "Transfers"

    @property
    def model(self):
        return {"sources": Source, "agreements": Agreement, "transfers": Transfer}[self.value]

    @classmethod
    def for_model(cls, model):
        return next(kind for kind in cls if kind.model is model)


class ImportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Publishers (and superusers) see every import; an editor sees their own."""
        return self if can_publish(user) else self.filter(created_by=user)

    def queued(self):
        return self.filter(state=ImportState.QUEUED)


class ImportJob(models.Model):
    """A CSV file too large to import while the editor waits (agreements/imports.py).

    The admin queues it; `manage.py run_import_jobs` claims it, runs it as its author, all or
    nothing and through agreements/publishing.py like any import, and records the outcome here
    in the same transaction as the rows it wrote (docs/IMPORT.md).
    """

    kind = models.CharField(max_length=12, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    content = models.TextField(help_text="The file as uploaded (UTF-8 CSV).")
    row_count = models.PositiveIntegerField(
        "rows", help_text="Data rows in the file, below its header."
    )
    # PROTECT: an import says who made it (its rows' history does too); deactivate, not delete.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=ImportState.choices, default=ImportState.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker has taken it (a worker may have died)."
    )
    counts = models.JSONField(
        default=dict, blank=True, help_text="Rows by outcome: new, updated, unchanged, proposals."
    )
    errors = models.JSONField(
        default=list, blank=True, help_text="Why nothing was written, one message per line."
    )
    proposals = models.ManyToManyField(
        "ProposedRevision",
        blank=True,
        related_name="import_jobs",
        help_text="Rows that changed published records, kept for a publisher's review.",
    )

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "CSV import"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ImportKind.values), name="importjob_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ImportState.values), name="importjob_state_valid"
            ),
            # Queued: not started. Running: started, not finished. Done: both, in order.
            models.CheckConstraint(
                condition=(
                    Q(state=ImportState.QUEUED, started_at__isnull=True, finished_at__isnull=True)
                    | Q(
                        state=ImportState.RUNNING,
                        started_at__isnull=False,
                        finished_at__isnull=True,
                    )
                    | Q(
                        state__in=[ImportState.SUCCEEDED, ImportState.FAILED],
                        started_at__isnull=False,
                        finished_at__isnull=False,
                        finished_at__gte=F("started_at"),
                    )
                ),
                name="importjob_times_match_state",
                violation_error_message="An import's start and finish times must match its state.",
            ),
            # A failed import says why; a successful one has nothing to say against it.
            models.CheckConstraint(
                condition=~Q(state=ImportState.FAILED) | ~Q(errors=[]),
                name="importjob_failure_has_errors",
                violation_error_message="A failed import lists its errors.",
            ),
            models.CheckConstraint(
                condition=~Q(state=ImportState.SUCCEEDED) | Q(errors=[]),
                name="importjob_success_has_no_errors",
            ),
        ]
        indexes = [
            # The worker's claim: the oldest queued job (run_import_jobs), without reading
            # the finished ones.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(state=ImportState.QUEUED),
                name="importjob_queue",
            ),
        ]

    def __str__(self):
        return f"Import #{self.pk} of {self.get_kind_display().lower()} ({self.file_name})"

    def get_absolute_url(self):
        # Staff only: the admin's read-only page of the import.
        return reverse("admin:agreements_importjob_change", args=[self.pk])

    @property
    def is_done(self):
        return self.state in (ImportState.SUCCEEDED, ImportState.FAILED)


# --- dated data releases ---------------------------------------------------------------------------

RELEASE_VERSION_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[0-9]+)?$"
# Records per table in a release, one column each (so the database can hold them non-negative).
RELEASE_COUNT_FIELDS = (
    "agreement_count", "event_count", "transfer_count", "case_count", "ruling_count",
    "source_count", "country_count",
)  # fmt: skip


class DataReleaseQuerySet(models.QuerySet):
    def newest_first(self):
        return self.order_by("-created_at", "-id")


class DataRelease(models.Model):
    """A dated, versioned copy of every published table, zipped under RELEASES_DIR by
    `manage.py make_release` (agreements/releases.py) and never changed afterwards: people cite
    it, so the file behind a version must stay the file they downloaded."""

    version = models.CharField(
        max_length=20,
        editable=False,
        validators=[RegexValidator(RELEASE_VERSION_PATTERN)],
        help_text="The release date, with .2, .3, … for further releases the same day.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # PROTECT: the change summary is measured against this release; it must stay listed.
    previous = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    agreement_count = models.IntegerField("agreements", default=0)
    event_count = models.IntegerField("timeline events", default=0)
    transfer_count = models.IntegerField("transfers", default=0)
    case_count = models.IntegerField("court cases", default=0)
    ruling_count = models.IntegerField("court rulings", default=0)
    source_count = models.IntegerField("sources", default=0)
    country_count = models.IntegerField("countries", default=0)
    # The earliest and latest dates in the data, as partial dates (YYYY, YYYY-MM, YYYY-MM-DD).
    coverage_from = models.CharField(max_length=10, blank=True)
    coverage_to = models.CharField(max_length=10, blank=True)
    zip_size = models.BigIntegerField("size of the zip (bytes)")
    sha256 = models.CharField("SHA-256 of the zip", max_length=64)
    # {table: {"added": n, "changed": n, "withdrawn": n}} against `previous`; null for the first
    # release, or when the previous release's file could not be read.
    changes = models.JSONField(null=True, blank=True)

    objects = DataReleaseQuerySet.as_manager()

    class Meta:
        # A release a month: the table stays small, so no index beyond the unique version.
        ordering = ["-created_at", "-id"]
        verbose_name = "data release"
        constraints = [
            models.UniqueConstraint(fields=["version"], name="datarelease_unique_version"),
            models.CheckConstraint(
                condition=Q(version__regex=RELEASE_VERSION_PATTERN),
                name="datarelease_version_format",
                violation_error_message="A version is a date, YYYY-MM-DD, with .N after it.",
            ),
            models.CheckConstraint(
                condition=functools.reduce(
                    operator.and_, (Q(**{f"{name}__gte": 0}) for name in RELEASE_COUNT_FIELDS)
                ),
                name="datarelease_counts_not_negative",
                violation_error_message="A release cannot hold a negative number of records.",
            ),
            models.CheckConstraint(condition=Q(zip_size__gt=0), name="datarelease_zip_not_empty"),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="datarelease_sha256_hex"
            ),
        ]

    def __str__(self):
        return f"Data release {self.version}"

    def get_absolute_url(self):
        return reverse("release-download", args=[self.version])

    @property
    def file_name(self):
        return f"transfer-tracker-{self.version}.zip"

    @property
    def path(self):
        # Built from the stored version (checked by a constraint), never from a request's path.
        return settings.RELEASES_DIR / self.file_name

    @property
    def record_count(self):
        return sum(getattr(self, name) for name in RELEASE_COUNT_FIELDS)

    def change_rows(self):
        """[(table, added, changed, withdrawn)] for the tables that changed, in table order."""
        if not self.changes:
            return []
        return [
            (table, counts["added"], counts["changed"], counts["withdrawn"])
            for table, counts in self.changes.items()
            if any(counts.values())
        ]
