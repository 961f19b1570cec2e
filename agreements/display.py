"""How a transfer's date and head count read, shared by the model and by the table rows that
agreements.listing builds from values() without a model instance."""

from django.utils.translation import gettext, ngettext

from agreements import l10n
from agreements.dates import format_partial_date


class TransferDisplay:
    """How a transfer's date and head-count read, for Transfer and for the table rows of
    agreements.listing (anything with date, date_precision, people and people_is_minimum)."""

    @property
    def date_display(self):
        return format_partial_date(self.date, self.date_precision)

    @property
    def people_display(self):
        if self.people is None:
            return gettext("Unknown")
        count = l10n.number(self.people)
        return gettext("at least %(count)s") % {"count": count} if self.people_is_minimum else count

    @property
    def people_phrase(self):
        """In a sentence: "an unknown number of people", "at least 5 people", "1 person"."""
        if self.people is None:
            return gettext("an unknown number of people")
        values = {"count": l10n.number(self.people)}
        if self.people_is_minimum:
            return (
                ngettext("at least %(count)s person", "at least %(count)s people", self.people)
                % values
            )
        return ngettext("%(count)s person", "%(count)s people", self.people) % values
