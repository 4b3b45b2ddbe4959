"""Chart geometry for the console's inline SVG (console.analytics.charts)."""

from __future__ import annotations

import pytest

from console.analytics import charts


@pytest.mark.parametrize(
    "maximum, scale",
    [
        (0, (1, 1)),
        (3, (3, 1)),
        (7, (8, 2)),
        (38.5, (40, 10)),
        (100, (100, 50)),
        (1234, (1500, 500)),
    ],
)
def test_axes_end_on_a_round_number(maximum, scale):
    assert charts.nice_scale(maximum) == scale


def test_columns_stack_the_series_of_a_category_from_the_axis_up():
    chart = charts.columns(
        ["Mon", "Tue"], [("webchat", "series-0", [2, 0]), ("twilio", "series-1", [2, 4])]
    )
    assert [r.title for r in chart.rects] == ["Mon: webchat 2", "Mon: twilio 2", "Tue: twilio 4"]
    webchat, twilio, tuesday = chart.rects
    assert webchat.y + webchat.height == pytest.approx(charts.COLUMN_HEIGHT - 30)  # the axis
    assert twilio.y + twilio.height == pytest.approx(webchat.y)
    assert tuesday.height == pytest.approx(webchat.height + twilio.height)  # 4 = 2 + 2
    assert [label.text for label in chart.labels if label.anchor == "end"] == [
        "0",
        "1",
        "2",
        "3",
        "4",
    ]


def test_bars_are_as_long_as_their_share_of_the_axis_and_say_their_value():
    chart = charts.bars(
        [("cost", 4, "series-0"), ("parking", 2, "series-0"), ("hours", 0, "series-0")]
    )
    cost, parking = chart.rects  # no bar for a zero
    assert parking.width == pytest.approx(cost.width / 2)
    assert {"cost", "parking", "hours", "4", "2", "0"} <= {label.text for label in chart.labels}
    assert not chart.empty and charts.bars([]).empty
