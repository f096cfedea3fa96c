"""find-bottleneck with the host's metrics prices a profile's fix on the system model analyze
builds from the same metrics: the CPU's demand sped up by Amdahl's law, the gain the ceiling
after against today's. The expected numbers are computed here from the utilization law."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert import api
from throughput_expert.advisors.bottleneck import FindBottleneckInputs, advise
from throughput_expert.advisors.bottleneck.on_model import host_model, price_speedup
from throughput_expert.laws.amdahl import amdahl_improvement_pct
from throughput_expert.model import InputRef, ServiceMetrics
from throughput_expert.model.profile import Frame, Measures, Profile
from throughput_expert.sources.settings import load_settings

SETTINGS = load_settings()
JSON_HOT = Path(__file__).parents[1] / "fixtures/corpus/python/json_hot.cpu.speedscope.json"
T_CPU, T_DISK = SETTINGS.target("cpu"), SETTINGS.target("disk_io")
SERIALIZING = {
    "main@app.py;handle@app.py;dumps@json/__init__.py;JSONEncoder.iterencode@json/encoder.py": 60,
    "main@app.py;handle@app.py;score@app.py": 30,
    "main@app.py;handle@app.py;match@re/__init__.py": 10,
}


def profile(stacks: dict[str, float], measures: Measures = "cpu", idle: bool = False) -> Profile:
    """``name@file;...`` stacks -> a Profile (python frames for .py files)."""
    frames: dict[Frame, int] = {}
    rows = []
    for path in stacks:
        row = []
        for text in path.split(";"):
            name, _, file = text.partition("@")
            kind = "python" if file.endswith(".py") else "unknown"
            row.append(frames.setdefault(Frame(name, file or None, None, kind), len(frames)))
        rows.append(tuple(row))
    return Profile(
        tuple(frames),
        tuple(rows),
        tuple(stacks.values()),
        tuple(None for _ in stacks),
        "samples",
        measures,
        "collapsed",
        InputRef("p.txt", "profile"),
        idle_included=idle,
    )


def host(cpu: float, disk: float, x: float | None = 1000.0) -> ServiceMetrics:
    return ServiceMetrics(
        service="api", throughput_rps=x, cores=4, utilization={"cpu": cpu, "disk_io": disk}
    )


def run(m: ServiceMetrics | None, stacks: dict[str, float] = SERIALIZING) -> dict[str, Any]:
    return advise(FindBottleneckInputs(profile(stacks), metrics=m), SETTINGS).to_dict()


def rec_for(r: dict[str, Any], words: str) -> dict[str, Any]:
    return next(x for x in r["recommendations"] if words in x["optimization"])


def evidence(r: dict[str, Any], eid: str) -> dict[str, Any]:
    return next(e for e in r["evidence"] if e["id"] == eid)


def test_disk_binding_a_cpu_fix_lifts_nothing_and_the_verdict_agrees_with_analyze() -> None:
    m = host(0.5, 0.68)
    r = api.find_bottleneck([JSON_HOT], metrics=m).to_dict()
    a = api.analyze(m).to_dict()
    assert a["analysis"]["headroom"]["binding_resource"] == "disk_io"
    first = r["recommendations"][0]
    assert "faster codec" in first["optimization"]
    assert first["change"] == "speedup"
    # CPU at 1000·0.7/0.5 = 1400 rps, disk at 1000·0.7/0.68 = 1029 rps: a faster CPU leaves
    # the disk's limit where it is, so the ceiling does not move
    assert first["expected_improvement_pct"] is None
    assert "does not lift the binding limit (disk_io" in first["rationale"]
    e = evidence(r, "model-serialization")
    assert e["inputs"]["binding_before"] == "disk_io"
    assert e["result"]["binding_after"] == "disk_io"
    assert e["inputs"]["ceiling_before_rps"] == pytest.approx(
        a["analysis"]["headroom"]["ceiling_rps"]
    )
    assert e["inputs"]["ceiling_before_rps"] == pytest.approx(1000 * T_DISK / 0.68, rel=1e-5)
    # the verdict names what analyze names, and still says what the profile found
    b = r["analysis"]["bottleneck"]
    assert b["type"] == a["analysis"]["bottleneck"]["type"] == "io_disk"
    assert b["category"] == "serialization"
    assert "not the CPU" in b["reason"] and "serialization" in b["reason"]
    assert "disk_io binds" in r["summary"] and "serialization" in r["summary"]
    assert "First:" not in r["summary"]


def test_cpu_binding_the_gain_is_amdahl_on_the_model() -> None:
    m = host(0.6, 0.2)
    r = run(m)
    first = rec_for(r, "faster codec")
    assert first["change"] == "speedup"
    # p = 0.6 of the CPU time, s = 3; the disk allows 0.6/0.2 = 3x the CPU's ceiling: not reached
    assert first["expected_improvement_pct"] == pytest.approx(amdahl_improvement_pct(0.6, 3))
    e = evidence(r, "model-serialization")
    a = api.analyze(m).to_dict()["analysis"]["headroom"]
    assert a["binding_resource"] == "cpu" == e["inputs"]["binding_before"]
    assert e["inputs"]["ceiling_before_rps"] == pytest.approx(a["ceiling_rps"], rel=1e-5)
    assert e["result"]["ceiling_after_rps"] == pytest.approx(1000 * T_CPU / 0.6 / 0.6, rel=1e-5)
    assert r["analysis"]["bottleneck"]["type"] == "cpu"


def test_the_disk_caps_a_cpu_fix_part_way() -> None:
    r = run(host(0.6, 0.4))
    first = rec_for(r, "faster codec")
    # the CPU's ceiling rises 1.667x, the disk's sits at 0.6/0.4 = 1.5x the CPU's today
    assert first["expected_improvement_pct"] == pytest.approx(50.0)
    assert evidence(r, "model-serialization")["result"]["binding_after"] == "disk_io"
    assert amdahl_improvement_pct(0.6, 3) > 50.0


def test_metrics_without_a_throughput_are_modelled_at_a_unit_rate() -> None:
    with_rate = rec_for(run(host(0.6, 0.4)), "faster codec")
    r = run(host(0.6, 0.4, x=None))
    without = rec_for(r, "faster codec")
    assert without["expected_improvement_pct"] == pytest.approx(
        with_rate["expected_improvement_pct"]
    )
    e = evidence(r, "model-serialization")
    assert e["inputs"]["unit_rate"] is True
    assert "unit rate" in e["claim"]


def test_without_metrics_amdahl_alone_and_said_so() -> None:
    r = run(None)
    first = r["recommendations"][0]
    assert first["expected_improvement_pct"] == pytest.approx(amdahl_improvement_pct(0.6, 3))
    assert "change" not in first
    assert not any(e["id"].startswith("model-") for e in r["evidence"])
    assert any("the model is the CPU alone" in a["why"] for a in r["assumptions"])


def test_a_wait_fix_is_capped_by_the_models_ceiling() -> None:
    stacks = {
        "main@app.py;score@app.py": 60,
        "main@app.py;with_lock@app.py;Lock.acquire@threading.py": 40,
    }
    p = profile(stacks, measures="wall", idle=True)
    # disk at 65 % of 70 %: today's rate can rise 70/65 - 1 = 7.7 % before the disk binds
    m = host(0.6, 0.65, x=100.0)
    r = advise(FindBottleneckInputs(p, metrics=m), SETTINGS).to_dict()
    lock = rec_for(r, "critical section")
    assert lock["expected_improvement_pct"] == pytest.approx((0.70 / 0.65 - 1) * 100)
    assert lock["expected_improvement_pct"] < amdahl_improvement_pct(0.4, 4)
    assert "change" not in lock


@settings(max_examples=200, deadline=None)
@given(
    cpu=st.floats(0.5, 0.99),
    disk=st.floats(0.01, 0.99),
    serial=st.integers(1, 100),
    other=st.integers(0, 100),
    s=st.floats(1.01, 20.0),
    x=st.one_of(st.none(), st.floats(1.0, 1e6)),
)
def test_property_the_gain_is_the_models_ceiling_ratio(
    cpu: float, disk: float, serial: int, other: int, s: float, x: float | None
) -> None:
    m = host(cpu, disk, x)
    f = serial / (serial + other)
    built = host_model(m, SETTINGS)
    assert built is not None
    price = price_speedup(built.model, f, s)
    rate = x or 1.0
    before = min(rate * T_CPU / cpu, rate * T_DISK / disk)
    after = min(rate * T_CPU / cpu / ((1 - f) + f / s), rate * T_DISK / disk)
    gain = price.gain_pct
    expected = (after / before - 1) * 100
    if gain is None:
        assert expected <= 1e-6
    else:
        assert gain == pytest.approx(expected, rel=1e-6, abs=1e-9)
        assert 0 < gain <= amdahl_improvement_pct(f, s) * (1 + 1e-9)
    # and the advisor reports that answer
    stacks = {
        "main@app.py;handle@app.py;dumps@json/__init__.py": serial,
        "main@app.py;handle@app.py;score@app.py": other,
    }
    if f >= SETTINGS.threshold("profile_min_share"):
        first = rec_for(run(m, stacks), "faster codec")
        want = price_speedup(built.model, f, 3.0).gain_pct
        got = first["expected_improvement_pct"]
        assert (got is None) == (want is None)
        if got is not None and want is not None:
            assert got == pytest.approx(want, rel=1e-4)
            assert got <= amdahl_improvement_pct(f, 3.0) * (1 + 1e-4)


def test_a_saturated_disk_leads_the_summary_not_a_cpu_fix() -> None:
    r = run(host(0.6, 0.9))
    assert r["analysis"]["bottleneck"]["type"] == "io_disk"
    assert rec_for(r, "faster codec")["expected_improvement_pct"] is None
    assert "First:" not in r["summary"]
    assert "lifts no ceiling while disk_io binds" in r["summary"]


def test_workers_that_bind_hold_each_item_for_less_cpu_time() -> None:
    # 2 workers at 1000 rps hold an item 2 ms (Little's law); the CPU (1 core, 60 %) spends
    # 0.6 ms of it; serialization is 60 % of that, 3x faster: 0.24 ms saved per item
    m = ServiceMetrics(throughput_rps=1000.0, cores=1, workers=2, utilization={"cpu": 0.6})
    built = host_model(m, SETTINGS)
    assert built is not None
    assert price_speedup(built.model, 0.6, 3.0).binding_before == "workers"
    first = rec_for(run(m), "faster codec")
    assert first["expected_improvement_pct"] == pytest.approx((2.0 / 1.76 - 1) * 100, rel=1e-4)


def test_text_says_which_resource_binds_and_what_the_profile_found(tmp_path: Path) -> None:
    """The bottleneck line does not read as if the disk were at the code site: the site and
    category are the profile's top work, beside the resource that binds."""
    from tests.support import run_tpx

    root = Path(__file__).resolve().parents[2]
    metrics = tmp_path / "m.json"
    metrics.write_text(
        '{"service": "api", "throughput_rps": 1000, "cores": 4,'
        ' "utilization": {"cpu": 0.5, "disk_io": 0.68}}'
    )
    profile = root / "tests/fixtures/corpus/python/json_hot.cpu.speedscope.json"
    out = run_tpx(
        "find-bottleneck",
        "--profile",
        str(profile),
        "--metrics",
        str(metrics),
        "--format",
        "text",
        "--width",
        "120",
    )
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if "the profile's top work:" in x)
    assert line.strip().startswith("disk I/O binds; the profile's top work: serialization at")


def test_one_helper_prices_a_change_for_find_bottleneck_and_the_task_worker() -> None:
    """price_change (the task worker's) and price_speedup (find-bottleneck's) are price_on on
    the model analyze builds; checked against the utilization law by hand: CPU 60 % of 4 cores
    at 1000 rps (ceiling 1000·0.7/0.6), disk 30 % (1000·0.7/0.3)."""
    from throughput_expert.advisors.system.price import model_of, price_change, price_on
    from throughput_expert.model.system import Change

    m = host(0.6, 0.3)
    model = model_of(m, SETTINGS)
    assert model is not None
    two = price_change(m, "instances", 2, None, SETTINGS)
    assert two == price_on(model, Change("instances", 2))
    assert two is not None and two.ceiling_today == pytest.approx(1000 * T_CPU / 0.6)
    # two instances double the CPU; the disk (each instance's own here) doubles too
    assert two.ceiling_after == pytest.approx(2000 * T_CPU / 0.6)
    fast = price_speedup(model, 0.5, 2.0)
    same = price_on(model, Change("speedup", 2.0, station="cpu", share=0.5))
    assert (fast.ceiling_before, fast.ceiling_after) == (same.ceiling_today, same.ceiling_after)
    # Amdahl: half the CPU time twice as fast, 1.333x the CPU's ceiling, under the disk's
    assert fast.ceiling_after == pytest.approx(1000 * T_CPU / 0.6 / 0.75)
