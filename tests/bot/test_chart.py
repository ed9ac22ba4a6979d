"""The trend chart: a valid PNG whose line goes where the scores go, with gaps where days are missing."""

from __future__ import annotations

import io
import struct
import threading
from datetime import date, timedelta

import numpy as np
from matplotlib.image import imread

from agent.summary import TrendPoint
from bot.chart import DPI, HEIGHT_IN, LINE_COLOR, WIDTH_IN, render_trend_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LAST_DAY = date(2026, 11, 24)


def series(scores: list[float | None]) -> list[TrendPoint]:
    first = LAST_DAY - timedelta(days=len(scores) - 1)
    return [TrendPoint(first + timedelta(days=n), score) for n, score in enumerate(scores)]


def line_pixels(png: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the pixels drawn in the line's colour."""
    image = imread(io.BytesIO(png), format="png")[:, :, :3]
    wanted = np.array([int(LINE_COLOR[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    rows, columns = np.nonzero(np.all(np.abs(image - wanted) < 0.02, axis=2))
    return rows, columns


def mean_row(rows: np.ndarray, columns: np.ndarray, low: float, high: float) -> float:
    """The mean pixel row of the line between two fractions of its width (row 0 is the top)."""
    left, right = columns.min(), columns.max()
    inside = (columns >= left + low * (right - left)) & (columns <= left + high * (right - left))
    assert inside.any(), "no line pixels in that part of the chart"
    return float(rows[inside].mean())


def test_the_chart_is_a_valid_png_of_the_promised_size() -> None:
    png = render_trend_png(series([80.0 + n * 0.5 for n in range(30)]))

    assert png.startswith(PNG_SIGNATURE)
    length, chunk = struct.unpack(">I4s", png[8:16])
    width, height = struct.unpack(">II", png[16:24])
    assert (length, chunk) == (13, b"IHDR")
    assert (width, height) == (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
    assert png.endswith(b"IEND\xaeB`\x82")
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[:2] == (height, width)


def test_a_rising_score_is_drawn_higher_on_the_right() -> None:
    rows, columns = line_pixels(render_trend_png(series([70.0 + n for n in range(30)])))

    assert mean_row(rows, columns, 0.85, 1.0) < mean_row(rows, columns, 0.0, 0.15) - 50


def test_a_falling_score_is_drawn_lower_on_the_right() -> None:
    rows, columns = line_pixels(render_trend_png(series([99.0 - n for n in range(30)])))

    assert mean_row(rows, columns, 0.85, 1.0) > mean_row(rows, columns, 0.0, 0.15) + 50


def test_days_without_a_score_are_gaps_not_zeros() -> None:
    scores: list[float | None] = [90.0] * 30
    scores[10:20] = [None] * 10

    rows, columns = line_pixels(render_trend_png(series(scores)))

    left, right = columns.min(), columns.max()
    middle = (columns > left + 0.4 * (right - left)) & (columns < left + 0.6 * (right - left))
    assert not middle.any(), "nothing is drawn for the missing days"
    assert np.ptp(rows) < 10, "no dip to zero: the line stays level"


def test_the_same_data_gives_the_same_bytes_and_threads_do_not_share_a_figure() -> None:
    rising = series([70.0 + n for n in range(30)])
    falling = series([99.0 - n for n in range(30)])
    alone = render_trend_png(rising)
    results: dict[str, bytes] = {}

    def draw(name: str, points: list[TrendPoint]) -> None:
        results[name] = render_trend_png(points)

    threads = [
        threading.Thread(target=draw, args=(f"{kind}{n}", points))
        for n in range(3)
        for kind, points in (("up", rising), ("down", falling))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {results[f"up{n}"] for n in range(3)} == {alone}
    assert len({results[f"down{n}"] for n in range(3)}) == 1


def test_no_scores_at_all_still_draws_a_chart() -> None:
    png = render_trend_png(series([None] * 30))

    assert png.startswith(PNG_SIGNATURE)
    rows, _ = line_pixels(png)
    assert rows.size == 0
