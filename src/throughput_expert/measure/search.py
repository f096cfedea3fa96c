"""Where to measure next: a closed-loop sweep that looks for the throughput peak itself
(``tpx sweep --concurrency auto``), and tells a real drop from noise.

A fixed list of levels spends most of them where the curve is dull; a short one can step over a
sharp peak (1, 2, 4, 8, 16 straddles a peak at 12 and reaches 80 % of it). The search reads each
level's mean and the pooled relative noise of one reading (``laws.significance``: levels read
more than once; a level may be read again) and, every time, takes the first of:

1. **doubt**: the comparison that decides the next move — the best level against the level above
   it (is the drop real?) or, at the top, against the level below it (is the rise real?) — is not
   significant (one-sided t-test at 5 %) or the noise is still unknown: read the one of the two
   with fewer readings again (the best on a tie), up to ``repeats`` readings each;
2. **climb** by ``factor`` from the top while the best is the top level and its rise is
   significant (or still in doubt after ``repeats`` readings, with a level above it that did not
   drop significantly), up to ``max_concurrency``;
3. once a level above the best measured significantly less (the peak is *bracketed*):
   a. a level below the one recommended that is not significantly below the best, but where
      the noise would hide a 5 % shortfall, is read again (or the best is), up to ``repeats``
      readings: a doubtful recommendation is settled by measuring, not guessed;
   b. the peak: the USL through the level means (``laws.usl.provisional_peak``: a guide for
      where to look, never reported as a fit), else the geometric middle from the best toward its
      better neighbour, when the whole level nearest it is not measured yet;
   c. the knee: the geometric middle between the recommended level and the highest level below it
      that is significantly below the best, while a whole level is left between them;
4. stop at ``max_levels`` readings (repeats count), or when nothing above is left to do.

So one noisy reading neither climbs past a peak (a rise that is not significant is read again
before the climb) nor declares one (a drop that is not significant is read again), and the
recommendation rests on levels read ``repeats`` times. The climb factor 3 was chosen by
simulation over four families of curves (sharp lock-contention peaks, the same smoothed by
queueing, and USL curves with peaks from 18 to 300): the median best level found with 5 single
readings reached 97–100 % of the true peak with factor 3, 94–99 % with 4, 69–97 % with 2
(doubling climbs too slowly to bracket a peak).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from throughput_expert.errors import InputError, Parameter
from throughput_expert.laws.significance import SHORTFALL, LevelMean, Noise, estimate_noise
from throughput_expert.laws.usl import provisional_peak

__all__ = [
    "DEFAULT_FACTOR",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_LEVELS",
    "DEFAULT_REPEATS",
    "PeakSearch",
]

DEFAULT_FACTOR = 3.0
DEFAULT_MAX_LEVELS = 16
DEFAULT_MAX_CONCURRENCY = 256
DEFAULT_REPEATS = 5

Measured = Sequence[tuple[float, float]]  # (level, throughput per second) in the order measured
Step = tuple[int | None, str]  # the next level (None: stop) and why
Windows = Mapping[int, Sequence[float]] | None  # a reading's index: its sub-window throughputs


@dataclass(frozen=True)
class PeakSearch:
    """The plan of a peak search; ``next_level`` is a pure function of what was measured."""

    max_levels: int = DEFAULT_MAX_LEVELS
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    factor: float = DEFAULT_FACTOR
    start: int = 1
    repeats: int = DEFAULT_REPEATS

    def __post_init__(self) -> None:
        checks = [
            (Parameter("max_levels"), self.max_levels >= 2, "must be a whole number >= 2"),
            (
                Parameter("max_concurrency"),
                self.max_concurrency >= 2,
                "must be a whole number >= 2",
            ),
            ("factor", math.isfinite(self.factor) and self.factor > 1, "must be > 1"),
            ("start", 1 <= self.start < self.max_concurrency, "must be >= 1, below the maximum"),
            ("repeats", self.repeats >= 1, "must be a whole number >= 1"),
        ]
        for source, ok, message in checks:
            if not ok:
                raise InputError(message, source=source)

    def next_level(self, measured: Measured, windows: Windows = None) -> tuple[int, str] | None:
        """The next level to measure (possibly one already measured: a repeat) and why, or None
        when the search is over. ``windows`` maps a reading's index in ``measured`` to its
        sub-window throughputs, when the runner gives them (more evidence of the noise)."""
        level, why = self._step(measured, windows)
        return None if level is None else (level, why)

    def why_stopped(self, measured: Measured, windows: Windows = None) -> str:
        """One line on why ``next_level`` returned None (for the sweep's notes)."""
        return self._step(measured, windows)[1]

    def _step(self, measured: Measured, windows: Windows) -> Step:
        if len(measured) >= self.max_levels:
            return None, f"the search stopped at max_levels {self.max_levels}"
        if not measured:
            return self.start, "the first level"
        noise = estimate_noise(measured, windows)
        levels = noise.levels
        b = levels.index(noise.best())
        if len(levels) == 1:
            return self._climb(noise, levels[0])
        if b == len(levels) - 1:
            return self._at_top(noise, levels[b - 1], levels[b])
        return self._past_best(noise, b)

    # --- the ascent ---------------------------------------------------------------------------

    def _at_top(self, noise: Noise, below: LevelMean, best: LevelMean) -> Step:
        rise = noise.below(below, best)
        if not rise and (again := self._again(best, below)) is not None:
            return again, _doubt("rise", below, best, rise)
        if rise:
            return self._climb(noise, best)
        return self._refine(noise, None)  # flat at the top: the knee may still be found

    def _climb(self, noise: Noise, top: LevelMean) -> Step:
        level = min(
            self.max_concurrency, max(int(top.level) + 1, math.ceil(top.level * self.factor))
        )
        if level <= top.level:
            return None, (
                f"throughput still rose at max_concurrency {self.max_concurrency}: no peak below it"
            )
        return level, f"throughput still rising: ×{self.factor:g}"

    def _past_best(self, noise: Noise, b: int) -> Step:
        levels = noise.levels
        best = levels[b]
        drops = [m for m in levels[b + 1 :] if noise.below(m, best)]
        if drops:
            return self._refine(noise, drops[0])
        up = levels[b + 1]
        if (again := self._again(best, up)) is not None:
            return again, _doubt("drop", up, best, noise.below(up, best))
        top = levels[-1]
        if (
            top.level < self.max_concurrency
        ):  # nothing above dropped for sure: the peak may be higher
            return self._climb(noise, top)
        return self._refine(noise, None)

    def _again(self, first: LevelMean, second: LevelMean) -> int | None:
        """The one of two levels to read again (fewer readings; ``first`` on a tie), or None
        when both have ``repeats`` readings."""
        pick = first if first.readings <= second.readings else second
        return int(pick.level) if pick.readings < self.repeats else None

    # --- inside the bracket -------------------------------------------------------------------

    def _refine(self, noise: Noise, drop: LevelMean | None) -> Step:
        levels = noise.levels
        best = noise.best()
        chosen = noise.smallest_not_below() or best
        for m in levels:  # not significantly below, but the noise hides a 5 % shortfall
            if m.level < chosen.level and noise.below(m, best) is False:
                again = self._again(m, best)
                if again is not None:
                    return again, (
                        f"{m.level:g} is not significantly below the best ({best.level:g}) on "
                        f"{m.readings} and {best.readings} readings, but a shortfall of "
                        f"{SHORTFALL:.0%} would not be either: read again"
                    )
        bracket = _bracket(levels, best, drop)
        peak = self._peak(noise, best)
        if peak is not None:
            return peak[0], f"{bracket}; {peak[1]}"
        knee = self._knee(noise, chosen, best)
        if knee is not None:
            return knee
        if drop is None:
            return None, self._flat_reason(best)
        return None, (
            f"{bracket}: the peak and the smallest level not significantly below it "
            f"({chosen.level:g}) are measured"
        )

    def _peak(self, noise: Noise, best: LevelMean) -> tuple[int, str] | None:
        levels = noise.levels
        b = levels.index(best)
        low = levels[b - 1].level if b > 0 else 1.0
        high = levels[b + 1].level if b + 1 < len(levels) else best.level
        tried = {m.level for m in levels}
        free = [n for n in range(math.ceil(low), math.floor(high) + 1) if n not in tried]
        if not free:
            return None
        guess = provisional_peak([m.level for m in levels], [m.mean for m in levels])
        if guess is not None and low <= guess <= high:
            why = f"the USL through the {len(levels)} level means peaks near {guess:.3g}"
        elif b + 1 < len(levels):
            better = b > 0 and levels[b - 1].mean > levels[b + 1].mean
            neighbour = low if better else high
            guess = math.sqrt(best.level * neighbour)
            why = f"halfway (geometric) from {best.level:g} toward {neighbour:g}"
        else:
            return None
        nearest = min(range(math.ceil(low), math.floor(high) + 1), key=lambda n: _far(n, guess))
        if nearest in tried:
            return None  # the peak is where a level was measured already
        return min(free, key=lambda n: (_far(n, guess), n)), why

    def _knee(self, noise: Noise, chosen: LevelMean, best: LevelMean) -> Step | None:
        """Between the recommended level and the highest level below it significantly below the
        best: where throughput first reaches the best within noise."""
        lower = [m for m in noise.levels if m.level < chosen.level and noise.below(m, best)]
        low = lower[-1].level if lower else None
        if low is None:
            return None
        tried = {m.level for m in noise.levels}
        free = [n for n in range(math.ceil(low), math.floor(chosen.level) + 1) if n not in tried]
        if not free:
            return None
        middle = math.sqrt(low * chosen.level)
        level = min(free, key=lambda n: (_far(n, middle), n))
        return level, (
            f"{low:g} is significantly below the best ({best.level:g}) and {chosen.level:g} is "
            f"not: halfway (geometric) between them"
        )

    def _flat_reason(self, best: LevelMean) -> str:
        return (
            f"no level above the best ({best.level:g}) measured significantly less after "
            f"{self.repeats} readings: throughput is flat there"
        )


def _far(n: float, guess: float) -> float:
    return abs(math.log(n / guess))


def _bracket(levels: Sequence[LevelMean], best: LevelMean, drop: LevelMean | None) -> str:
    b = list(levels).index(best)
    low = levels[b - 1].level if b > 0 else 1.0
    if drop is None:
        return f"the best is {best.level:g}, at the top"
    return f"the peak is between {low:g} and {drop.level:g}"


def _doubt(kind: str, other: LevelMean, best: LevelMean, significant: bool | None) -> str:
    what = "the noise is not known yet" if significant is None else "not significant yet"
    low, high = sorted((other, best), key=lambda m: m.level)
    return (
        f"the {kind} from {low.level:g} to {high.level:g} is in doubt ({what}; "
        f"{low.readings} and {high.readings} readings): read again"
    )
