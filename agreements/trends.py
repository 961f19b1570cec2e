"""The trends page: people transferred per month by receiving country, and a timeline of
agreements. Both are drawn on the server and come with a table of the same numbers."""

import datetime

from django.db.models import Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agreements import l10n
from agreements.models import AGREEMENT_DATE_FIELDS, Agreement, DatePrecision, Transfer

TOP_COUNTRIES = 5
TIMELINE_LIMIT = 60
# The timeline's SVG coordinates (it scales as a whole to the page width).
TRACK_X, TRACK_WIDTH, AXIS_HEIGHT, ROW_HEIGHT = 370, 620, 24, 22
# The phone's drawing (templates/agreements/trends.html): 1000 units scaled to a phone's 360 pixels
# made 4-pixel text, so a narrow screen gets one of its own width, each label above its bar.
NARROW_X, NARROW_WIDTH, NARROW_ROW_HEIGHT = 8, 344, 40
# The timeline's marks, one letter each: the page's legend explains them ("announced (A)").
LETTERS = {
    # Translators: One letter marking when an agreement was announced on the timeline of
    # agreements; the same letter as in "marks show when it was announced (A), ...".
    "announced": pgettext_lazy("timeline mark: announced", "A"),
    # Translators: One letter marking when an agreement was signed (see "A").
    "signed": pgettext_lazy("timeline mark: signed", "S"),
    # Translators: One letter marking when an agreement entered into force (see "A").
    "in_force": pgettext_lazy("timeline mark: in force", "F"),
    # Translators: One letter marking when an agreement ended (see "A").
    "ended": pgettext_lazy("timeline mark: ended", "E"),
}
PALETTE = ["#1f78b4", "#d95f02", "#7b3294", "#1b9e77", "#e7298a", "#666666"]


def people_per_month():
    """Months (with day or month precision) x the top receiving countries; the rest is "Other"."""
    rows = (
        Transfer.objects.published()
        .exclude(date_precision=DatePrecision.YEAR)
        .filter(people__isnull=False)
        .annotate(month=TruncMonth("date"))
        .values("month", "to_country__code", "to_country__name")
        .annotate(people=Coalesce(Sum("people"), 0))
        .order_by("month")
    )
    rows = list(rows)
    totals = {}
    for row in rows:
        key = (row["to_country__code"], row["to_country__name"])
        totals[key] = totals.get(key, 0) + row["people"]
    top = [
        key
        for key, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0][1]))[
            :TOP_COUNTRIES
        ]
    ]
    series = [
        {"code": code, "name": l10n.country_name(code, name), "colour": PALETTE[i]}
        for i, (code, name) in enumerate(top)
    ]
    if len(totals) > len(top):
        series.append({"code": "", "name": _("Other countries"), "colour": PALETTE[-1]})
    # People per month and series, by the series' code ("" for the other countries).
    months = {}
    for row in rows:
        month = months.setdefault(row["month"], {s["code"]: 0 for s in series})
        key = (row["to_country__code"], row["to_country__name"])
        month[row["to_country__code"] if key in top else ""] += row["people"]
    largest = max((sum(values.values()) for values in months.values()), default=0) or 1
    table = []
    for month, values in sorted(months.items()):
        segments, offset = [], 0.0
        for item in series:
            share = 100 * values[item["code"]] / largest
            segments.append(
                {"name": item["name"], "colour": item["colour"], "people": values[item["code"]],
                 "share": round(share, 2), "offset": round(offset, 2)}
            )  # fmt: skip
            offset += share
        table.append({"month": month, "total": sum(values.values()), "segments": segments})
    return {"series": series, "months": table}


def agreement_timeline(today=None):
    """Each dated agreement as a bar from its first known date to its end (or today), with
    markers at each known date; positions are percentages of the overall span."""
    today = today or datetime.date.today()
    dated = Agreement.objects.published().with_first_date().filter(first_date__isnull=False)
    # A chart of thousands of bars is unreadable (and megabytes): the most recent ones, oldest
    # first; the page links to the full list sorted by date.
    agreements = sorted(
        dated.with_parties().order_by("-first_date", "-id")[:TIMELINE_LIMIT],
        key=lambda agreement: (agreement.first_date, agreement.title),
    )
    if not agreements:
        return {"rows": [], "years": [], "total": 0}
    start = datetime.date(min(a.first_date for a in agreements).year, 1, 1)
    end = datetime.date(today.year + 1, 1, 1)
    span = (end - start).days

    def position(day):
        return round(100 * (day - start).days / span, 2)

    rows = []
    for agreement in agreements:
        finish = agreement.ended_on or today
        markers = [
            {
                "letter": LETTERS[name],
                "label": agreement.dated(name),
                "left": position(getattr(agreement, f"{name}_on")),
            }
            for name in AGREEMENT_DATE_FIELDS
            if getattr(agreement, f"{name}_on")
        ]
        rows.append(
            {
                "agreement": agreement,
                "left": position(agreement.first_date),
                "width": max(position(finish) - position(agreement.first_date), 0.5),
                "ongoing": agreement.ended_on is None,
                "markers": markers,
                "dates": [agreement.dated(name) for name in AGREEMENT_DATE_FIELDS],
            }
        )
    years = [
        {"year": year, "left": position(datetime.date(year, 1, 1))}
        for year in range(start.year, end.year)
        if (year - start.year) % max(1, (end.year - start.year) // 8) == 0
    ]
    # SVG geometry: labels on the left, the time axis in TRACK_X..TRACK_X + TRACK_WIDTH; on a
    # narrow screen, each label above its bar, the axis in NARROW_X..NARROW_X + NARROW_WIDTH.
    for number, row in enumerate(rows):
        row["y"] = AXIS_HEIGHT + number * ROW_HEIGHT
        row["x"] = TRACK_X + row["left"] * TRACK_WIDTH / 100
        row["bar_width"] = row["width"] * TRACK_WIDTH / 100
        row["narrow_y"] = AXIS_HEIGHT + number * NARROW_ROW_HEIGHT
        row["narrow_x"] = NARROW_X + row["left"] * NARROW_WIDTH / 100
        row["narrow_bar_width"] = row["width"] * NARROW_WIDTH / 100
        for marker in row["markers"]:
            marker["x"] = TRACK_X + marker["left"] * TRACK_WIDTH / 100
            marker["narrow_x"] = NARROW_X + marker["left"] * NARROW_WIDTH / 100
    for number, tick in enumerate(years):
        tick["x"] = TRACK_X + tick["left"] * TRACK_WIDTH / 100
        tick["narrow_x"] = NARROW_X + tick["left"] * NARROW_WIDTH / 100
        # A year label is centred on its line, but never cut by the drawing's edge.
        tick["narrow_label_x"] = min(max(tick["narrow_x"], 14), 2 * NARROW_X + NARROW_WIDTH - 14)
        # Years 12 units wide do not fit more than six to the narrow axis: every other one.
        tick["narrow_label"] = len(years) <= 6 or number % 2 == 0
    height = AXIS_HEIGHT + len(rows) * ROW_HEIGHT
    return {
        "rows": rows,
        "years": years,
        "height": height,
        "narrow_width": 2 * NARROW_X + NARROW_WIDTH,
        "narrow_height": AXIS_HEIGHT + len(rows) * NARROW_ROW_HEIGHT,
        "track_x": TRACK_X,
        "total": dated.count() if len(rows) == TIMELINE_LIMIT else len(rows),
        "limit": TIMELINE_LIMIT,
    }
