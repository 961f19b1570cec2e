"""reverse() for the links of long lists, resolved once per URL pattern and language."""

import functools

from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language

_PLACEHOLDER = "9876543210123"  # matches both the slug and the int converter


@functools.cache
def _url_template(name, kwarg, script_prefix, language):
    # The language is part of the key: pages are under /es/, /fr/, /ar/ in those languages.
    return reverse(name, kwargs={kwarg: _PLACEHOLDER})


def fast_reverse(name, kwarg, value):
    """reverse() for a URL with one slug-like argument, resolved once per pattern: list pages
    link every row to its record, and reverse() costs more than the rest of the row."""
    template = _url_template(name, kwarg, get_script_prefix(), get_language())
    return template.replace(_PLACEHOLDER, str(value))
