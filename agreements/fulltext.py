"""Full-text search building blocks: one weighted tsvector expression per model, used both by
the GIN indexes (models' Meta.indexes) and by the queries, so Postgres answers from the index.
The site-wide search page (agreements.search) and each QuerySet's search() build on these."""

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

SEARCH_CONFIG = "english"


def search_vector(*weighted_fields):
    """A weighted tsvector over (field, weight) pairs. Indexes and queries use this same
    expression, so Postgres can answer searches from the GIN index."""
    vectors = [
        SearchVector(name, weight=weight, config=SEARCH_CONFIG) for name, weight in weighted_fields
    ]
    combined = vectors[0]
    for vector in vectors[1:]:
        combined = combined + vector
    return combined


# A "-" that negates nothing (alone, or one of a run): Postgres nests one NOT per hyphen, and 33
# of them overflow its tsquery stack ("tsquery stack too small", a 500).
_BARE_NEGATION = re.compile(r"-+(?![\w\"])")
_REPEATED_NEGATION = re.compile(r"-{2,}(?=[\w\"])")


def search_query(text):
    """The reader's words in web-search syntax ("quoted phrase", -not, or): never a syntax error,
    and never a query Postgres cannot build."""
    text = _REPEATED_NEGATION.sub("-", _BARE_NEGATION.sub(" ", text))
    return SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)


def full_text(queryset, weighted_fields, text):
    """Rows of queryset matching text, annotated with their rank."""
    vector, query = search_vector(*weighted_fields), search_query(text)
    return (
        queryset.annotate(search_document=vector)
        .filter(search_document=query)
        .annotate(rank=SearchRank(vector, query))
    )


AGREEMENT_SEARCH = (
    ("title", "A"),
    ("summary", "B"),
    ("eligible_populations", "C"),
    ("compensation_notes", "C"),
)
EVENT_SEARCH = (("description", "B"),)
TRANSFER_SEARCH = (("place", "A"), ("description", "B"))
CASE_SEARCH = (("name", "A"), ("docket", "A"), ("citation", "A"), ("court", "B"), ("outcome", "B"))
SOURCE_SEARCH = (("title", "A"), ("publisher", "B"))
