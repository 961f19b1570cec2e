import datetime

import pytest

from agreements.dates import format_partial_date, parse_partial_date, truncate_to_precision


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-16", (datetime.date(2025, 3, 16), "day")),
        ("2025-03", (datetime.date(2025, 3, 1), "month")),
        ("2025", (datetime.date(2025, 1, 1), "year")),
    ],
)
def test_parse_partial_date(text, expected):
    assert parse_partial_date(text) == expected


@pytest.mark.parametrize("text", ["2025-13", "16/03/2025", "", "2025-02-30"])
def test_parse_partial_date_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_partial_date(text)


@pytest.mark.parametrize(
    ("precision", "shown"), [("day", "16 March 2025"), ("month", "March 2025"), ("year", "2025")]
)
def test_dates_are_shown_at_their_precision(precision, shown):
    value = truncate_to_precision(datetime.date(2025, 3, 16), precision)
    assert format_partial_date(value, precision) == shown
