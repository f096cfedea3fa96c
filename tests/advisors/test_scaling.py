"""scaling-plan on small architectures whose plans are computed by hand here."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from throughput_expert import scaling_plan
from throughput_expert.errors import InputError

THREE_TIER = """
system: shop
entry_rate: 1000 rps
components:
  - name: api
    kind: service
    instances: 2
    stateless: true
    utilization: {cpu: "50%", memory: "30%"}
    unit_cost: 0.1
    calls: {q: 1, db: 2}
  - name: q
    kind: queue
    partitions: 4
  - name: workers
    kind: worker
    instances: 2
    consumes: q
    service_time: 10ms
    concurrency: 2
    acceptable_delay: 2s
  - name: db
    kind: database
    instances: 1
    read_share: "75%"
    utilization: {cpu: "40%", disk_io: "50%"}
"""


def plan(tmp_path: Path, text: str, target: float, sweep: str | None = None) -> dict[str, Any]:
    path = tmp_path / "arch.yaml"
    path.write_text(text)
    if sweep is not None:
        (tmp_path / "sweep.csv").write_text(sweep)
    return scaling_plan(path, target_rps=target).to_dict()


def by_name(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in r["analysis"]["components"]}


def test_three_tier_by_hand(tmp_path: Path) -> None:
    r = plan(tmp_path, THREE_TIER, 4000)
    c = by_name(r)
    # api: 500 rps per instance at 50 % cpu -> 500 x 0.7 / 0.5 = 700 per instance;
    # 4,000 / 700 = 5.71 -> 6 instances
    assert c["api"]["capacity_per_instance_rps"] == pytest.approx(700)
    assert c["api"]["instances_needed"] == 6
    # workers: fan-out of q = 1; 2 in flight x 0.7 / 10 ms = 140 per instance -> 4,000/140 -> 29
    assert c["workers"]["fanout"] == 1
    assert c["workers"]["capacity_per_instance_rps"] == pytest.approx(140)
    assert c["workers"]["instances_needed"] == math.ceil(4000 / 140)
    # q: 29 instances x 2 consumers = 58 > 4 partitions
    assert c["q"]["partitions_needed"] == 58 and c["q"]["partitions_enough"] is False
    # db: 2 calls per request: 2,000 rps today on one node; disk binds: 2,000 x 0.7 / 0.5 = 2,800
    # at 8,000 rps: reads 6,000 -> ceil(6,000 / 2,800) = 3 replicas; writes 2,000 -> 1 primary
    assert c["db"]["capacity_per_instance_rps"] == pytest.approx(2800)
    assert (c["db"]["read_replicas_needed"], c["db"]["write_primaries_needed"]) == (3, 1)
    assert c["db"]["instances_needed"] == 4
    assert c["db"]["strategy"] == "data: read replicas"
    # saturation order: workers at 2 x 140 = 280 rps (already past: today 1,000), api at
    # 1,400, db at 2,800 / 2 = 1,400 — ordered by the entry rate
    order = [row["component"] for row in r["analysis"]["saturation_order"]]
    assert order[0] == "workers"
    assert r["analysis"]["totals"]["feasible"] is False  # the queue lacks partitions
    assert c["workers"]["autoscaling"]["style"] == "KEDA"
    assert c["workers"]["autoscaling"]["target"] == 280  # 2 s x 140 per replica
    assert c["api"]["autoscaling"]["formula"].startswith("desired = ceil")
    assert r["analysis"]["totals"]["cost_now"] == pytest.approx(0.2)


def test_usl_coefficients_bend_the_count_and_can_make_it_infeasible(tmp_path: Path) -> None:
    text = """
system: s
entry_rate: 100
components:
  - name: svc
    kind: service
    instances: 1
    utilization: {cpu: "70%"}
    scaling: {sigma: 0.1, kappa: 0.01}
"""
    # one instance carries 100 rps at its target; N* = sqrt(0.9 / 0.01) = 9.49; the USL peak is
    # 100 x 9.49 / (1 + 0.1 x 8.49 + 0.01 x 9.49 x 8.49) = 100 x 9.49 / 2.655 = 357 rps
    c = by_name(plan(tmp_path, text, 300))["svc"]
    need = c["instances_needed"]
    rel = lambda n: n / (1 + 0.1 * (n - 1) + 0.01 * n * (n - 1))  # noqa: E731
    assert 100 * rel(need) >= 300 > 100 * rel(need - 1)
    c = by_name(plan(tmp_path, text, 500))["svc"]
    assert c["feasible"] is False
    assert "adding instances cannot reach" in c["why"]
    assert c["strategy"].startswith("functional")


def test_an_instances_sweep_is_fitted(tmp_path: Path) -> None:
    rows = "\n".join(
        f"{n},{100 * n / (1 + 0.05 * (n - 1) + 0.002 * n * (n - 1)):.3f}"
        for n in (1, 2, 4, 6, 8, 12, 16)
    )
    text = """
system: s
entry_rate: 100
components:
  - name: svc
    kind: service
    instances: 1
    utilization: {cpu: "70%"}
    sweep: sweep.csv
"""
    c = by_name(plan(tmp_path, text, 400, sweep="instances,throughput_rps\n" + rows))["svc"]
    assert c["usl"]["sigma"] == pytest.approx(0.05, rel=0.05)
    assert c["usl"]["kappa"] == pytest.approx(0.002, rel=0.05)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("system: s\nentry_rate: 10\ncomponents:\n  - {name: a, kind: robot}\n", "unknown kind"),
        (
            "system: s\nentry_rate: 10\ncomponents:\n  - {name: a, kind: service, calls: {b: 1}}\n"
            "  - {name: b, kind: service, calls: {a: 1}}\n",
            "a fan-out cycle: a -> b -> a",
        ),
        (
            "system: s\nentry_rate: 10\ncomponents:\n  - {name: a, kind: service, utilization: "
            "{cpu: '120%'}}\n",
            "above 100",
        ),
        ("a: &x [1]\nb: *x\n", "aliases are not allowed"),
        ("system: s\ncomponents:\n  - {name: a, kind: service}\n", "entry rate is required"),
        (
            "system: s\nentry_rate: 10\ncomponents:\n  - {name: a, kind: service, instanses: 2}\n",
            "did you mean 'instances'",
        ),
        ("[unclosed\n", "malformed YAML"),
    ],
)
def test_bad_architectures(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        plan(tmp_path, text, 100)


def test_a_target_below_today_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not above today's entry rate"):
        plan(tmp_path, THREE_TIER, 500)


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="larger than 1 MiB"):
        plan(tmp_path, "# " + "x" * (1 << 20) + "\n", 100)


def test_the_bundled_example_matches_the_schema() -> None:
    import json

    import jsonschema
    import yaml

    root = Path(__file__).resolve().parents[2] / "src" / "throughput_expert"
    schema = json.loads((root / "schemas" / "architecture.schema.json").read_text())
    jsonschema.validate(yaml.safe_load((root / "examples" / "three-tier.yaml").read_text()), schema)


@pytest.mark.service
def test_prometheus_fills_utilization_of_components_with_selectors(
    tmp_path: Path, prometheus_url: str, node_exporter_url: str
) -> None:
    import time

    from throughput_expert.live import PrometheusOptions

    instance = node_exporter_url.removeprefix("http://").removesuffix("/metrics")
    text = f"""
system: live
entry_rate: 100
components:
  - name: host
    kind: service
    prometheus: {{instance: "{instance}"}}
  - name: other
    kind: service
    utilization: {{cpu: "50%"}}
"""
    path = tmp_path / "arch.yaml"
    path.write_text(text)
    options = PrometheusOptions(url=prometheus_url, window="8s")
    deadline = time.monotonic() + 30
    while True:  # a fresh Prometheus needs a few scrapes before rate() answers
        try:
            r = scaling_plan(path, target_rps=400, prometheus=options).to_dict()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
    c = by_name(r)
    assert c["host"]["capacity_source"] == "measured utilization"  # filled from the server
    assert c["host"]["binding"] in ("cpu", "disk_io", "network")
    assert c["other"]["capacity_per_instance_rps"] == pytest.approx(140)  # 100 x 0.7 / 0.5
