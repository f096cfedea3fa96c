"""The peak search on curves given as functions: no load is driven, each level is computed."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.measure.search import PeakSearch

Curve = Callable[[float], float]


def kinked(n: float) -> float:
    # 50 ms of parallel work, then a lock held 1 ms + 0.3 ms per call in flight:
    # X = min(n / (P + B + K·n), 1 / (B + K·n)), peak at n* = 11.9 (benchmarks/advice_quality).
    return min(n / (0.051 + 0.0003 * n), 1 / (0.001 + 0.0003 * n))


def run(search: PeakSearch, curve: Curve) -> list[tuple[int, float, str]]:
    done: list[tuple[int, float, str]] = []
    while (step := search.next_level([(n, x) for n, x, _ in done])) is not None:
        level, why = step
        done.append((level, curve(level), why))
    return done


def test_climbs_by_three_then_measures_at_the_provisional_peak() -> None:
    done = run(PeakSearch(max_levels=5), kinked)
    assert [n for n, _, _ in done] == [1, 3, 9, 27, 12]
    assert done[1][2] == "throughput still rising: ×3"
    # 27 measured less than 9: bracket (3, 27); the USL through 1, 3, 9, 27 peaks at 11.9
    assert done[4][2].startswith("the peak is between 3 and 27; the USL through the 4 levels")
    best = max(done, key=lambda d: d[1])[0]
    assert best == 12  # the integer peak of the construction


def test_more_levels_close_in_on_the_peak_then_stop() -> None:
    search = PeakSearch(max_levels=30)
    done = run(search, kinked)
    levels = [n for n, _, _ in done]
    assert levels[:5] == [1, 3, 9, 27, 12] and {11, 13} <= set(levels) and len(levels) < 10
    assert search.why_stopped([(n, x) for n, x, _ in done]) == (
        "every whole level around the best (12) has been measured"
    )


def test_a_curve_still_rising_stops_at_the_maximum() -> None:
    search = PeakSearch(max_levels=20, max_concurrency=100)
    done = run(search, lambda n: 100 * n / (1 + 0.05 * (n - 1)))
    assert [n for n, _, _ in done] == [1, 3, 9, 27, 81, 100]
    assert "no peak below it" in search.why_stopped([(n, x) for n, x, _ in done])


def test_the_level_budget_stops_the_climb() -> None:
    search = PeakSearch(max_levels=3)
    done = run(search, lambda n: n)
    assert [n for n, _, _ in done] == [1, 3, 9]
    assert search.why_stopped([(n, x) for n, x, _ in done]) == (
        "the search stopped at max_levels 3"
    )


def test_without_a_fit_the_next_level_is_halfway_to_the_better_neighbour() -> None:
    # Two levels cannot carry a provisional USL (it needs 3): 30/s at 4, 5/s at 16 → bracket
    # (1, 16) around 4; with no measured level below 4, halfway toward 16: √(4·16) = 8.
    two = PeakSearch().next_level([(4, 30.0), (16, 5.0)])
    assert two == (8, "the peak is between 1 and 16; halfway (geometric) from 4 toward 16")


def test_with_three_levels_the_provisional_usl_places_the_next() -> None:
    # 10, 30, 5/s at 1, 9, 27: the USL through them peaks near 5, inside the bracket (1, 27)
    step = PeakSearch().next_level([(1, 10.0), (9, 30.0), (27, 5.0)])
    assert step == (5, "the peak is between 1 and 27; the USL through the 3 levels peaks near 5")


def test_a_bracket_with_no_whole_level_left_ends_the_search() -> None:
    measured = [(1.0, 10.0), (2.0, 30.0), (3.0, 20.0)]
    assert PeakSearch().next_level(measured) is None
    assert PeakSearch().why_stopped(measured) == (
        "every whole level around the best (2) has been measured"
    )


@pytest.mark.parametrize(
    ("kwargs", "source"),
    [
        ({"max_levels": 1}, "max_levels"),
        ({"max_concurrency": 1}, "max_concurrency"),
        ({"factor": 1.0}, "factor"),
        ({"start": 300}, "start"),
    ],
)
def test_bad_plans_are_input_errors(kwargs: dict[str, float], source: str) -> None:
    with pytest.raises(InputError) as caught:
        PeakSearch(**kwargs)  # type: ignore[arg-type]
    assert caught.value.source == source


@settings(max_examples=60, deadline=None)
@given(
    peak=st.floats(1.5, 400),
    width=st.floats(0.2, 3.0),
    noise=st.lists(st.floats(0.9, 1.1), min_size=40, max_size=40),
    max_levels=st.integers(2, 12),
)
def test_any_unimodal_curve_new_levels_within_bounds_and_the_search_ends(
    peak: float, width: float, noise: list[float], max_levels: int
) -> None:
    search = PeakSearch(max_levels=max_levels, max_concurrency=256)
    measured: list[tuple[float, float]] = []
    while (step := search.next_level(measured)) is not None:
        level = step[0]
        assert 1 <= level <= 256 and level not in [n for n, _ in measured]
        rate = math.exp(-((math.log(level / peak) / width) ** 2)) * noise[len(measured)] + 1e-9
        measured.append((level, rate))
        assert len(measured) <= max_levels
    assert search.why_stopped(measured)
