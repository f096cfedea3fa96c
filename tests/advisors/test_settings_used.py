"""Advisors read their thresholds from the settings, so a user's ``--defaults`` changes them:
the tolerance of a disagreement, the memory target, the seed's I/O multiplier."""

from __future__ import annotations

import json
from pathlib import Path

from throughput_expert import analyze, optimize_concurrency, scaling_plan

ARCH = """
system: fan
entry_rate: 100
components:
  - name: web
    kind: service
    utilization: {cpu: "50%"}
    calls: {db: 2}
  - name: db
    kind: database
    calls_per_request: 2.3
    utilization: {cpu: "40%"}
"""


def _defaults(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "defaults.yaml"
    path.write_text(text)
    return path


def test_the_conflict_tolerance_decides_a_disagreement(tmp_path: Path) -> None:
    arch = tmp_path / "arch.yaml"
    arch.write_text(ARCH)  # 2.3 given against 2 from the edges: 13 % apart
    found = scaling_plan(arch, target_rps=200).to_dict()["analysis"]["findings"]
    assert [f["what"] for f in found] == [
        "db: calls_per_request disagrees with the calls of its callers"
    ]
    loose = _defaults(tmp_path, "thresholds: {conflict_tolerance: 0.2}\n")
    assert (
        scaling_plan(arch, target_rps=200, defaults=loose).to_dict()["analysis"]["findings"] == []
    )


def test_the_flag_and_the_metrics_disagree_by_the_tolerance(tmp_path: Path) -> None:
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps({"throughput_rps": 1000, "utilization": {"cpu": "50%"}}))

    def findings(**kw: object) -> list[str]:
        doc = analyze([metrics], current_rps=1150, **kw).to_dict()  # type: ignore[arg-type]
        return [f["what"] for f in doc["analysis"]["findings"]]

    assert findings() == ["current_rps and the metrics disagree by more than 10 %"]
    loose = _defaults(tmp_path, "thresholds: {conflict_tolerance: 0.2}\n")
    assert findings(defaults=loose) == []


def test_memory_pressure_uses_the_memory_target(tmp_path: Path) -> None:
    metrics = tmp_path / "m.json"
    metrics.write_text(
        json.dumps(
            {
                "throughput_rps": 100,
                "utilization": {"cpu": "20%"},
                "saturation": {"major_faults_per_s": 100},
            }
        )
    )
    high = _defaults(tmp_path, "saturation_targets: {memory: 0.9}\n")
    doc = analyze([metrics], defaults=high).to_dict()
    bottleneck = next(e for e in doc["evidence"] if e["id"] == "bottleneck")
    assert bottleneck["result"]["target"] == 0.9


def test_the_seed_io_multiplier_is_the_settings(tmp_path: Path) -> None:
    six = _defaults(tmp_path, "thread_pools: {io_multiplier_when_unknown: 6}\n")
    doc = optimize_concurrency("io", 10, cpu_cores=4, defaults=six).to_dict()
    (pool,) = doc["analysis"]["pools"]
    assert (pool["threads"], pool["formula"]) == (24, "seed: cores × 6 (wait/compute unknown)")
