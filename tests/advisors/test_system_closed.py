"""The system model as a closed loop (``advisors/system/project.closed``): Mean Value Analysis on
the model's stations with its think time, checked against MVA solved by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from throughput_expert.advisors.system.project import closed, project
from throughput_expert.model.system import SystemModel, SystemStation


def _model(
    demand: float, servers: int, workers: int | None, think: float, **kw: object
) -> SystemModel:
    station = SystemStation("cpu", "cpu", demand, servers, 0.7, **kw)  # type: ignore[arg-type]
    return SystemModel("loop", (station,), rate=None, workers=workers, think_time=think)


def test_two_requests_one_server_by_hand() -> None:
    # MVA, D = 1 s, Z = 1 s: n = 1: R = 1, X = 1/2, Q = 1/2; n = 2: R = 1·(1 + 1/2) = 1.5,
    # X = 2 / (1.5 + 1) = 0.8, Q = 0.8 · 1.5 = 1.2
    got = closed(_model(1.0, 1, 2, 1.0))
    assert got is not None
    assert got.throughput == pytest.approx(0.8)
    assert got.response_time == pytest.approx(1.5)
    assert got.queue_length[0] == pytest.approx(1.2)


def test_instances_add_requests_and_servers() -> None:
    # two instances of one worker each: 2 requests on 2 servers (one per instance), no queueing:
    # X = N / (D + Z) = 2 / 2
    model = _model(1.0, 1, 1, 1.0)
    two = closed(replace(model, instances=2))
    assert two is not None
    assert two.throughput == pytest.approx(1.0)
    assert two.response_time == pytest.approx(1.0)


def test_mva_stays_under_the_bounds_and_meets_them_far_out() -> None:
    # X(N) ≤ min(N / (D + Z), m / D) always; at a large population it reaches m / D
    model = _model(0.010, 8, 16, 0.010)
    for n in (1, 4, 16, 64):
        got = closed(model, n)
        assert got is not None
        assert got.throughput <= min(n / 0.020, 8 / 0.010) * (1 + 1e-9)
    far = closed(model, 400)
    assert far is not None
    assert far.throughput == pytest.approx(800, rel=1e-3)
    assert project(model).capacity >= far.throughput


def test_no_workers_no_loop() -> None:
    assert closed(_model(1.0, 1, None, 1.0)) is None
