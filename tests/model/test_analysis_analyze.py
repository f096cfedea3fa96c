"""analyze's analysis record: its JSON form obeys the generated schema, loads back and dumps
identically; a corrupted analysis is refused naming the key; the text and the page's figures
read the record."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from tests.support import check_report

from throughput_expert import analyze
from throughput_expert.errors import InputError
from throughput_expert.model.analysis.analyze import AnalyzeAnalysis
from throughput_expert.model.record import dump, load
from throughput_expert.render.text_analyze import figures

EXAMPLE = Path(__file__).parents[2] / "src" / "throughput_expert" / "examples"
SEED = EXAMPLE / "message-consumer.json"

METRICS: dict[str, dict[str, Any]] = {
    # measured latency, percentiles, errors, cores: Erlang C and a per-core rating
    "web": {
        "service": "api",
        "throughput_rps": 2000,
        "cores": 8,
        "latency_ms": {"mean": 20, "p99": 80},
        "utilization": {"cpu": "80%", "network": "10%"},
        "errors_rps": 3,
    },
    # concurrency and workers: Little's law, the worker bound, memory that grows with rate
    "pool": {
        "throughput_rps": 1000,
        "concurrency": 12,
        "workers": 16,
        "utilization": {"cpu": "30%", "disk_io": "20%", "memory": "40%"},
        "memory_grows_with_rate": True,
        "target_rps": 1200,
        "system_type": "database-writes",
    },
    # saturation signals back the verdict
    "swap": {
        "throughput_rps": 500,
        "cores": 2,
        "utilization": {"cpu": "40%", "memory": "95%"},
        "saturation": {"swap_pages_per_s": 120},
    },
    # no utilization: no verdict, no latency model, a rating that needs cores
    "bare": {"throughput_rps": 10},
    # no rate at all
    "no-rate": {"utilization": {"cpu": "50%"}, "cores": 1},
}


def _file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(METRICS[name]))
    return path


def _cases(tmp_path: Path) -> dict[str, dict[str, Any]]:
    return {
        "seed": analyze([SEED]).to_dict(),
        "seed-flags": analyze(
            [SEED], current_rps="12K", target_rps="50K", system_type="message-processing"
        ).to_dict(),
        "web": analyze([_file(tmp_path, "web")], system_type="web-api", target_rps=2500).to_dict(),
        "pool": analyze([_file(tmp_path, "pool")]).to_dict(),
        "swap": analyze([_file(tmp_path, "swap")]).to_dict(),
        "bare": analyze([_file(tmp_path, "bare")], system_type="web-api").to_dict(),
        "no-rate": analyze([_file(tmp_path, "no-rate")]).to_dict(),
    }


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return _cases(tmp_path_factory.mktemp("analyze"))


def test_every_form_obeys_the_schema_and_round_trips(cases: dict[str, dict[str, Any]]) -> None:
    for name, doc in cases.items():
        try:
            check_report(doc)
        except Exception as exc:  # name the case that failed
            raise AssertionError(name) from exc


def test_the_optional_parts_present_and_absent(cases: dict[str, dict[str, Any]]) -> None:
    a = {name: doc["analysis"] for name, doc in cases.items()}
    # at_target: only with a target rate, and only for a resource that scales with rate
    seed = a["seed"]["headroom"]["resources"]
    assert seed["disk_io"]["at_target"]["utilization_pct"] == pytest.approx(400.0)
    assert "at_target" not in seed["memory"]
    assert all("at_target" not in r for r in a["swap"]["headroom"]["resources"].values())
    # the worker bound: with workers and a time per item
    # Little at the pool busy target: 0.7 x 16 / 12 ms
    assert a["pool"]["headroom"]["workers"]["max_rps"] == pytest.approx(0.7 * 16 / 0.012, rel=1e-5)
    assert a["web"]["headroom"]["workers"] is None
    # the latency model, or why not (then null figures)
    assert a["web"]["latency"]["available"] is True and "why" not in a["web"]["latency"]
    assert a["web"]["latency"]["current_ms"] == pytest.approx(20.0)
    assert a["web"]["latency"]["at_target_ms"] is None  # 2,500 rps is the saturation point
    assert a["bare"]["latency"]["available"] is False
    assert a["bare"]["latency"]["why"]
    assert a["bare"]["latency"]["current_ms"] is None
    # the rating: none, per core, or unavailable without cores
    assert a["swap"]["rating"] is None
    assert a["web"]["rating"]["measured"] == pytest.approx(250.0)
    assert a["bare"]["rating"]["available"] is False and a["bare"]["rating"]["measured"] is None
    # signals, findings and notes
    assert a["swap"]["bottleneck"]["signals"][0]["signal"] == "swap_pages_per_s"
    assert a["seed-flags"]["findings"][0]["values"]["current_rps_flag"] == 12000.0
    assert a["seed"]["notes"] and not a["web"]["notes"]
    assert a["no-rate"]["current_throughput"]["rps"] is None
    assert a["web"]["current_throughput"]["latency_ms"] == {"mean": 20.0, "p99": 80.0}


def test_the_record_holds_si_values(cases: dict[str, dict[str, Any]]) -> None:
    r = load(AnalyzeAnalysis, cases["web"]["analysis"], source="report")
    assert r.current_throughput.avg_processing_time == pytest.approx(0.020)
    assert r.current_throughput.utilization["cpu"] == pytest.approx(0.80)
    assert r.headroom.resources["cpu"].service_demand == pytest.approx(0.0032)
    assert r.headroom.ceiling == pytest.approx(1750.0)
    assert r.latency.unexplained_share is not None and 0 < r.latency.unexplained_share < 1
    assert dump(r) == cases["web"]["analysis"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            lambda a: a["headroom"].__setitem__("ceiling_rps", "lots"),
            "analysis.headroom.ceiling_rps",
        ),
        (
            lambda a: a["headroom"]["resources"]["cpu"].__setitem__("servers", 1.5),
            "analysis.headroom.resources.cpu.servers",
        ),
        (lambda a: a["latency"].__setitem__("speed", 1), "analysis.latency"),
        (lambda a: a["bottleneck"].__setitem__("type", "gremlins"), "analysis.bottleneck.type"),
        (lambda a: a.pop("current_throughput"), "analysis.current_throughput"),
    ],
)
def test_a_corrupted_analysis_is_refused_naming_the_key(
    cases: dict[str, dict[str, Any]], change: Any, where: str
) -> None:
    analysis = copy.deepcopy(cases["web"]["analysis"])
    change(analysis)
    with pytest.raises(InputError) as caught:
        load(AnalyzeAnalysis, analysis, source="saved.json")
    assert where in str(caught.value)
    assert "saved.json" in str(caught.value)


def test_figures_show_the_verdict_the_rate_the_ceiling_and_the_target(
    cases: dict[str, dict[str, Any]],
) -> None:
    r = load(AnalyzeAnalysis, cases["seed"]["analysis"], source="report")
    assert figures(r) == [
        ("Bottleneck", "Disk I/O", "in order-consumer"),
        ("Throughput now", "10K rps", ""),
        ("Ceiling", "8.75K rps", "at disk I/O's saturation target"),
        ("Target", "50K rps", ""),
    ]
    bare = load(AnalyzeAnalysis, cases["no-rate"]["analysis"], source="report")
    assert figures(bare) == [("Bottleneck", "CPU", "in service")]
