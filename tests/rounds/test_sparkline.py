"""Server-side sparklines (pure): scaled into the box, one point per 2 px, target band."""

from __future__ import annotations

from continuum.rounds.sparkline import sparkline


def test_a_day_of_minutes_becomes_at_most_one_point_per_two_pixels() -> None:
    samples = [(float(t * 60), 4.0 + (t % 10) / 10) for t in range(1440)]
    line = sparkline(samples, 0.0, 86400.0, width=120, height=28, target=(4.0, 5.0))
    points = [tuple(map(float, p.split(","))) for p in line.points.split()]
    assert len(points) == 60
    assert all(0 <= x <= 120 and 0 <= y <= 28 for x, y in points)
    assert line.band is not None and line.band[0] < line.band[1]  # top above bottom
    assert line.last == samples[-1][1]


def test_no_samples_draws_nothing() -> None:
    line = sparkline([], 0.0, 1.0)
    assert line.empty and line.band is None
