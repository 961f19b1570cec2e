"""Record texts in the reader's language, with the English where there is no translation.

English is the record: `title`, `summary`, `description` are what editors write first, what
search, exports, feeds and the API carry, and what the review rules check. A translation is one
more column beside it per language (`title_es`, `title_fr`, `title_ar`), which editors fill in
the admin like any other field, so that it goes through the same door (review, history,
versions, restore) with no extra machinery. Libraries such as django-modeltranslation replace
`title` itself with a per-language accessor, which would make every query, export and review
rule depend on the language of the request; explicit columns keep those language-neutral.

Adding a language: add it to settings.LANGUAGES, a column per field below to each model (and a
migration), and its catalogue (README, "Adding a language").
"""

from django.conf import settings
from django.utils import translation

# The texts that have translations, per model (the Django model name, lower case).
TRANSLATED_FIELDS = {
    "agreement": ("title", "summary"),
    "agreementevent": ("description",),
    "transfer": ("description",),
    "courtcase": ("outcome", "summary"),
    "courtruling": ("description",),
}


def translation_languages() -> list[str]:
    """The languages records are translated into: every language but English."""
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def translation_field_names(field: str) -> list[str]:
    return [f"{field}_{code}" for code in translation_languages()]


def translated(record, field: str) -> tuple[str, bool]:
    """(the text in the page's language, whether it is the English standing in for a missing
    translation). An empty English text stays empty and is not a fallback."""
    english = getattr(record, field) or ""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if language == settings.LANGUAGE_CODE:
        return english, False
    # A row that is not a model instance (agreements.listing) carries the translation for the
    # page's language alone, as `<field>_local`.
    text = getattr(record, f"{field}_{language}", None) or getattr(record, f"{field}_local", None)
    text = text or ""
    if text.strip():
        return text, False
    return english, bool(english)
