"""How to cite a page of the tracker: one citation, written out as plain text, BibTeX, RIS and
CSL-JSON (what reference managers import), so a quote can point at the record as it stood."""

import datetime
import json
import re
from dataclasses import dataclass

from django.utils.translation import gettext

from agreements import l10n

SITE_NAME = "Transfer Tracker"

# Characters BibTeX reads as commands or groups: escaped so a title stays text.
_BIBTEX_SPECIAL = re.compile(r"([\\{}%&$#_^~])")


def _bibtex(text):
    return _BIBTEX_SPECIAL.sub(lambda match: "\\" + match.group(1), _one_line(text))


def _one_line(text):
    """Line breaks and other control characters would end a RIS field or a BibTeX value."""
    return " ".join(str(text).split())


def _long_date(value):
    """In English, whatever the page's language: BibTeX notes are part of the record's data."""
    return f"{value.day} {value:%B %Y}"


def _parts(value):
    return {"date-parts": [[value.year, value.month, value.day]]}


@dataclass(frozen=True)
class Citation:
    key: str  # stable: "tt-agreement-uk-rw-2022"
    title: str
    url: str  # the permalink, absolute
    updated: datetime.date  # when the record last changed
    accessed: datetime.date

    @property
    def plain(self):
        """The citation in words, in the page's language."""
        text = gettext(
            # Translators: A citation of a page: the site's name (keep it as it is), the page's
            # title, the date its record last changed, its address and the day it was read.
            "%(site)s, “%(title)s”, last updated %(updated)s, %(url)s (accessed %(accessed)s)."
        )
        return text % {
            "site": SITE_NAME,
            "title": _one_line(self.title),
            "updated": l10n.long_date(self.updated),
            "url": self.url,
            "accessed": l10n.long_date(self.accessed),
        }

    @property
    def bibtex(self):
        return (
            f"@misc{{{self.key},\n"
            f"  title = {{{_bibtex(self.title)}}},\n"
            f"  author = {{{{{SITE_NAME}}}}},\n"
            f"  year = {{{self.updated.year}}},\n"
            f"  howpublished = {{\\url{{{self.url}}}}},\n"
            f"  note = {{Last updated {_long_date(self.updated)}; "
            f"accessed {_long_date(self.accessed)}}}\n"
            "}"
        )

    @property
    def ris(self):
        lines = [
            ("TY", "ELEC"),
            ("TI", _one_line(self.title)),
            ("AU", SITE_NAME),
            ("PB", SITE_NAME),
            ("UR", self.url),
            ("DA", f"{self.updated:%Y/%m/%d}"),
            ("Y2", f"{self.accessed:%Y/%m/%d}"),
            ("ER", ""),
        ]
        return "\n".join(f"{tag}  - {value}" for tag, value in lines)

    @property
    def csl_json(self):
        item = {
            "id": self.key,
            "type": "webpage",
            "title": _one_line(self.title),
            "container-title": SITE_NAME,
            "author": [{"literal": SITE_NAME}],
            "URL": self.url,
            "issued": _parts(self.updated),
            "accessed": _parts(self.accessed),
        }
        return json.dumps([item], indent=2, ensure_ascii=False)


def citation_for(request, record, *, title=None, updated=None, today=None):
    """The citation of record's public page (an agreement, case, transfer or country)."""
    kind = record._meta.model_name
    updated = updated or getattr(record, "updated_at", None)
    updated = updated.date() if isinstance(updated, datetime.datetime) else updated
    today = today or datetime.date.today()
    return Citation(
        key=f"tt-{kind}-{getattr(record, 'slug', None) or record.pk}",
        title=title or getattr(record, "display_name", None) or str(record),
        url=request.build_absolute_uri(record.get_absolute_url()),
        updated=updated or today,
        accessed=today,
    )
