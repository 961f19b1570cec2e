"""What each value the tracker records means: the definitions the filters use, shown on the
About and methodology page (/about/) and linked from wherever a value appears (a status badge
links to /about/#status-in_force). One definition per choice of each enumeration; a test fails
when a new choice has none."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agreements.models import (
    AgreementKind,
    AgreementStatus,
    CaseStage,
    LegalBindingness,
    LinkHealth,
    RulingKind,
    SourceKind,
    TextDisclosure,
)

STATUS = {
    AgreementStatus.REPORTED: _(
        "Reported in the press or by officials, without an announcement by "
        "the governments concerned."
    ),
    AgreementStatus.UNDER_NEGOTIATION: _(
        "The governments say, or credible reports say, that they "
        "are negotiating; nothing has been agreed."
    ),
    AgreementStatus.ANNOUNCED: _(
        "A government has announced that it agreed, but no signature or text is known."
    ),
    AgreementStatus.SIGNED: _(
        "Signed (or its notes exchanged), but not yet in effect, or no "
        "transfer under it is known to have started."
    ),
    AgreementStatus.IN_FORCE: _("In effect: it has entered into force or is being applied."),
    AgreementStatus.SUSPENDED: _(
        "Not applied for now (by a government's decision, a court order or "
        "in practice), without having been ended."
    ),
    AgreementStatus.STRUCK_DOWN: _(
        "A court has held it, or the transfers under it, unlawful, so it cannot be applied."
    ),
    AgreementStatus.TERMINATED: _(
        "Ended by the parties, by expiry or by replacement; a one-off "
        "operation that is over counts here too."
    ),
    AgreementStatus.DENIED: _(
        "Reported or requested, but publicly refused or denied by a government said to be a party."
    ),
}

KIND = {
    AgreementKind.MEMORANDUM: _(
        "A memorandum of understanding: usually signed by ministers, often "
        "declared not legally binding."
    ),
    AgreementKind.FORMAL_AGREEMENT: _(
        "A treaty or agreement meant to bind the parties in "
        "international law, often ratified by parliament."
    ),
    AgreementKind.SAFE_THIRD_COUNTRY: _(
        "An agreement under which asylum seekers can be sent to the "
        "other party to claim protection there (in the US: an Asylum Cooperative Agreement)."
    ),
    AgreementKind.PROTOCOL: _("A protocol, to a treaty or on its own (Italy–Albania 2023)."),
    AgreementKind.EXCHANGE_OF_LETTERS: _("An exchange of letters or diplomatic notes."),
    AgreementKind.POLITICAL_STATEMENT: _(
        "A joint political statement (EU–Turkey 2016): the "
        "parties' commitments with no treaty behind them."
    ),
    AgreementKind.INFORMAL_ARRANGEMENT: _(
        "An informal or verbal understanding; its terms are known only from what officials say."
    ),
    AgreementKind.UNKNOWN: _("The form of the instrument is not known."),
}

BINDINGNESS = {
    LegalBindingness.BINDING: _(
        "Meant to bind the parties in law (a treaty, or an agreement the parties call binding)."
    ),
    LegalBindingness.NON_BINDING: _("Declared not legally binding by its text or by the parties."),
    LegalBindingness.UNCLEAR: _("Not known, or disputed."),
}

DISCLOSURE = {
    TextDisclosure.PUBLISHED: _(
        "The text is published by a party (an official journal, a "
        "government website, a parliament)."
    ),
    TextDisclosure.LEAKED: _("The text is public only because it was leaked or filed in a court."),
    TextDisclosure.UNDISCLOSED: _(
        "No text is public: its terms are known only from statements and reporting."
    ),
}

STAGE = {
    CaseStage.PENDING: _("No decision on the merits yet (interim orders may have been made)."),
    CaseStage.DECIDED: _("Decided on the merits, with no appeal known to be pending."),
    CaseStage.APPEALED: _("Decided, and under appeal to a higher court."),
    CaseStage.REFERRED: _(
        "Sent to a higher court for a ruling on a question (a preliminary "
        "reference to the Court of Justice of the EU, for example)."
    ),
    CaseStage.CLOSED: _(
        "Ended without a ruling on the merits (withdrawn, settled, moot or "
        "dismissed on a procedural ground)."
    ),
}

RULING = {
    RulingKind.FILING: _("The case was filed."),
    RulingKind.TRO: _("A temporary restraining order: emergency relief for a few days."),
    RulingKind.INJUNCTION: _(
        "An injunction ordering or forbidding something until the case is decided, or for good."
    ),
    RulingKind.STAY: _("A stay: an order putting another order or a removal on hold."),
    RulingKind.ORDER: _("Another order of the court."),
    RulingKind.HEARING: _("A hearing (no decision)."),
    RulingKind.OPINION: _(
        "An advisory opinion, such as an Advocate General's opinion to the Court "
        "of Justice of the EU."
    ),
    RulingKind.JUDGMENT: _("A judgment deciding the case, or part of it."),
    RulingKind.APPEAL: _("A decision on appeal."),
    RulingKind.OTHER: _("Another step in the case."),
}

SOURCE_KIND = {
    SourceKind.NEWS: _(
        "A news report (the wire agency is named in brackets when another outlet carries its text)."
    ),
    SourceKind.GOVERNMENT: _(
        "A government's own text: a statement, a press release, an official "
        "journal, a treaty series."
    ),
    SourceKind.COURT: _("A court's judgment, order or docket."),
    SourceKind.NGO: _("A report or statement of a non-governmental organisation."),
    SourceKind.INTERNATIONAL_ORGANISATION: _(
        # Translators: Use the names or acronyms the organisations have in your language.
        "A text of an international organisation (UNHCR, IOM, the Council of Europe…)."
    ),
    SourceKind.OTHER: _("Anything else: academic work, a blog, a repost."),
}

LINK_HEALTH = {
    LinkHealth.OK: _("The page answered at its address at the last check."),
    LinkHealth.MOVED: _(
        "The page answered at another address after redirects; the new address is shown."
    ),
    LinkHealth.BLOCKED: _(
        "The site refused our automated check (a paywall or a bot wall); it "
        "usually works for readers."
    ),
    LinkHealth.ERROR: _("The site answered with a server error; three in a row count as dead."),
    LinkHealth.DEAD: _(
        "The page is gone (404, 410 or another client error, or three server errors "
        "in a row): use the archived copy where there is one."
    ),
}


@dataclass(frozen=True)
class Term:
    anchor: str
    label: str
    definition: str


@dataclass(frozen=True)
class Section:
    anchor: str  # the prefix of each term's anchor: "status" -> "#status-in_force"
    title: str
    introduction: str
    choices: type
    definitions: dict

    @property
    def terms(self):
        return [
            Term(f"{self.anchor}-{value}", label, self.definitions[value])
            for value, label in self.choices.choices
        ]


SECTIONS = [
    Section(
        "status",
        _("Status of an agreement"),
        _(
            "Where an arrangement stands, as of the date shown beside it: the date its record was "
            "last reviewed."
        ),
        AgreementStatus,
        STATUS,
    ),
    Section(
        "kind", _("Kind of instrument"), _("The form the arrangement takes."), AgreementKind, KIND
    ),
    Section(
        "bindingness",
        _("Legally binding"),
        _("Whether the instrument binds the parties in law."),
        LegalBindingness,
        BINDINGNESS,
    ),
    Section(
        "disclosure",
        # Translators: A heading: whether an agreement's own text (the document) is public.
        pgettext_lazy("agreement text", "Text"),
        _("Whether the instrument's text is public."),
        TextDisclosure,
        DISCLOSURE,
    ),
    Section(
        "stage",
        _("Stage of a court case"),
        _("Where a case stands, as of its last recorded ruling."),
        CaseStage,
        STAGE,
    ),
    Section(
        "ruling", _("Kinds of ruling"), _("The dated steps of a court case."), RulingKind, RULING
    ),
    Section("source", _("Kinds of source"), _("What a cited source is."), SourceKind, SOURCE_KIND),
    Section(
        "link",
        _("Link health"),
        _("What the daily check of each source's address last saw."),
        LinkHealth,
        LINK_HEALTH,
    ),
]
