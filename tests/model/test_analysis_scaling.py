"""scaling-plan's analysis record: its JSON form obeys the generated schema, loads back and dumps
identically; its text sections and page figures read the loaded record; a corrupted analysis is
refused naming the key."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from tests.support import check_report

from throughput_expert import scaling_plan
from throughput_expert.errors import InputError
from throughput_expert.model.analysis.scaling import ScalingAnalysis
from throughput_expert.model.record import dump, load
from throughput_expert.render import text_scaling

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "throughput_expert" / "examples"

USL = """
system: s
entry_rate: 100
components:
  - name: svc
    kind: service
    instances: 1
    utilization: {cpu: "70%"}
    scaling: {sigma: 0.1, kappa: 0.01}
"""

SWEPT = """
system: s
entry_rate: 100
components:
  - name: svc
    kind: service
    instances: 1
    utilization: {cpu: "70%"}
    sweep: sweep.csv
"""

MIXED = """
system: mixed
entry_rate: 200 rps
components:
  - name: front
    kind: service
    instances: 2
    max_instances: 3
    capacity_per_instance: 150
    stateless: false
    unit_cost: 1
    calls: {store: 2, cache: 1, ext: 1, lost: 1}
  - name: store
    kind: database
    instances: 2
    partitionable: true
    partition_key: user_id
    utilization: {cpu: "30%"}
    unit_cost: 2
  - name: cache
    kind: cache
    read_share: "30%"
    service_time: 1ms
    concurrency: 8
  - name: ext
    kind: external
    capacity_per_instance: 5000
  - name: lost
    kind: service
  - name: q2
    kind: queue
  - name: cons
    kind: worker
    consumes: q2
    calls_per_request: 3
    service_time: 5ms
"""


def _plan(tmp_path: Path, name: str, text: str, target: float) -> dict[str, Any]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return scaling_plan(path, target_rps=target).to_dict()


def _cases(tmp_path: Path) -> dict[str, dict[str, Any]]:
    rows = "\n".join(
        f"{n},{100 * n / (1 + 0.05 * (n - 1) + 0.002 * n * (n - 1)):.3f}"
        for n in (1, 2, 4, 6, 8, 12, 16)
    )
    (tmp_path / "sweep.csv").write_text("instances,throughput_rps\n" + rows + "\n")
    return {
        "three-tier": scaling_plan(EXAMPLES / "three-tier.yaml", target_rps=6000).to_dict(),
        "usl": _plan(tmp_path, "usl", USL, 300),
        "usl-infeasible": _plan(tmp_path, "usl", USL, 500),
        "swept": _plan(tmp_path, "swept", SWEPT, 400),
        "mixed": _plan(tmp_path, "mixed", MIXED, 1000),
    }


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["analysis"]["components"]}


def test_every_form_obeys_the_schema_and_round_trips(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    for name, doc in cases.items():
        try:
            check_report(doc)
        except Exception as exc:  # name the case that failed
            raise AssertionError(name) from exc
    tier = _by_name(cases["three-tier"])
    # a utilization target is a percent; a queue lag target stays a count of messages
    assert tier["api"]["autoscaling"]["target_pct"] == pytest.approx(70)
    assert "target" not in tier["api"]["autoscaling"]
    assert tier["workers"]["autoscaling"]["style"] == "KEDA"
    # the lag one instance works off in the delay: 4 in flight · 0.7 / 8 ms · 5 s
    assert tier["workers"]["autoscaling"]["target"] == 1750
    assert tier["jobs"]["partitions_enough"] is False and tier["jobs"]["partitions"] == 12
    assert "strategy" not in tier["jobs"] and tier["jobs"]["instances_needed"] is None
    assert tier["db"]["read_replicas_needed"] == 3 and tier["db"]["reads_at_target_rps"] == 19200
    assert "read_replicas_needed" not in tier["api"]
    assert tier["api"]["cost_now"] == pytest.approx(0.51) and tier["api"]["usl"] is None
    totals = cases["three-tier"]["analysis"]["totals"]
    assert totals["cost_at_target"] == pytest.approx(5.95)

    svc = _by_name(cases["usl-infeasible"])["svc"]
    assert svc["feasible"] is False and svc["instances_needed"] is None
    assert svc["peak_instances"] == pytest.approx(9.487, rel=1e-3)
    assert "cost_now" not in svc and svc["cost_at_target"] is None
    assert _by_name(cases["swept"])["svc"]["usl"]["sigma"] == pytest.approx(0.05, rel=0.05)

    mixed = _by_name(cases["mixed"])
    # a stateful, unpartitioned service keeps its instances: no count, no autoscaler
    assert mixed["front"]["autoscaling"] is None and mixed["front"]["feasible"] is False
    assert mixed["front"]["strategy"].startswith("vertical")
    assert mixed["cons"]["autoscaling"]["target_rps"] == pytest.approx(140)  # an HPA on the rate
    assert mixed["front"]["cost_at_target"] is None  # no count carries the target
    assert mixed["lost"]["why"].endswith("cannot be planned") and "feasible" not in mixed["lost"]
    assert mixed["q2"]["partitions"] is None and mixed["q2"]["partitions_enough"] is True
    assert mixed["store"]["strategy"] == "data: shard by user_id"
    assert [f["used"] for f in cases["mixed"]["analysis"]["findings"]] == [
        "calls_per_request",
        "none: the component is left out of the plan",
    ]


def _text(record: ScalingAnalysis) -> str:
    buf = io.StringIO()
    out = Console(file=buf, width=200, no_color=True, force_terminal=False)
    for section in text_scaling.SECTIONS:
        section(out, record)
    return buf.getvalue()


def test_sections_and_figures_read_the_loaded_record(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    tier = load(ScalingAnalysis, cases["three-tier"]["analysis"], source="report")
    text = _text(tier)
    assert "Components of orders: 1.5K → 6K rps" in text
    assert "12 partitions, too few: 72 needed" in " ".join(text.split())
    assert "1. workers at 1.75K rps, service time" in text
    assert "cost 1.615 → 5.95" in text
    assert "Findings" not in text
    assert text_scaling.figures(tier) == [
        ("Throughput now", "1.5K rps", ""),
        ("Saturates first", "workers", "at 1.75K rps (service time)"),
        ("Target", "6K rps", ""),
    ]
    mixed = _text(load(ScalingAnalysis, cases["mixed"]["analysis"], source="report"))
    assert "Findings" in mixed and "from edges 1); used calls_per_request" in " ".join(
        mixed.split()
    )
    assert "lost: no utilization" in mixed
    usl = load(ScalingAnalysis, cases["usl-infeasible"]["analysis"], source="report")
    assert "NOT feasible as planned" in _text(usl)


@pytest.mark.parametrize(
    ("corrupt", "where", "words"),
    [
        (
            lambda a: a["components"][0].update(demand_now_rps="fast"),
            "components[0].demand_now_rps",
            "expected a number",
        ),
        (
            lambda a: a["components"][1].update(colour="red"),
            "components[1]",
            "unknown key 'colour'",
        ),
        (lambda a: a["totals"].pop("feasible"), "totals.feasible", "missing"),
        (
            lambda a: a["components"][0]["autoscaling"].update(style="VPA"),
            "components[0].autoscaling.style",
            "expected one of",
        ),
        (
            lambda a: a["saturation_order"][0].update(before_target="yes"),
            "saturation_order[0].before_target",
            "expected true or false",
        ),
    ],
)
def test_a_corrupted_analysis_is_refused_naming_the_key(
    tmp_path: Path, corrupt: Any, where: str, words: str
) -> None:
    doc = scaling_plan(EXAMPLES / "three-tier.yaml", target_rps=6000).to_dict()
    analysis = copy.deepcopy(doc["analysis"])
    assert dump(load(ScalingAnalysis, analysis, source="report")) == doc["analysis"]
    corrupt(analysis)
    with pytest.raises(InputError) as caught:
        load(ScalingAnalysis, analysis, source="report")
    assert f"analysis.{where}" in str(caught.value) and words in str(caught.value)
