"""analyze on small systems whose answers are computed by hand here, not by the code under test."""

from __future__ import annotations

import itertools
import math

import pytest

from throughput_expert.advisors.analyze import AnalyzeInputs, advise
from throughput_expert.laws.queueing import mmc
from throughput_expert.model import Latency, Saturation, ServiceMetrics
from throughput_expert.model.system import Sink
from throughput_expert.sources.settings import load_settings

SETTINGS = load_settings()


def run(m: ServiceMetrics, **kw: object) -> dict:  # type: ignore[type-arg]
    return advise(AnalyzeInputs(metrics=m, **kw), SETTINGS).to_dict()  # type: ignore[arg-type]


SEED = ServiceMetrics(
    service="order-consumer",
    throughput_rps=10_000.0,
    target_rps=50_000.0,
    workers=1,
    system_type="message-processing",
    utilization={"cpu": 0.45, "memory": 0.60, "disk_io": 0.80},
)


def test_seed_verdict_is_disk_and_ceiling_is_disk_rate_at_its_target() -> None:
    r = run(SEED)
    assert r["analysis"]["bottleneck"]["type"] == "io_disk"
    head = r["analysis"]["headroom"]
    # disk: 10,000 x 0.70 / 0.80 = 8,750 rps; cpu: 10,000 x 0.70 / 0.45 = 15,555.6 rps
    assert head["ceiling_rps"] == pytest.approx(8750.0)
    assert head["binding_resource"] == "disk_io"
    assert head["resources"]["cpu"]["max_rps_at_target"] == pytest.approx(15555.6, rel=1e-5)
    assert head["resources"]["disk_io"]["headroom_pct"] == pytest.approx(-12.5)
    # at 50,000: disk at 0.80 x 5 = 400 %, so its demand must fall 4.0 / 0.7 = 5.714x
    at = head["resources"]["disk_io"]["at_target"]
    assert at["utilization_pct"] == pytest.approx(400.0)
    assert at["demand_reduction_factor"] == pytest.approx(4.0 / 0.7, rel=1e-5)
    assert head["resources"]["memory"]["max_rps_at_target"] is None
    assert "5.71× less disk I/O" in r["summary"]


def test_seed_single_consumer_time_per_item_and_parallelism_by_littles_law() -> None:
    r = run(SEED)
    current = r["analysis"]["current_throughput"]
    assert current["avg_processing_time_ms"] == pytest.approx(0.1)  # 1 worker / 10,000 per s
    whats = [a["what"] for a in r["assumptions"]]
    assert "time per item" in whats
    assert "memory does not grow with throughput" in whats


def test_seed_with_its_postgresql_sink_plans_batching_then_consumers() -> None:
    """The disk is the sink's (shared): batching its commits first, then instances for the CPU;
    each recommendation's gain is the solver's ceiling on the model with the step applied."""
    r = run(SEED, sink=Sink("PostgreSQL", "database"))
    recs = r["recommendations"]
    # today the one worker, busy at most 70 %, binds: 0.7 / 100 µs = 7K. Batch 23: the worker's
    # 10 µs + 90 µs / 23 = 13.9 µs per item fits 50K at 70 % busy; the CPU binds at 15.6K
    first = recs[0]["optimization"]
    assert first.startswith("Batch writes") and "batch 23" in first
    assert recs[0]["expected_improvement_pct"] == pytest.approx(
        (0.7 / 45e-6 / 7000 - 1) * 100, rel=1e-5
    )
    assert recs[0]["evidence_ids"] == ["plan-step-1"]
    # 4 instances: CPU 4 x 15.6K = 62.2K; the shared disk (8 + 72/23 µs per item) at 55.7 %
    assert "4 instances" in recs[1]["optimization"]
    four = (4 * 0.7 / 45e-6 / 7000 - 1) * 100
    assert recs[1]["expected_improvement_pct"] == pytest.approx(four, rel=1e-5)
    plan = r["implementation_plan"]
    assert plan["reaches_target"]
    assert [s["change"] for s in plan["steps"]] == ["batch", "instances"]
    disk = 50_000 * (8e-6 + 72e-6 / 23) * 100
    used = plan["steps"][-1]["utilization_pct"]
    # the 4 workers, each 10 us + 90 us / 23 per item: at 50K, 50,000 x 13.9 us / 4 busy
    workers = 50_000 * (10e-6 + 90e-6 / 23) / 4 * 100
    assert used == pytest.approx({"cpu": 56.25, "disk_io": disk, "workers": workers}, rel=1e-5)
    # at 100 %: 4 instances' CPU, 4 / 45 us = 88.9K
    assert plan["steps"][-1]["capacity_rps"] == pytest.approx(4 / 45e-6, rel=1e-5)
    assert r["summary"].split("First: ")[1].startswith("batch writes")
    # what the shared database's disk can take: 70 % / (8 + 72/23 µs per item) = 62.9K
    takes = 0.7 / (8e-6 + 72e-6 / 23)
    assert f"the shared disk_io {disk:.3g} % (it takes up to {takes / 1e3:.3g}K rps" in r["summary"]
    # no other recommendation makes a planned change again, and none projects less than today
    assert not any("Micro-batch" in x["optimization"] for x in recs)
    assert all((x["expected_improvement_pct"] or 1) > 0 for x in recs)


def test_the_seed_report_says_what_its_plan_would_be_under_the_other_reading() -> None:
    """The disk's scope is a reading: the report takes the sink's (shared) and shows the plan if
    it is each consumer's own: disk 8.75K and the worker 7K per instance, 8 instances carry 56K
    (the plan without a sink, below), where batching the sink's commits would cut nothing."""
    r = run(SEED, sink=Sink("PostgreSQL", "database"))
    other = {a["what"]: a for a in r["assumptions"]}["if the disk is each instance's own instead"]
    alone = run(SEED)["implementation_plan"]["steps"]
    assert other["value"] == ", then ".join(s["what"] for s in alone) == "8 instances"
    assert "reaches 50K rps" in other["why"] and "PostgreSQL" in other["why"]
    assert [s["what"] for s in r["implementation_plan"]["steps"]] != ["8 instances"]
    # no sink: no second reading to show
    assert not any(a["what"].startswith("if the disk") for a in run(SEED)["assumptions"])


def test_cpu_past_its_target_with_no_profile_and_no_target_leads_with_a_priced_change() -> None:
    # issue 14: analyze at 85 % CPU with no profile led with "swap a hot library" priced +100 %
    # from an illustrative halving. 1K rps at 85 %: the CPU's 70 % carries 824; with no target
    # the plan is for today's rate: 2 instances (1,647 at the target), the CPU at 42.5 %
    m = ServiceMetrics(service="api", throughput_rps=1000.0, utilization={"cpu": 0.85})
    r = run(m)
    plan = r["implementation_plan"]
    assert plan["target_rps"] == pytest.approx(1000)
    assert [(s["change"], s["value"]) for s in plan["steps"]] == [("instances", 2)]
    assert plan["steps"][0]["utilization_pct"]["cpu"] == pytest.approx(42.5)
    first = r["recommendations"][0]
    assert first["evidence_ids"] == ["plan-step-1"]
    assert first["expected_improvement_pct"] == pytest.approx(100.0)
    assert "(today's rate)" in r["summary"] and "First: scale horizontally" in r["summary"]
    library = next(x for x in r["recommendations"] if "hot library" in x["optimization"])
    assert library["expected_improvement_pct"] is None
    # no cores in the metrics: the CPU is one server of unknown size, so a bigger instance is
    # a multiple of today's (not "2 cpu", fewer than a host of 8 cores has)
    bigger = next(x for x in r["recommendations"] if x.get("change") == "servers")
    assert "(2× the cpu per instance)" in bigger["rationale"]
    eight = run(m.with_(cores=8.0))
    bigger = next(x for x in eight["recommendations"] if x.get("change") == "servers")
    assert "(10 cpu per instance)" in bigger["rationale"]  # 8 x 1,000 / 824 = 9.7 -> 10
    # within its target today: no plan, nothing priced without a target
    calm = run(m.with_(utilization={"cpu": 0.5}))
    assert "steps" not in calm["implementation_plan"]
    assert all(x["expected_improvement_pct"] is None for x in calm["recommendations"])


def test_seed_without_a_sink_reads_the_disk_as_each_instances_own() -> None:
    r = run(SEED)
    plan = r["implementation_plan"]
    # the worker binds first (7K at 70 % busy); 8 instances: 8 x 7K = 56K, disk 8 x 8.75K
    assert [(s["change"], s["value"]) for s in plan["steps"]] == [("instances", 8)]
    assert plan["steps"][0]["ceiling_rps"] == pytest.approx(56000)
    assert r["recommendations"][0]["expected_improvement_pct"] == pytest.approx(700.0)


def test_web_api_with_latency_uses_littles_law_and_erlang_c() -> None:
    m = ServiceMetrics(
        throughput_rps=2000.0,
        cores=8,
        latency=Latency(mean_s=0.020),
        utilization={"cpu": 0.80, "network": 0.10},
    )
    r = run(m, system_type="web-api")
    a = r["analysis"]
    assert a["current_throughput"]["concurrency"] == pytest.approx(40.0)  # 2,000 x 0.020
    cpu = a["headroom"]["resources"]["cpu"]
    assert cpu["service_demand_ms"] == pytest.approx(3.2)  # 0.80 x 8 / 2,000 s
    assert cpu["max_rps_at_target"] == pytest.approx(1750.0)  # 2,000 x 0.7 / 0.8
    assert a["bottleneck"]["type"] == "cpu"
    # time at resources: CPU as M/M/8 with S = 3.2 ms, network as M/M/1 with S = 0.05 ms
    at_resources = mmc(2000, 0.0032, 8).mean_response_s + mmc(2000, 0.00005, 1).mean_response_s
    assert a["latency"]["unexplained_ms"] == pytest.approx((0.020 - at_resources) * 1e3, rel=1e-4)
    assert a["rating"]["measured"] == pytest.approx(250.0)  # 2,000 rps / 8 cores
    assert a["rating"]["rating"] == "below good"
    points = r["series"]["latency_vs_throughput"]["points"]
    assert len(points) == 40
    assert all(b[1] >= a_[1] for a_, b in itertools.pairwise(points))


def test_idle_host_with_slow_responses_points_downstream() -> None:
    m = ServiceMetrics(
        throughput_rps=100.0,
        cores=4,
        latency=Latency(mean_s=0.200),
        utilization={"cpu": 0.10, "disk_io": 0.05},
    )
    a = run(m)["analysis"]
    assert a["bottleneck"]["type"] == "downstream"
    assert a["bottleneck"]["resource"] is None
    # CPU demand 0.1 x 4 / 100 = 4 ms; nearly all of the 200 ms is elsewhere
    assert a["latency"]["unexplained_share_pct"] > 95


def test_many_context_switches_per_request_point_to_contention() -> None:
    m = ServiceMetrics(
        throughput_rps=100.0,
        cores=4,
        latency=Latency(mean_s=0.200),
        utilization={"cpu": 0.10},
        saturation=Saturation(context_switches_per_s=5000.0),  # 50 per request
    )
    assert run(m)["analysis"]["bottleneck"]["type"] == "contention"


def test_swapping_makes_memory_the_verdict_under_a_moderate_cpu() -> None:
    m = ServiceMetrics(
        throughput_rps=500.0,
        cores=2,
        utilization={"cpu": 0.40, "memory": 0.95},
        saturation=Saturation(swap_pages_per_s=120.0),
    )
    b = run(m)["analysis"]["bottleneck"]
    assert b["type"] == "memory"
    assert b["signals"][0]["signal"] == "swap_pages_per_s"


def test_run_queue_backs_a_cpu_verdict() -> None:
    m = ServiceMetrics(
        throughput_rps=500.0,
        cores=2,
        utilization={"cpu": 0.62, "disk_io": 0.30},
        saturation=Saturation(run_queue_per_core=2.5),
    )
    r = run(m)
    assert r["analysis"]["bottleneck"]["type"] == "cpu"
    assert r["analysis"]["bottleneck"]["saturated"] is True
    assert any("affinity" in x["optimization"] for x in r["recommendations"])


def test_contradicting_rates_are_a_finding_and_the_measured_one_is_used() -> None:
    r = run(SEED, current_rps=12_000.0)
    finding = r["analysis"]["findings"][0]
    assert finding["values"] == {"metrics_rps": 10000.0, "current_rps_flag": 12000.0}
    assert r["analysis"]["current_throughput"]["rps"] == 10000.0


def test_flag_rate_is_used_when_the_metrics_have_none() -> None:
    m = ServiceMetrics(utilization={"cpu": 0.5}, cores=1)
    r = run(m, current_rps=1000.0)
    assert r["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(1400.0)  # 1,000 x 0.7/0.5
    assert any(a["what"] == "utilization was measured at current_rps" for a in r["assumptions"])


def test_without_utilization_there_is_no_verdict_and_it_says_so() -> None:
    r = run(ServiceMetrics(throughput_rps=10.0))
    assert r["analysis"]["bottleneck"]["type"] is None
    assert r["summary"].startswith("Not enough data")
    assert r["analysis"]["latency"]["available"] is False


def test_memory_scales_only_when_the_data_says_so() -> None:
    m = ServiceMetrics(
        throughput_rps=1000.0, utilization={"memory": 0.40, "cpu": 0.2}, memory_grows_with_rate=True
    )
    mem = run(m)["analysis"]["headroom"]["resources"]["memory"]
    assert mem["max_rps_at_target"] == pytest.approx(2000.0)  # 1,000 x 0.8 / 0.4


def test_overridden_targets_change_the_ceiling(tmp_path: object) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "d.yaml"
    path.write_text("saturation_targets: {cpu: '50%'}\n")
    settings = load_settings(path)
    m = ServiceMetrics(throughput_rps=1000.0, utilization={"cpu": 0.25}, cores=4)
    r = advise(AnalyzeInputs(metrics=m), settings).to_dict()
    assert r["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(2000.0)  # 1,000 x 0.5/0.25


def test_every_recommendation_cites_existing_evidence() -> None:
    r = run(SEED)
    ids = {e["id"] for e in r["evidence"]}
    for rec in r["recommendations"]:
        assert set(rec["evidence_ids"]) <= ids
    assert set(r["analysis"]["bottleneck"]["evidence_ids"]) <= ids
    assert all(math.isfinite(p[1]) for s in r["series"].values() for p in s["points"])


def test_a_quiet_memory_gauge_alone_is_not_called_a_bottleneck() -> None:
    r = run(ServiceMetrics(utilization={"memory": 0.03}))
    assert r["analysis"]["bottleneck"]["type"] is None
    assert r["summary"].startswith("No bottleneck at this load")
