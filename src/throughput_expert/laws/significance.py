"""Measurement noise of a load sweep: a confidence interval per level, and whether one level's
throughput is significantly below another's.

Readings are (level, throughput) pairs; a level may be read more than once (repeats), and a
reading may carry the throughput of k equal sub-windows of its measured window. The noise model
is relative: one reading at level i is X_i·(1 + ε), ε of mean 0 and the same standard deviation
s (the *relative noise*) at every level — a load generator's noise scales with the rate it counts.
s² is pooled over every level read more than once (the one-way ANOVA within-group mean square
of x/x̄_i),

    s² = Σ_i Σ_j (x_ij − x̄_i)² / x̄_i²  /  Σ_i (k_i − 1),      df = Σ_i (k_i − 1);

a reading's w sub-windows add Σ_w (x_w − x̄)² / x̄² / w with w − 1 degrees of freedom (w
independent sub-windows of one window: the variance of their mean is 1/w that of one of them).
A level's mean x̄_i then has the standard error s·x̄_i/√k_i and the interval
x̄_i ± t(1 − α/2, df)·s·x̄_i/√k_i.

Level a is *significantly below* level b by the one-sided two-sample t-test at ``ALPHA``:
t = (x̄_b − x̄_a) / (s·√(x̄_a²/k_a + x̄_b²/k_b)) > t(1 − α, df), with the pooled s and df (Student
t, pooled variance: Fisher's least significant difference). With no repeat and no sub-window
(df = 0) the noise is unknown, and nothing is significant or not: the answer is None.

The level recommended is the smallest whose mean is not significantly below the best's *and*
where the test had the power to see a shortfall of 5 % (t(1 − α, df)·se of the difference
≤ 5 % of the best): where the noise is too large to tell, "not significantly below" proves
nothing, and the best level itself is recommended.

Source: the two-sample t-test with pooled variance, e.g. NIST/SEMATECH e-Handbook of
Statistical Methods, §7.3.1 and §7.4.7.1 (pooled within-group variance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ALPHA",
    "CONFIDENCE",
    "SHORTFALL",
    "TEST_NAME",
    "LevelMean",
    "Noise",
    "estimate_noise",
    "t_quantile",
]

ALPHA = 0.05
"""The one-sided test's level: a level is significantly below the best at 5 %."""
SHORTFALL = 0.05
"""The shortfall below the best the test must be able to see for a lower level to be chosen:
1 − the 95 % share of the peak the tool aims for (``laws.usl.TARGET_SHARE``)."""
CONFIDENCE = 0.95
"""The two-sided confidence of each level's interval."""
TEST_NAME = (
    "one-sided two-sample t-test at 5 % on the level means, the relative noise of one reading "
    "pooled over every repeated level (and sub-window); a lower level is chosen only where the "
    "test would see a 5 % shortfall"
)


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t distribution with ``df`` degrees of freedom."""
    from scipy.special import stdtrit  # type: ignore[import-untyped]

    return float(stdtrit(df, p))


@dataclass(frozen=True)
class LevelMean:
    """One level's throughput over its readings: the mean, how many readings, and the interval
    (None while the noise is unknown)."""

    level: float
    mean: float
    readings: int
    se: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Noise:
    """The levels' means (in level order) and the pooled relative noise of one reading."""

    levels: tuple[LevelMean, ...]
    relative_sd: float | None
    df: int

    @property
    def known(self) -> bool:
        return self.relative_sd is not None and self.df > 0

    def at(self, level: float) -> LevelMean | None:
        return next((m for m in self.levels if m.level == level), None)

    def best(self) -> LevelMean:
        """The level with the highest mean (the lowest such level on a tie)."""
        return max(self.levels, key=lambda m: (m.mean, -m.level))

    def below(self, a: LevelMean, b: LevelMean, alpha: float = ALPHA) -> bool | None:
        """Whether a's throughput is significantly below b's (one-sided t-test at ``alpha``);
        None when the noise is unknown."""
        if not self.known or a.se is None or b.se is None:
            return None
        if a.mean >= b.mean:
            return False
        se = math.hypot(a.se, b.se)
        if se == 0:
            return True
        return (b.mean - a.mean) / se > t_quantile(1 - alpha, self.df)

    def detectable(self, a: LevelMean, b: LevelMean, alpha: float = ALPHA) -> float | None:
        """The least shortfall of a below b the test would find significant: t(1 − α, df)·se of
        the difference; None when the noise is unknown."""
        if not self.known or a.se is None or b.se is None:
            return None
        return t_quantile(1 - alpha, self.df) * math.hypot(a.se, b.se)

    def smallest_not_below(self, alpha: float = ALPHA) -> LevelMean | None:
        """The smallest level whose throughput is not significantly below the best's, among
        those where the test would have found a shortfall of ``SHORTFALL`` (so that "not
        significantly below" means "within 5 %", not "too noisy to tell"); the best itself when
        no lower level qualifies. None when the noise is unknown."""
        if not self.known:
            return None
        best = self.best()
        return next(
            m
            for m in self.levels
            if m is best
            or (
                self.below(m, best, alpha) is False
                and (least := self.detectable(m, best, alpha)) is not None
                and least <= SHORTFALL * best.mean
            )
        )


def estimate_noise(
    readings: Sequence[tuple[float, float]],
    windows: Mapping[int, Sequence[float]] | None = None,
    confidence: float = CONFIDENCE,
) -> Noise:
    """Each level's mean and interval from ``readings`` (level, throughput) in any order;
    ``windows`` maps a reading's index to its sub-window throughputs (when the runner gave
    them)."""
    by_level: dict[float, list[float]] = {}
    for level, rate in readings:
        by_level.setdefault(level, []).append(rate)
    squares, df = 0.0, 0
    for rates in by_level.values():
        mean = sum(rates) / len(rates)
        if len(rates) > 1 and mean > 0:
            squares += sum((x - mean) ** 2 for x in rates) / mean**2
            df += len(rates) - 1
    for index, parts in (windows or {}).items():
        mean = sum(parts) / len(parts) if parts else 0.0
        if len(parts) > 1 and mean > 0 and 0 <= index < len(readings):
            squares += sum((x - mean) ** 2 for x in parts) / mean**2 / len(parts)
            df += len(parts) - 1
    s = math.sqrt(squares / df) if df else None
    half = t_quantile(1 - (1 - confidence) / 2, df) if df else None
    levels = []
    for level in sorted(by_level):
        rates = by_level[level]
        mean = sum(rates) / len(rates)
        if s is None or half is None:
            levels.append(LevelMean(level, mean, len(rates)))
            continue
        se = s * mean / math.sqrt(len(rates))
        levels.append(LevelMean(level, mean, len(rates), se, mean - half * se, mean + half * se))
    return Noise(tuple(levels), s, df)
