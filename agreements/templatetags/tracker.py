from django import template
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from tracker.caching import memoize

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


@register.tag
def memoized(parser, token):
    """{% memoized "name" key ... %}...{% endmemoized %}: the block's HTML, rendered once per
    change of the data and per combination of keys (tracker.caching.memoize). The block must
    depend on nothing but the data and the keys."""
    bits = token.split_contents()[1:]
    if not bits:
        raise template.TemplateSyntaxError("memoized needs a name")
    nodelist = parser.parse(("endmemoized",))
    parser.delete_first_token()
    return MemoizedNode(nodelist, [parser.compile_filter(bit) for bit in bits])


class MemoizedNode(template.Node):
    def __init__(self, nodelist, keys):
        self.nodelist = nodelist
        self.keys = keys

    def render(self, context):
        keys = [str(key.resolve(context)) for key in self.keys]
        html = memoize("fragment", lambda: str(self.nodelist.render(context)), *keys)
        return mark_safe(html)  # rendered (and escaped) by the template engine


def _figure(figures, name):
    value = figures.get(name) if isinstance(figures, dict) else getattr(figures, name, None)
    return value or 0


def people(number):
    """ "1 person", "1,234 people"."""
    return f"{number:,} {'person' if number == 1 else 'people'}"


@register.filter
def head_count(figures):
    """The people a set of transfers moved, as a reader must read it (figures: a row or the
    totals of TransferQuerySet's HEAD_COUNTS). Unknown is not zero: "unknown" when no transfer
    has a count, "at least 1,234 people" when some have none or only a floor."""
    transfers = _figure(figures, "transfer_count")
    unknown = _figure(figures, "unknown_count")
    total = _figure(figures, "people_total")
    if transfers and unknown >= transfers:
        return "unknown"
    if _figure(figures, "uncertain_count"):
        return f"at least {people(total)}"
    return people(total)


@register.filter
def count_cell(figures):
    """head_count() for a table's number column: "unknown", "≥ 1,234" or "1,234"."""
    phrase = head_count(figures)
    if phrase == "unknown":
        return phrase
    total = f"{_figure(figures, 'people_total'):,}"
    return f"≥ {total}" if phrase.startswith("at least") else total


@register.filter
def without_count(figures):
    """ "(2 of 5 transfers have no count)", or nothing when every transfer has one."""
    unknown = _figure(figures, "unknown_count")
    if not unknown:
        return ""
    transfers = _figure(figures, "transfer_count")
    verb = "has" if unknown == 1 else "have"
    return f"({unknown:,} of {transfers:,} transfer{'' if transfers == 1 else 's'} {verb} no count)"


@register.inclusion_tag("includes/cite.html", takes_context=True)
def cite_this(context, record, updated=None):
    """The "Cite this page" block of a record's page (agreements/citation.py)."""
    from agreements.citation import citation_for

    return {"citation": citation_for(context["request"], record, updated=updated)}
