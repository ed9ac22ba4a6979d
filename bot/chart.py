"""The data-quality trend as a PNG, drawn with matplotlib's object API.

Each call builds its own :class:`~matplotlib.figure.Figure` on an Agg canvas: no
``pyplot`` and no global state, so concurrent renders (two channels' summaries
in two threads) cannot draw on each other's figure. matplotlib is imported when
a chart is drawn, not when this module is imported (its font cache is built on
first import). A day without a snapshot is a gap in the line, never a zero.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date

from agent.summary import TrendPoint

LINE_COLOR = "#1264a3"
"""The trend line's colour (Slack blue); tests find the line by it."""
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 3.0, 100
_AXIS_COLOR = "#616061"


def render_trend_png(points: Sequence[TrendPoint], *, title: str = "Data quality, last 30 days") -> bytes:
    """A line chart of ``points`` (oldest first) as PNG bytes; ``score=None`` days are gaps.

    The y axis zooms to the data (with a margin, within 0-100) so a change of a
    few points is visible; isolated days between gaps show as dots.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    days = [_noon(p.day) for p in points]
    # NaN breaks the line: matplotlib never joins across a missing value.
    scores = [math.nan if p.score is None else p.score for p in points]
    axes.plot(
        days, scores, color=LINE_COLOR, linewidth=2.2, marker="o", markersize=3.5, solid_capstyle="round"
    )
    low, high = _y_range([s for s in scores if not math.isnan(s)])
    axes.set_ylim(low, high)
    if days:
        axes.set_xlim(days[0] - 0.5, days[-1] + 0.5)
    axes.set_title(title, loc="left", fontsize=11, color="#1d1c1d")
    axes.set_ylabel("score (0-100)", fontsize=9, color=_AXIS_COLOR)
    # A label every fifth day, counted back from the last so the summary's own day is labelled.
    labelled = list(points)[::-1][::5][::-1]
    axes.set_xticks([_noon(p.day) for p in labelled], labels=[f"{p.day.day} {p.day:%b}" for p in labelled])
    axes.tick_params(labelsize=8, colors=_AXIS_COLOR)
    axes.grid(axis="y", color="#e8e8e8", linewidth=0.8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if not any(not math.isnan(s) for s in scores):
        axes.text(0.5, 0.5, "no scores yet", transform=axes.transAxes, ha="center", color=_AXIS_COLOR)
    figure.tight_layout()
    buffer = io.BytesIO()
    # No "Software" metadata: the same data gives the same bytes on every host.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _noon(day: date) -> float:
    # matplotlib's date numbers (days since 1970-01-01); noon centres the point on its day.
    return float(day.toordinal() - date(1970, 1, 1).toordinal()) + 0.5


def _y_range(scores: Sequence[float]) -> tuple[float, float]:
    if not scores:
        return 0.0, 100.0
    low, high = min(scores), max(scores)
    margin = max(2.0, (high - low) * 0.15)
    return max(0.0, low - margin), min(100.0, high + margin)
