"""Charts as geometry for inline SVG: the bars, grid lines and labels of a chart, computed here
and drawn by `templates/analytics/_charts.html`.

No script and no inline style: the console's Content-Security-Policy (`default-src 'self'`)
allows neither, so colours come from classes in console.css and sizes from SVG attributes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

WIDTH = 720
COLUMN_HEIGHT = 240
ROW_HEIGHT = 26
SERIES_CLASSES = 6  # console.css colours series-0 … series-5


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css_class: str
    title: str  # shown on hover


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"  # SVG text-anchor: start | middle | end


@dataclass
class Chart:
    """What the template draws, in the coordinates of a `width` × `height` view box."""

    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    grid: list[Line] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rects


def series_class(index: int) -> str:
    return f"series-{index % SERIES_CLASSES}"


def nice_scale(maximum: float, steps: int = 4) -> tuple[float, float]:
    """(top of the axis, step between grid lines): 1, 2 or 5 times a power of ten."""
    if maximum <= 0:
        return 1.0, 1.0
    raw = maximum / steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if step < 1 and float(maximum).is_integer():
        step = 1.0  # counts: no grid line at 0.5
    return step * math.ceil(maximum / step - 1e-9), step


def number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def columns(
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    label_every: int = 1,
    unit: str = "",
    maximum: float | None = None,
) -> Chart:
    """Stacked columns, one per category; `series` is (name, css class, a value per category)."""
    left, right, top, bottom = 44, 8, 12, 30
    chart = Chart(WIDTH, COLUMN_HEIGHT)
    plot_width, plot_height = WIDTH - left - right, COLUMN_HEIGHT - top - bottom
    totals = [sum(values[i] for _, _, values in series) for i in range(len(categories))]
    axis_top, step = nice_scale(maximum if maximum is not None else max(totals, default=0))
    _y_axis(chart, left, WIDTH - right, top, plot_height, axis_top, step, unit)
    slot = plot_width / max(len(categories), 1)
    for i, category in enumerate(categories):
        x = left + i * slot
        stacked = 0.0
        for name, css_class, values in series:
            value = values[i]
            if value <= 0:
                continue
            height = value / axis_top * plot_height
            stacked += height
            chart.rects.append(
                Rect(
                    x=round(x + slot * 0.15, 2),
                    y=round(top + plot_height - stacked, 2),
                    width=round(slot * 0.7, 2),
                    height=round(height, 2),
                    css_class=css_class,
                    title=f"{category}: {name + ' ' if len(series) > 1 else ''}{number(value)}{unit}",
                )
            )
        if i % label_every == 0:
            chart.labels.append(Label(round(x + slot / 2, 2), COLUMN_HEIGHT - 10, category))
    return chart


def _y_axis(
    chart: Chart,
    left: float,
    right: float,
    top: float,
    plot_height: float,
    axis_top: float,
    step: float,
    unit: str,
) -> None:
    for k in range(int(round(axis_top / step)) + 1):
        value = k * step
        y = round(top + plot_height - value / axis_top * plot_height, 2)
        chart.grid.append(Line(left, y, right, y))
        chart.labels.append(Label(left - 6, y + 4, number(value) + unit, "end"))


def bars(
    items: Sequence[tuple[str, float, str]],
    format_value: Callable[[float], str] = number,
    maximum: float | None = None,
    label_width: int = 190,
) -> Chart:
    """Horizontal bars, one per (label, value, css class), the value written after each bar."""
    right, top, bottom = 70, 6, 22
    height = top + ROW_HEIGHT * max(len(items), 1) + bottom
    chart = Chart(WIDTH, height)
    plot_width = WIDTH - label_width - right
    axis_top, step = nice_scale(
        maximum if maximum is not None else max((v for _, v, _ in items), default=0)
    )
    for k in range(int(round(axis_top / step)) + 1):
        x = round(label_width + k * step / axis_top * plot_width, 2)
        chart.grid.append(Line(x, top, x, height - bottom))
        chart.labels.append(Label(x, height - 6, format_value(k * step)))
    for i, (label, value, css_class) in enumerate(items):
        y = top + i * ROW_HEIGHT
        width = max(value, 0) / axis_top * plot_width
        chart.labels.append(Label(label_width - 8, y + ROW_HEIGHT / 2 + 4, _short(label), "end"))
        if width > 0:
            chart.rects.append(
                Rect(
                    label_width,
                    y + 4,
                    round(width, 2),
                    ROW_HEIGHT - 8,
                    css_class,
                    f"{label}: {format_value(value)}",
                )
            )
        chart.labels.append(
            Label(
                round(label_width + width + 6, 2),
                y + ROW_HEIGHT / 2 + 4,
                format_value(value),
                "start",
            )
        )
    return chart


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
