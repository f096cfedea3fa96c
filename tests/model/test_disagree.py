"""``model.quantity.disagree``: the one definition of "two measurements disagree", used by the
metrics merge, ``analyze`` (a flag against the metrics) and ``scaling-plan`` (calls per request
against the callers' edges)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert.model.quantity import disagree

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@pytest.mark.parametrize(
    ("a", "b", "tolerance", "expected"),
    [
        (100.0, 112.0, 0.1, True),  # 12 > 11.2, 10 % of the larger
        (100.0, 110.0, 0.1, False),  # 10 ≤ 11 (10 % of the larger, 110)
        (10_000.0, 12_500.0, 0.1, True),
        (2.0, 3.0, 0.5, False),  # 1 ≤ 1.5
        (0.0, 0.0, 0.1, False),  # two zeros agree
        (0.0, 1e-9, 0.1, True),  # a zero and anything else do not
        (-5.0, 5.0, 0.1, True),
        (3.0, 2.0, 0.0, True),  # no tolerance: any difference
    ],
)
def test_relative_to_the_larger_magnitude(
    a: float, b: float, tolerance: float, expected: bool
) -> None:
    assert disagree(a, b, tolerance) is expected


@given(finite, finite, st.floats(min_value=0, max_value=2))
def test_symmetric(a: float, b: float, tolerance: float) -> None:
    assert disagree(a, b, tolerance) == disagree(b, a, tolerance)


@given(finite, st.floats(min_value=0, max_value=2))
def test_a_value_agrees_with_itself(a: float, tolerance: float) -> None:
    assert not disagree(a, a, tolerance)
