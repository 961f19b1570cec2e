"""Dates known to a day, a month or a year, as news reports them."""

import datetime
import re

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agreements import l10n


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def parse_partial_date(text: str) -> tuple[datetime.date, str]:
    """'2025-03-16' -> day, '2025-03' -> month, '2025' -> year. Raises ValueError."""
    match = _PARTIAL_DATE.match(str(text).strip())
    if not match:
        raise ValueError(f"not a date (YYYY, YYYY-MM or YYYY-MM-DD): {text!r}")
    year, month, day = match.groups()
    if day:
        return datetime.date(int(year), int(month), int(day)), DatePrecision.DAY
    if month:
        return datetime.date(int(year), int(month), 1), DatePrecision.MONTH
    return datetime.date(int(year), 1, 1), DatePrecision.YEAR


def truncate_to_precision(value: datetime.date | None, precision: str) -> datetime.date | None:
    """The canonical stored date for a precision: the first day of its month or year."""
    if value is None:
        return None
    if precision == DatePrecision.YEAR:
        return value.replace(month=1, day=1)
    if precision == DatePrecision.MONTH:
        return value.replace(day=1)
    return value


def period_end(value: datetime.date | None, precision: str) -> datetime.date | None:
    """The last day a partial date can stand for: 2025-09 (month) -> 2025-09-30."""
    if value is None or precision == DatePrecision.DAY:
        return value
    if precision == DatePrecision.YEAR:
        return value.replace(month=12, day=31)
    following = (value.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def format_partial_date(value: datetime.date | None, precision: str) -> str:
    """'16 March 2025', 'March 2025' or '2025': never more precise than what is known, in the
    page's language ('marzo de 2025')."""
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return l10n.year(value)
    if precision == DatePrecision.MONTH:
        return l10n.month_year(value)
    return l10n.long_date(value)


def precision_condition(date_field: str, precision_field: str) -> Q:
    """A CheckConstraint condition: a month is stored as its 1st day, a year as 1 January."""
    return (
        Q(**{f"{date_field}__isnull": True})
        | Q(**{precision_field: DatePrecision.DAY})
        | Q(**{precision_field: DatePrecision.MONTH, f"{date_field}__day": 1})
        | Q(
            **{
                precision_field: DatePrecision.YEAR,
                f"{date_field}__month": 1,
                f"{date_field}__day": 1,
            }
        )
    )


def precision_constraint(model_prefix: str, date_field: str, precision_field: str):
    return models.CheckConstraint(
        condition=precision_condition(date_field, precision_field),
        name=f"{model_prefix}_{date_field}_matches_precision",
        violation_error_message=(
            f"{date_field.replace('_', ' ').capitalize()}: a month-precision date must be the "
            "1st of the month and a year-precision date 1 January."
        ),
    )


def format_iso_partial_date(value: datetime.date | None, precision: str) -> str:
    """'2025-03-16', '2025-03' or '2025': the inverse of parse_partial_date (for CSV)."""
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{value:%Y}"
    if precision == DatePrecision.MONTH:
        return f"{value:%Y-%m}"
    return value.isoformat()
