"""The active filters of a list page as removable chips ("Receiving country: Rwanda").

On a phone the filter form is folded away behind a "Filter" button (includes/filtered_list.html);
the chips above the results say what is filtered and undo one filter each, as links (no
JavaScript): each is the same list without that one value.
"""

from dataclasses import dataclass

from django import forms
from django.utils.http import urlencode
from django.utils.translation import gettext

from agreements import l10n

# Parameters that choose how the list is shown, not which rows it holds.
NOT_FILTERS = frozenset({"ordering", "page"})


@dataclass(frozen=True)
class Chip:
    label: str  # the filter's label: "Receiving country"
    value: str  # the chosen value, as the form names it: "Rwanda"
    url: str  # the list without this value

    def __str__(self):
        # Translators: An active filter of a list: "Receiving country: Rwanda".
        return gettext("%(filter)s: %(value)s") % {"filter": self.label, "value": self.value}


def _value_label(field, cleaned, value: str) -> str:
    """How the form shows `value`: a choice's label, a record's name, a date in words."""
    if isinstance(field, forms.ModelChoiceField) and cleaned is not None:
        return field.label_from_instance(cleaned)
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))
    if isinstance(field, forms.DateField) and cleaned is not None:
        return l10n.long_date(cleaned)  # "16 March 2025", "16 de marzo de 2025"
    if isinstance(field, forms.CharField) and not isinstance(field, forms.ChoiceField):
        # Translators: Text a reader searched for, in your language's quotation marks.
        return gettext("“%(text)s”") % {"text": value}
    return value


def active_filters(filterset, path: str) -> list[Chip]:
    """A chip for each value of each filter in use, in the form's order. A value the form
    refused is shown as it was typed, so that it can be removed too."""
    if not filterset.is_bound:
        return []
    form = filterset.form
    cleaned = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    # What the list is showing (its order too), but always from its first page.
    pairs = [
        (key, value)
        for key, values in filterset.data.lists()
        if key != "page"
        for value in values
        if value.strip()
    ]
    chips = []
    for name, field in form.fields.items():
        if name in NOT_FILTERS:
            continue
        for value in (value for key, value in pairs if key == name):
            valid = name not in form.errors
            rest = [pair for pair in pairs if pair != (name, value)]
            chips.append(
                Chip(
                    label=str(field.label),
                    value=_value_label(field, cleaned.get(name), value) if valid else value,
                    url=path + ("?" + urlencode(rest) if rest else ""),
                )
            )
    return chips
