"""The query parameters each public page reads, declared next to the view.

Every public view says which query parameters it reads: `@reads_query("page")` on a function,
`query_parameters` on a class (the filtered lists derive theirs from their FilterSet). Before a
public GET reaches the rate limits, the page cache or the view, `DeclaredQueryMiddleware` drops
every other parameter and puts the rest in one order, so:

- the page cache keys on what the page reads: `/?utm=1` … `/?utm=2400` are one entry, not 2,400
  (each distinct URL used to be its own entry, and a flood of them evicted the real pages);
- a made-up parameter never reaches the page (its links, "download these rows", memoized parts);
- the rate limits count the work a request does, not the parameters it carries.

A view that declares nothing is left alone and never cached (tracker/caching.py): forgetting a
declaration costs speed, not correctness. tests/test_query.py checks that every public URL has one.
"""

import contextlib
import functools
from collections.abc import Callable, Iterable
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.urls import Resolver404, resolve

# What a view declares: the names, or a function of the URL's keyword arguments giving them
# (the API and downloads read the filters of the dataset named in the URL).
Declared = Iterable[str] | Callable[..., Iterable[str]]


def reads_query(*names: str, per_url: Callable[..., Iterable[str]] | None = None):
    """Declare the query parameters a function view reads."""

    def declare(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        wrapper.query_parameters = per_url if per_url is not None else frozenset(names)
        return wrapper

    return declare


@functools.cache
def filter_parameters(filterset_class) -> frozenset[str]:
    """The query parameters a FilterSet reads: one per filter, or one per part of a filter whose
    widget takes several (a range's `_after`/`_before`)."""
    names = set()
    # From the declared filters, not an instance: a FilterSet's __init__ may query (the
    # transfers' agreement menu counts agreements), and this runs before the page's own work.
    for name, declared in filterset_class.base_filters.items():
        widget = declared.field.widget
        suffixes = getattr(widget, "suffixes", None) or getattr(widget, "widgets_names", None)
        if suffixes:
            names.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes)
        else:
            names.add(name)
    return frozenset(names)


def declared_parameters(match) -> frozenset[str] | None:
    """What the resolved view reads, or None if it declares nothing."""
    view = match.func
    declared = getattr(view, "query_parameters", None)
    if declared is None:
        declared = getattr(getattr(view, "view_class", None), "query_parameters", None)
    if declared is None:
        return None
    if callable(declared):
        declared = declared(**match.kwargs)
    return frozenset(declared)


def public_match(request):
    """The public page a request is for (resolved once per request), or None."""
    if not hasattr(request, "_public_match"):
        match = None
        if not request.path.startswith("/" + settings.ADMIN_PATH):
            with contextlib.suppress(Resolver404):
                match = resolve(request.path_info)
        request._public_match = match
    return request._public_match


def keep_only(request, names: frozenset[str]) -> None:
    """Make the request carry only `names`, sorted, as if the client had sent just those."""
    query = request.GET
    kept = QueryDict(mutable=True)
    for key in sorted(key for key in query if key in names):
        kept.setlist(key, query.getlist(key))
    kept._mutable = False
    request.GET = kept
    request.META["QUERY_STRING"] = kept.urlencode()


def without_empty_parameters(query_string: str) -> str | None:
    """The query string without its empty parameters (`country=`, `q=+`), the others as they
    were, in their order; None if it has none."""
    parts = query_string.split("&")
    kept = [part for part in parts if unquote_plus(part.partition("=")[2]).strip()]
    return None if len(kept) == len(parts) else "&".join(kept)


def drops_empty_parameters(match) -> bool:
    """Whether the resolved view asks for its empty parameters to be dropped (the lists)."""
    view = match.func
    return getattr(view, "drops_empty_parameters", False) or getattr(
        getattr(view, "view_class", None), "drops_empty_parameters", False
    )


class DeclaredQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.query_declared = False
        if request.method in ("GET", "HEAD"):
            match = public_match(request)
            names = declared_parameters(match) if match is not None else None
            query_string = request.META.get("QUERY_STRING", "")
            if query_string and names is not None and drops_empty_parameters(match):
                # A GET form sends every field, empty or not: the list's address is the one
                # without the empty ones (which has none left, so it never redirects again).
                kept = without_empty_parameters(query_string)
                if kept is not None:
                    return HttpResponseRedirect(request.path + (f"?{kept}" if kept else ""))
            if names is not None:
                keep_only(request, names)
                request.query_declared = True
        return self.get_response(request)


class BoundedQueryStringMiddleware:
    """A query string with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS gets a plain 400 before
    anything parses it. Django itself answers 400 only when DEBUG is off: with DEBUG on, its
    error page parses the same query string again and fails with a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        query_string = request.META.get("QUERY_STRING", "")
        # Counted as urllib's parse_qsl counts them for Django's limit.
        if limit is not None and query_string.count("&") + 1 > limit:
            return HttpResponseBadRequest(
                f"Too many query parameters: at most {limit} are accepted.\n",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
