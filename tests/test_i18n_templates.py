"""Every word a reader sees or hears in the public templates is marked for translation (issue 13).

The templates are read with Django's own Lexer. Text outside {% translate %} and
{% blocktranslate %}…{% endblocktranslate %} (and outside {% comment %}, <script>, <style> and
<code>) must hold no letter once HTML tags and entities are gone; so must the attributes a reader
sees or hears (title, alt, aria-label, …). Language-dependent formatting that bypasses the
catalogues or the language's own rules fails too: |pluralize (Arabic has six plural forms),
|intcomma (the language's digit grouping is |num), |date with month or day names (|long_date,
|short_date, |month_year), and English literals passed to |yesno, |default, {% cycle %} or an
{% include … with %}. The editors' admin (templates/admin/) stays English.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PUBLIC_TEMPLATES = sorted(
    path.relative_to(TEMPLATES).as_posix()
    for path in TEMPLATES.rglob("*.html")
    if path.relative_to(TEMPLATES).parts[0] != "admin"
)

# Words that are not language: names of formats, standards and licences, the same in every
# language. Keep this short: anything a translator might want to change belongs in a catalogue.
ALLOWED_WORDS = (
    "CC BY 4.0",  # the licence's name
    "BibTeX",
    "RIS",
    "CSL-JSON",  # citation formats
    "CSV",
    "JSON",
    "API",  # download formats and the API link
    "UTC",  # the time zone of the change log's times
)
_ALLOWED = re.compile("|".join(rf"(?<!\w){re.escape(word)}(?!\w)" for word in ALLOWED_WORDS))
_LETTER = re.compile(r"[^\W\d_]")

# Attributes a reader sees (tooltips, the phone layout's card labels, placeholders) or hears.
READER_ATTRIBUTES = {
    "title",
    "alt",
    "placeholder",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "aria-valuetext",
    "data-label",  # shown as each cell's label on a phone (site.css: content: attr(data-label))
}
# Elements whose text is not language: code, file names and parameters (<code>), and whatever
# <script> and <style> hold.
UNCHECKED_ELEMENTS = {"code", "script", "style"}

# Stand-ins for what a tag or a variable renders: no letter, no newline.
BLOCK_STANDIN = " "
VARIABLE_STANDIN = "0"

_TRANSLATED_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}
_INCLUDE_TECHNICAL_KEYS = {"dataset", "table", "value_key"}  # names and paths, not prose
_NAMED_DATE_FORMAT = re.compile(r"(?<!\\)[DlSFMbENPAaT]")
_FORMAT_FILTER = re.compile(r"\|\s*(date|time)\s*:\s*(\"[^\"]*\"|'[^']*')")
_LITERAL_FILTER = re.compile(r"\|\s*(yesno|default|default_if_none)\s*:\s*(\"[^\"]*\"|'[^']*')")
_WITH_LITERAL = re.compile(r"(\w+)=(\"[^\"]*\"|'[^']*')")
_LITERAL = re.compile(r"\"[^\"]*\"|'[^']*'")


def _has_words(text):
    return bool(_LETTER.search(_ALLOWED.sub("", text)))


class _ReaderText(HTMLParser):
    """Collects (line, text) for every unmarked word in a template's skeleton."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.unchecked = []

    def _attributes(self, tag, attrs):
        attrs = dict(attrs)
        checked = [(name, value) for name, value in attrs.items() if name in READER_ATTRIBUTES]
        if tag == "meta" and (attrs.get("name") or "").lower() == "description":
            checked.append(("content", attrs.get("content")))
        if tag == "input" and (attrs.get("type") or "").lower() in {"submit", "button", "reset"}:
            checked.append(("value", attrs.get("value")))
        line = self.getpos()[0]
        for name, value in checked:
            if value and _has_words(value):
                self.found.append((line, f'<{tag} {name}="{value.strip()}">'))

    def handle_starttag(self, tag, attrs):
        self._attributes(tag, attrs)
        if tag in UNCHECKED_ELEMENTS:
            self.unchecked.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._attributes(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.unchecked:
            del self.unchecked[len(self.unchecked) - 1 - self.unchecked[::-1].index(tag) :]

    def handle_data(self, data):
        if self.unchecked or not _has_words(data):
            return
        line = self.getpos()[0]
        for offset, text in enumerate(data.split("\n")):
            if _has_words(text):
                self.found.append((line + offset, " ".join(text.split())))


def _token_problems(token):
    """English literals and language-blind filters inside a {{ variable }} or {% tag %}."""
    contents = token.contents
    problems = []
    if re.search(r"\|\s*pluralize\b", contents):
        problems.append("|pluralize (use {% blocktranslate count %})")
    if re.search(r"\|\s*intcomma\b", contents):
        problems.append("|intcomma (use |num)")
    for name, fmt in _FORMAT_FILTER.findall(contents):
        if _NAMED_DATE_FORMAT.search(fmt[1:-1]):
            problems.append(f"|{name}:{fmt} (use |long_date, |short_date or |month_year)")
    for name, literal in _LITERAL_FILTER.findall(contents):
        if _has_words(literal[1:-1]):
            problems.append(f"|{name}:{literal}")
    if token.token_type == TokenType.BLOCK:
        command = contents.split(None, 1)[0] if contents.split() else ""
        if command == "cycle":
            problems += [literal for literal in _LITERAL.findall(contents) if _has_words(literal)]
        if command == "include" and " with " in contents:
            _, bindings = contents.split(" with ", 1)
            for key, literal in _WITH_LITERAL.findall(bindings):
                if key not in _INCLUDE_TECHNICAL_KEYS and _has_words(literal[1:-1]):
                    problems.append(f"{key}={literal}")
    shown = f"{{{{ {contents} }}}}" if token.token_type == TokenType.VAR else f"{{% {contents} %}}"
    return [f"{shown}: {problem}" for problem in problems]


def untranslated(source):
    """(line, text) for each word in a template's source a reader would get untranslated."""
    skeleton = []
    found = []
    closing = None  # the end tag of the {% comment %} or {% blocktranslate %} being skipped
    opened = None  # that {% blocktranslate %}, while its lines are not trimmed
    for token in Lexer(source).tokenize():
        contents = token.contents.strip()
        command = contents.split(None, 1)[0] if contents else ""
        if closing:
            skeleton.append("\n" * token.contents.count("\n"))
            if opened and token.token_type == TokenType.TEXT and "\n" in token.contents:
                # The msgid would hold the template's line breaks and indentation.
                found.append(
                    (opened.lineno, f"{{% {opened.contents} %}}: spans lines, not trimmed")
                )
                opened = None
            if token.token_type == TokenType.BLOCK and command == closing:
                closing = opened = None
            continue
        if token.token_type == TokenType.TEXT:
            skeleton.append(token.contents)
            continue
        if token.token_type in (TokenType.VAR, TokenType.BLOCK):
            found += [(token.lineno, problem) for problem in _token_problems(token)]
        if token.token_type == TokenType.BLOCK and command == "comment":
            closing = "endcomment"
        elif token.token_type == TokenType.BLOCK and command in _TRANSLATED_BLOCKS:
            closing = _TRANSLATED_BLOCKS[command]
            opened = None if "trimmed" in contents.split() else token
        standin = VARIABLE_STANDIN if token.token_type == TokenType.VAR else BLOCK_STANDIN
        skeleton.append(standin + "\n" * token.contents.count("\n"))
    parser = _ReaderText()
    parser.feed("".join(skeleton))
    parser.close()
    return sorted(found + parser.found)


def test_the_public_templates_are_found():
    assert "base.html" in PUBLIC_TEMPLATES
    assert "agreements/about.html" in PUBLIC_TEMPLATES
    assert "includes/sources.html" in PUBLIC_TEMPLATES
    assert not [name for name in PUBLIC_TEMPLATES if name.startswith("admin/")]


@pytest.mark.parametrize("name", PUBLIC_TEMPLATES)
def test_every_reader_facing_string_is_marked_for_translation(name):
    problems = untranslated((TEMPLATES / name).read_text(encoding="utf-8"))
    assert not problems, (
        f"templates/{name} has text not marked for translation ({VARIABLE_STANDIN} stands for a "
        "{{ variable }}):\n"
        + "\n".join(f"  templates/{name}:{line}: {text}" for line, text in problems)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<p>Hello</p>", [(1, "Hello")]),
        ("<p>\n  {{ count }} results\n</p>", [(2, "0 results")]),
        ("{% if x %}<span>unknown</span>{% endif %}", [(1, "unknown")]),
        ('<a href="/" title="Remove this filter">×</a>', [(1, '<a title="Remove this filter">')]),
        (
            '<span aria-label="{{ n }} results">{{ n }}</span>',
            [(1, '<span aria-label="0 results">')],
        ),
        ('<td data-label="Status">{{ s }}</td>', [(1, '<td data-label="Status">')]),
        ('<meta name="description" content="A database">', [(1, '<meta content="A database">')]),
        ('<input type="submit" value="Go">', [(1, '<input value="Go">')]),
        (
            "{{ n }} transfer{{ n|pluralize }}",
            [
                (1, "0 transfer0"),
                (1, "{{ n|pluralize }}: |pluralize (use {% blocktranslate count %})"),
            ],
        ),
        ("{{ n|intcomma }}", [(1, "{{ n|intcomma }}: |intcomma (use |num)")]),
        (
            '{{ d|date:"j F Y" }}',
            [
                (
                    1,
                    '{{ d|date:"j F Y" }}: |date:"j F Y" (use |long_date, |short_date or |month_year)',
                )
            ],
        ),
        ('{{ b|yesno:"yes,no" }}', [(1, '{{ b|yesno:"yes,no" }}: |yesno:"yes,no"')]),
        (
            '{% include "x.html" with caption="People by year" dataset="agreements" %}',
            [
                (
                    1,
                    '{% include "x.html" with caption="People by year" dataset="agreements" %}: caption="People by year"',
                )
            ],
        ),
        (
            "<td>{% cycle 'Signed' 'Ended' %}</td>",
            [
                (1, "{% cycle 'Signed' 'Ended' %}: 'Signed'"),
                (1, "{% cycle 'Signed' 'Ended' %}: 'Ended'"),
            ],
        ),
        ("<p>Found\n{% comment %}a note{% endcomment %}\nthis</p>", [(1, "Found"), (3, "this")]),
        (
            "{% blocktranslate %}A long\n  sentence{% endblocktranslate %}",
            [(1, "{% blocktranslate %}: spans lines, not trimmed")],
        ),
    ],
)
def test_the_checker_reports_unmarked_words(source, expected):
    assert untranslated(source) == sorted(expected)


@pytest.mark.parametrize(
    "source",
    [
        '{% load i18n %}<p>{% translate "x" %}</p>',
        "{% load i18n %}<p>{% blocktranslate trimmed with n=count %}\n  {{ n }} results\n{% endblocktranslate %}</p>",
        "{% load i18n %}<p>{% blocktranslate count counter=n %}{{ counter }} row{% plural %}{{ counter }} rows{% endblocktranslate %}</p>",
        "{% load i18n %}<a title=\"{% translate 'Remove this filter' %}\">×</a>",
        '<span aria-label="{{ label }}">{{ n }}</span> · → – 2025',
        "{% comment %}Words in a comment.{% endcomment %}{# and here #}",
        "<script>let words = 'here';</script><style>p::after { content: 'more'; }</style>",
        "<p><code>datapackage.json</code>, CSV · JSON · API, CC BY 4.0</p>",
        "<!doctype html><!-- a comment -->",
        "<time datetime=\"{{ d|date:'Y-m-d' }}\">{{ d|long_date }}</time> {{ d|date:'c' }}",
        '{% include "x.html" with table="includes/t.html" dataset="agreements" %}',
    ],
)
def test_the_checker_accepts_marked_or_wordless_text(source):
    assert untranslated(source) == []
