from django import template
from django.utils.http import urlencode

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None removes one).

    Keeps every filter, repeated keys included, so pagination and sorting links share state.
    """
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return "?" + urlencode(sorted(query.lists()), doseq=True) if query else "?"


@register.simple_tag(takes_context=True)
def facet_url(context, name, value, multiple=False):
    """Select (or, when selected, remove) one facet value, keeping the other filters."""
    query = context["request"].GET.copy()
    query.pop("page", None)
    current = query.getlist(name)
    if value in current:
        current.remove(value)
    elif multiple:
        current.append(value)
    else:
        current = [value]
    query.setlist(name, current)
    return "?" + urlencode(sorted((k, v) for k, v in query.lists() if v), doseq=True)
