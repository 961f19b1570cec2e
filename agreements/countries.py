"""The country list: ISO 3166-1 from pycountry, plus parties that ISO 3166-1 does not list."""

import pycountry
import pycountry_convert
from django.utils.text import slugify

_CONTINENT_TO_REGION = {
    "AF": "africa",
    "AS": "asia",
    "EU": "europe",
    "NA": "north_america",
    "SA": "south_america",
    "OC": "oceania",
    "AN": "antarctica",
}
# pycountry-convert has no continent for these four ISO codes.
_REGION_OVERRIDES = {"AQ": "antarctica", "SX": "north_america", "UM": "oceania", "VA": "europe"}

# Not in ISO 3166-1, but parties to agreements in the data.
EXTRA_COUNTRIES = [
    # Kosovo: user-assigned code XK, used by the EU and the IMF.
    {"code": "XK", "alpha3": "XKX", "name": "Kosovo", "region": "europe", "is_state": True},
    # The EU: exceptionally reserved code EU; a bloc that signs agreements, not a state.
    {
        "code": "EU",
        "alpha3": "EUE",
        "name": "European Union",
        "region": "europe",
        "is_state": False,
    },
]


def _region(alpha2: str) -> str:
    if alpha2 in _REGION_OVERRIDES:
        return _REGION_OVERRIDES[alpha2]
    return _CONTINENT_TO_REGION[pycountry_convert.country_alpha2_to_continent_code(alpha2)]


def country_rows() -> list[dict]:
    """Every country as field values for the Country model, ordered by code."""
    rows = [
        {
            "code": entry.alpha_2,
            "alpha3": entry.alpha_3,
            # common_name where ISO's is formal ("Venezuela", not "Venezuela, Bolivarian Republic of").
            "name": getattr(entry, "common_name", None) or entry.name,
            "region": _region(entry.alpha_2),
            "is_state": True,
        }
        for entry in pycountry.countries
    ]
    rows.extend(EXTRA_COUNTRIES)
    for row in rows:
        row["slug"] = slugify(row["name"])
    return sorted(rows, key=lambda row: row["code"])


def sync_countries(country_model) -> int:
    """Create or update every country; returns how many rows were written. Idempotent."""
    written = 0
    existing = {country.code: country for country in country_model.objects.all()}
    for row in country_rows():
        current = existing.get(row["code"])
        if current is None:
            country_model.objects.create(**row)
            written += 1
        elif any(getattr(current, field) != value for field, value in row.items()):
            for field, value in row.items():
                setattr(current, field, value)
            current.save()
            written += 1
    return written
