"""A Report rebuilt from its JSON form renders the same: to_dict -> from_dict -> to_dict."""

from __future__ import annotations

from pathlib import Path

import pytest

from throughput_expert import analyze, design_batching, optimize_concurrency, scaling_plan
from throughput_expert.model import Assumption, Evidence, InputRef, Recommendation, Report, Series
from throughput_expert.model.report_json import report_from_dict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src" / "throughput_expert" / "examples"

FULL = Report(
    command="sweep",
    summary="s",
    analysis={"usl": {"sigma": 0.1, "nested": [1, 2.5, None]}, "x_ms": float("nan")},
    series={"a_vs_b": Series("a", "b", ((1.0, 2.0), (3.0, float("inf"))))},
    recommendations=(Recommendation("do", 12.345678, "low", "high", "why", ("e",), "code"),),
    implementation_plan={"immediate": ["do"], "long_term": ("later",)},
    evidence=(Evidence("e", "claim", "law", {"n": (1, 2)}, {"r": 1.23456789}),),
    assumptions=(Assumption("what", 3, "why"),),
    inputs=(InputRef("file.json", "metrics-json", "detail"),),
)


def _reports() -> list[Report]:
    return [
        Report(command="analyze", summary="Nothing measured."),
        FULL,
        analyze([EXAMPLES / "message-consumer.json"]),
        optimize_concurrency("mixed", 10, cpu_cores=8, wait_time="100ms", compute_time="10ms"),
        design_batching("database-insert", current_latency="5ms", target_throughput="10K"),
        scaling_plan(EXAMPLES / "three-tier.yaml", target_rps=6000),
    ]


@pytest.mark.parametrize("index", range(6))
def test_round_trip_is_identical(index: int) -> None:
    doc = _reports()[index].to_dict()
    assert report_from_dict(doc).to_dict() == doc


def test_a_missing_key_is_a_key_error() -> None:
    doc = FULL.to_dict()
    del doc["recommendations"][0]["effort"]
    with pytest.raises(KeyError):
        report_from_dict(doc)
