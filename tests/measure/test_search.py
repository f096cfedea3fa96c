"""The peak search on curves given as functions: no load is driven, each level is computed (with
seeded noise where the test says so)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.laws.significance import estimate_noise
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


def noisy(curve: Curve, seed: int, share: float) -> Curve:
    """``curve`` read with a relative Gaussian noise of ``share`` (seeded)."""
    rng = random.Random(seed)
    return lambda n: curve(n) * (1 + rng.gauss(0, share))


def recommended(done: list[tuple[int, float, str]]) -> float:
    noise = estimate_noise([(n, x) for n, x, _ in done])
    chosen = noise.smallest_not_below()
    assert chosen is not None
    return chosen.level


def test_without_noise_it_climbs_by_three_reads_once_again_then_closes_in() -> None:
    done = run(PeakSearch(), kinked)
    levels = [n for n, _, _ in done]
    # the second level is read again: until a level is read twice the noise is unknown
    assert levels[:6] == [1, 3, 3, 9, 27, 12]
    assert done[2][2].startswith("the rise from 1 to 3 is in doubt (the noise is not known yet")
    assert done[5][2] == (
        "the peak is between 3 and 27; the USL through the 4 level means peaks near 11.9"
    )
    assert set(levels[6:]) <= {9, 10, 11, 13} and recommended(done) == 12
    assert PeakSearch().why_stopped([(n, x) for n, x, _ in done]).endswith("are measured")


def test_one_noisy_reading_above_the_best_is_read_again_not_climbed_past() -> None:
    # 27 reads 172/s once (its true rate is 150/s), just above 166/s at 9: the old search climbed
    # to 81 on it; a rise this small against the noise measured at 3 is read again first.
    true = {9: 166.0, 27: 150.0, 1: 20.0, 3: 57.5}
    measured = [(1.0, 20.0), (3.0, 57.0), (3.0, 58.0), (9.0, 166.0), (27.0, 172.0)]
    step = PeakSearch().next_level(measured)
    assert step is not None and step[0] in (9, 27)
    assert "is in doubt (not significant yet" in step[1]
    wobble = iter([1.01, 0.99] * 10)
    while step is not None and step[0] in true:  # read again at the true rates, ±1 %
        measured.append((step[0], true[step[0]] * next(wobble)))
        step = PeakSearch().next_level(measured)
    assert step is not None and 9 < step[0] < 27  # the drop is real: inside the bracket
    assert step[1].startswith("the peak is between 3 and 27")
    assert [n for n, _ in measured].count(27) <= PeakSearch().repeats


def test_sub_window_rates_give_the_noise_without_a_repeat() -> None:
    # the runner's sub-window rates of each reading (±1 %): the rise from 1 to 3 is significant
    # at once, so the search climbs instead of reading 3 again
    measured = [(1.0, 20.0), (3.0, 57.0)]
    windows = {0: (19.8, 20.2, 19.9, 20.1), 1: (56.5, 57.5, 56.8, 57.2)}
    assert PeakSearch().next_level(measured, windows) == (9, "throughput still rising: ×3")
    assert PeakSearch().next_level(measured) == (
        3,
        "the rise from 1 to 3 is in doubt (the noise is not known yet; 1 and 1 readings): "
        "read again",
    )


def test_a_drop_within_the_noise_is_read_again_before_the_peak_is_declared() -> None:
    measured = [(1.0, 100.0), (1.0, 104.0), (3.0, 290.0), (9.0, 280.0)]
    step = PeakSearch().next_level(measured)
    assert step is not None and step[0] in (3, 9) and "the drop from 3 to 9 is in doubt" in step[1]


@pytest.mark.parametrize("seed", range(8))
def test_noisy_peak_recommended_within_one_level_and_never_climbed_past(seed: int) -> None:
    # 5 % noise per reading on the sharp peak at 12: the recommendation stays within one level
    # of it (11, 12 or 13: 93 to 100 % of the peak) and the search never measures beyond the
    # bracketing 27.
    done = run(PeakSearch(), noisy(kinked, seed, 0.05))
    assert max(n for n, _, _ in done) == 27
    assert abs(recommended(done) - 12) <= 1
    assert len(done) <= PeakSearch().max_levels


def test_a_curve_still_rising_stops_at_the_maximum() -> None:
    search = PeakSearch(max_levels=20, max_concurrency=100)
    done = run(search, lambda n: 100 * n / (1 + 0.05 * (n - 1)))
    assert [n for n, _, _ in done][-2:] == [81, 100]
    assert "no peak below it" in search.why_stopped([(n, x) for n, x, _ in done])


def test_the_level_budget_stops_the_climb() -> None:
    search = PeakSearch(max_levels=3)
    done = run(search, lambda n: n)
    assert [n for n, _, _ in done] == [1, 3, 3]
    assert search.why_stopped([(n, x) for n, x, _ in done]) == (
        "the search stopped at max_levels 3"
    )


def test_a_doubtful_recommendation_is_read_again() -> None:
    # 9 is 5 % under 12 on one reading each (noise known from 3): not significantly below, and
    # a 5 % shortfall would not be significant either: one of the two is read again.
    measured = [(1.0, 20.0), (3.0, 57.0), (3.0, 60.0), (9.0, 207.0), (27.0, 98.0), (12.0, 218.0)]
    step = PeakSearch().next_level(measured)
    assert step is not None and step[0] in (9, 12) and "read again" in step[1]


@pytest.mark.parametrize(
    ("kwargs", "source"),
    [
        ({"max_levels": 1}, "max_levels"),
        ({"max_concurrency": 1}, "max_concurrency"),
        ({"factor": 1.0}, "factor"),
        ({"start": 300}, "start"),
        ({"repeats": 0}, "repeats"),
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
    max_levels=st.integers(2, 20),
)
def test_any_unimodal_curve_levels_within_bounds_repeats_capped_and_the_search_ends(
    peak: float, width: float, noise: list[float], max_levels: int
) -> None:
    search = PeakSearch(max_levels=max_levels, max_concurrency=256)
    measured: list[tuple[float, float]] = []
    while (step := search.next_level(measured)) is not None:
        level = step[0]
        assert 1 <= level <= 256
        assert [n for n, _ in measured].count(level) < search.repeats
        rate = math.exp(-((math.log(level / peak) / width) ** 2)) * noise[len(measured)] + 1e-9
        measured.append((level, rate))
        assert len(measured) <= max_levels
    assert search.why_stopped(measured)
