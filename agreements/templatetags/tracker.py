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
