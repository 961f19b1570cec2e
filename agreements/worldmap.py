"""A world map drawn as SVG on the server from the world-atlas TopoJSON (Natural Earth 1:110m,
public domain; vendored under static/vendor/world-atlas by `make vendor`). No tiles, no script.

The geometry is decoded and projected once per process (Natural Earth I projection).
"""

import json
import math
from dataclasses import dataclass
from functools import cache

import pycountry
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tracker.caching import cached_per_version

ATLAS = settings.BASE_DIR / "static" / "vendor" / "world-atlas" / "countries-110m.json"
WIDTH, HEIGHT = 960, 500
# Natural Earth features without an ISO numeric code in world-atlas.
NAMED_CODES = {"Kosovo": "XK", "N. Cyprus": "CY", "Somaliland": "SO"}


@dataclass(frozen=True)
class Shape:
    code: str  # ISO alpha-2, or "" when unknown
    name: str
    path: str  # SVG path data


def _natural_earth(lon, lat):
    lam, phi = math.radians(lon), math.radians(lat)
    phi2 = phi * phi
    phi4 = phi2 * phi2
    x = lam * (
        0.8707 - 0.131979 * phi2 + phi4 * (-0.013791 + phi4 * (0.003971 * phi2 - 0.001529 * phi4))
    )
    y = phi * (
        1.007226 + phi2 * (0.015085 + phi4 * (-0.044475 + 0.028874 * phi2 - 0.005916 * phi4))
    )
    return x, y


# Scale and centre so that the whole world (x ±2.73, y ±1.42 in projection units) fits.
_SCALE = WIDTH / (2 * 2.7378)
_X0, _Y0 = WIDTH / 2, HEIGHT / 2


def _point(lon, lat):
    x, y = _natural_earth(lon, lat)
    return round(_X0 + x * _SCALE, 1), round(_Y0 - y * _SCALE, 1)


def _decode_arcs(topology):
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    return arcs


def _ring(arcs, indexes):
    points = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc[1:] if points else arc)
    return points


def _path(rings):
    parts = []
    for ring in rings:
        previous_lon = None
        for lon, lat in ring:
            x, y = _point(lon, lat)
            # Start a new sub-path where a ring jumps across the antimeridian.
            jump = previous_lon is None or abs(lon - previous_lon) > 180
            parts.append(f"{'M' if jump else 'L'}{x},{y}")
            previous_lon = lon
        parts.append("Z")
    return "".join(parts)


def _alpha2(geometry):
    name = geometry.get("properties", {}).get("name", "")
    if name in NAMED_CODES:
        return NAMED_CODES[name]
    country = pycountry.countries.get(numeric=geometry.get("id", ""))
    return country.alpha_2 if country else ""


@cache
def shapes() -> tuple[Shape, ...]:
    topology = json.loads(ATLAS.read_text())
    arcs = _decode_arcs(topology)
    result = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = geometry.get("arcs", [])
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = [_ring(arcs, ring) for polygon in polygons for ring in polygon]
        name = geometry.get("properties", {}).get("name", "")
        result.append(Shape(_alpha2(geometry), name, _path(rings)))
    return tuple(result)


def country_roles():
    """{code: "sends" | "receives" | "both"} from published agreements and transfers."""
    from agreements.models import Agreement, Transfer

    agreements = Agreement.objects.published().order_by()
    transfers = Transfer.objects.published().order_by()

    def codes(queryset, field):
        return set(queryset.values_list(f"{field}__code", flat=True).distinct())

    senders = codes(agreements, "sending_country") | codes(transfers, "from_country")
    hosts = codes(agreements, "receiving_country") | codes(transfers, "to_country")
    roles = dict.fromkeys(senders, "sends")
    for code in hosts:
        roles[code] = "both" if code in senders else "receives"
    return roles


ROLE_LABELS = {
    # Translators: These three follow a country's name on the world map: "Rwanda: receives people".
    "sends": _("sends people"),
    "receives": _("receives people"),
    "both": _("sends and receives"),
}


@cached_per_version
def world_map():
    """Context for includes/world_map.html: every shape, with its country's role, its name in
    the page's language and, for a country with a role, its page. Computed once per change of
    the data (and language)."""
    from agreements import l10n
    from agreements.models import Country
    from tracker.reversing import fast_reverse

    roles = country_roles()
    names = dict(Country.objects.filter(code__in=roles).values_list("code", "name"))
    drawn = []
    for shape in shapes():
        role = roles.get(shape.code, "")
        name = names.get(shape.code, shape.name)
        drawn.append(
            {
                "code": shape.code.lower(),
                "name": l10n.country_name(shape.code, name) if shape.code else name,
                "role": role,
                "role_label": ROLE_LABELS.get(role, ""),
                # The country's page in the page's language (/es/countries/rw/).
                "url": fast_reverse("country-detail", "code", shape.code.lower()) if role else "",
                "path": shape.path,
            }
        )
    # Countries with a role are drawn last so their outlines sit on top.
    drawn.sort(key=lambda item: bool(item["role"]))
    return {"shapes": drawn, "width": WIDTH, "height": HEIGHT}
