"""How to cite a page of the tracker: one citation, written out as plain text, BibTeX, RIS and
CSL-JSON (what reference managers import), so a quote can point at the record as it stood."""

import datetime
import json
import re
from dataclasses import dataclass

SITE_NAME = "Transfer Tracker"

# Characters BibTeX reads as commands or groups: escaped so a title stays text.
_BIBTEX_SPECIAL = re.compile(r"([\\{}%&$#_^~])")


def _bibtex(text):
    return _BIBTEX_SPECIAL.sub(lambda match: "\\" + match.group(1), _one_line(text))


def _one_line(text):
    """Line breaks and other control characters would end a RIS field or a BibTeX value."""
    return " ".join(str(text).split())


def _long_date(value):
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
        return (
            f"{SITE_NAME}, “{_one_line(self.title)}”, last updated {_long_date(self.updated)}, "
            f"{self.url} (accessed {_long_date(self.accessed)})."
        )

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
        title=title or str(record),
        url=request.build_absolute_uri(record.get_absolute_url()),
        updated=updated or today,
        accessed=today,
    )
