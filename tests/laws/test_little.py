"""Little's law, L = λ·W, on hand-computed numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert.errors import InputError, ModelError
from throughput_expert.laws.little import concurrency, response_time_from, throughput_from


def test_concurrency_is_throughput_times_response_time() -> None:
    # 200 req/s × 0.050 s = 10 requests in flight
    assert concurrency(200.0, 0.050) == pytest.approx(10.0)


def test_throughput_from_concurrency_and_response_time() -> None:
    # 10 in flight / 0.050 s = 200 req/s
    assert throughput_from(10.0, 0.050) == pytest.approx(200.0)


def test_response_time_from_concurrency_and_throughput() -> None:
    # 10 in flight / 200 req/s = 0.050 s
    assert response_time_from(10.0, 200.0) == pytest.approx(0.050)


def test_idle_system_has_no_concurrency() -> None:
    assert concurrency(0.0, 0.2) == 0.0
    assert throughput_from(0.0, 0.2) == 0.0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1.0, 0.1), "throughput"),
        ((1.0, -0.1), "response_time"),
        ((float("nan"), 1.0), "throughput"),
    ],
)
def test_negative_or_nan_inputs_are_input_errors(args: tuple[float, float], field: str) -> None:
    with pytest.raises(InputError) as raised:
        concurrency(*args)
    assert raised.value.field == field


def test_dividing_by_zero_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="response_time"):
        throughput_from(5.0, 0.0)
    with pytest.raises(ModelError, match="throughput"):
        response_time_from(5.0, 0.0)


@given(
    st.floats(min_value=1e-6, max_value=1e6),
    st.floats(min_value=1e-6, max_value=1e3),
)
def test_the_three_forms_agree(throughput: float, response_time: float) -> None:
    in_flight = concurrency(throughput, response_time)
    assert throughput_from(in_flight, response_time) == pytest.approx(throughput, rel=1e-12)
    assert response_time_from(in_flight, throughput) == pytest.approx(response_time, rel=1e-12)
