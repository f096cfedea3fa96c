"""sweep's analysis record: its JSON form obeys the generated schema, loads back and dumps
identically; a corrupted analysis is refused naming the key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from tests.support import check_report

from throughput_expert import sweep
from throughput_expert.advisors.sweep import SweepInputs, advise
from throughput_expert.errors import InputError
from throughput_expert.model import Latency
from throughput_expert.model.analysis.sweep import SweepAnalysis
from throughput_expert.model.record import dump, load
from throughput_expert.model.sweep import Sweep, SweepLevel
from throughput_expert.sources.settings import load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "loadtests" / "fixtures"


def usl(n: float) -> float:
    return 100 * n / (1 + 0.05 * (n - 1) + 0.001 * n * (n - 1))


def _csv(tmp_path: Path, name: str, rows: dict[int, float]) -> Path:
    path = tmp_path / name
    path.write_text("concurrency,throughput\n" + "".join(f"{n},{x}\n" for n, x in rows.items()))
    return path


def _open_loop() -> dict[str, Any]:
    levels = tuple(
        SweepLevel(rate, achieved, Latency(p50_s=p99 / 2, p99_s=p99), 0, 100, 1.0, rate)
        for rate, achieved, p99 in ((100, 100, 0.010), (200, 199, 0.020), (400, 300, 2.0))
    )
    inputs = SweepInputs(Sweep("concurrency", "open", levels, driver="url"), slo_s=0.05)
    return advise(inputs, load_settings()).to_dict()


def _cases(tmp_path: Path) -> dict[str, dict[str, Any]]:
    fit = _csv(tmp_path, "fit.csv", {n: round(usl(n), 3) for n in (1, 2, 4, 8, 16, 32, 64)})
    short = _csv(tmp_path, "short.csv", {1: 20, 3: 57, 9: 163, 12: 218, 27: 111})
    return {
        "usl-fit": sweep(from_files=[fit]).to_dict(),
        "short-peak": sweep(from_files=[short]).to_dict(),
        "k6-closed": sweep(from_files=[FIXTURES / "k6-out.json"]).to_dict(),
        "k6-open": sweep(from_files=[FIXTURES / "k6-handle-summary.json"]).to_dict(),
        "wrk": sweep(from_files=[FIXTURES / "wrk-4.1.0-c4.txt"]).to_dict(),
        "open-slo": _open_loop(),
        "live": sweep(command="true", concurrency=[1, 2], duration=0.3, warmup=0).to_dict(),
    }


def test_every_form_obeys_the_schema_and_round_trips(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    for name, doc in cases.items():
        try:
            check_report(doc)
        except Exception as exc:  # name the case that failed
            raise AssertionError(name) from exc
    a = {name: doc["analysis"] for name, doc in cases.items()}
    # the optional parts, present and absent
    assert a["usl-fit"]["usl"]["available"] is True
    assert a["usl-fit"]["measured_peak"]["level"] == 32
    assert a["usl-fit"]["highest_sustained_rps"] is None and a["usl-fit"]["slo_ms"] is None
    assert a["short-peak"]["usl"]["available"] is False
    assert a["short-peak"]["measured_peak"]["between"] == [9, 27]
    assert a["k6-closed"]["measured_peak"] is None
    assert "usl" not in a["k6-open"] and a["k6-open"]["measured_peak"] is None
    assert a["k6-open"]["highest_sustained_rps"] is None  # nothing was sustained
    assert a["open-slo"]["highest_sustained_rps"] == 200 and a["open-slo"]["slo_ms"] == 50
    assert [lv["sustained"] for lv in a["open-slo"]["levels"]] == [True, True, False]
    assert a["open-slo"]["levels"][0]["latency_ms"] == {"p50": 5, "p99": 10}
    assert "offered_rps" not in a["usl-fit"]["levels"][0]
    assert a["usl-fit"]["levels"][0]["latency_ms"] == {}
    live = a["live"]
    assert live["driver"] == "command" and [lv["level"] for lv in live["levels"]] == [1, 2]
    assert {"p50", "p99", "max"} <= set(live["levels"][0]["latency_ms"])


def test_the_record_holds_si_values(tmp_path: Path) -> None:
    doc = _open_loop()
    r = load(SweepAnalysis, doc["analysis"], source="report")
    assert r.slo == pytest.approx(0.05) and r.highest_sustained == 200
    assert r.levels[2].latency.p99 == pytest.approx(2.0) and r.levels[2].sustained is False
    assert dump(r) == doc["analysis"]


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("levels", 0, "latency_ms", "p99"), "slow", "analysis.levels[0].latency_ms.p99"),
        (("levels", 1, "sustained"), "yes", "analysis.levels[1].sustained"),
        (("slo_ms",), "50ms", "analysis.slo_ms"),
        (("mode",), "half-open", "analysis.mode"),
    ],
)
def test_a_wrong_type_is_refused_naming_the_key(
    path: tuple[str | int, ...], value: Any, where: str
) -> None:
    analysis = copy.deepcopy(_open_loop()["analysis"])
    parent = analysis
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    with pytest.raises(InputError) as caught:
        load(SweepAnalysis, analysis, source="saved.json")
    assert caught.value.field == where
    assert str(caught.value).startswith(f"saved.json: {where}: expected")


def test_an_unknown_key_is_refused_naming_where(tmp_path: Path) -> None:
    short = _csv(tmp_path, "short.csv", {1: 20, 3: 57, 9: 163, 12: 218, 27: 111})
    analysis = copy.deepcopy(sweep(from_files=[short]).to_dict()["analysis"])
    analysis["measured_peak"]["level_ms"] = 12
    with pytest.raises(InputError, match="unknown key 'level_ms'") as caught:
        load(SweepAnalysis, analysis, source="saved.json")
    assert caught.value.field == "analysis.measured_peak"
    analysis = copy.deepcopy(_open_loop()["analysis"])
    analysis["levels"][0]["latency_ms"]["p75"] = 3.0
    with pytest.raises(InputError, match="unknown key 'p75'") as caught:
        load(SweepAnalysis, analysis, source="saved.json")
    assert caught.value.field == "analysis.levels[0].latency_ms"
