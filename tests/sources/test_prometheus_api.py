"""Prometheus API responses and the tpx export, on responses recorded from Prometheus 2.42.

The fixtures under fixtures/prometheus/ were recorded from a real Prometheus 2.42 scraping
node_exporter 1.5 and a prometheus_client service every second for about a minute (2 CPUs).
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.sources.prometheus.api import is_api_document, load_api_document

PROM = Path(__file__).parent / "fixtures" / "prometheus"


def fixture(name: str) -> Any:
    return json.loads((PROM / name).read_text())


def load(doc: object, service: str | None = None) -> Any:
    return load_api_document(doc, source="f.json", service=service)


def vector(*points: tuple[dict[str, str], str]) -> dict[str, Any]:
    result = [{"metric": m, "value": [1717000000.5, v]} for m, v in points]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def export(**responses: dict[str, Any]) -> dict[str, Any]:
    queries = {name: {"promql": f"<{name}>", "response": r} for name, r in responses.items()}
    return {
        "format": "tpx-prometheus-export",
        "version": 1,
        "server": "http://127.0.0.1:9090",
        "window": "5m",
        "at": 1717000000.5,
        "queries": queries,
    }


def test_is_api_document() -> None:
    assert is_api_document(fixture("export_node_app.json"))
    assert is_api_document(fixture("api_query_cpu_utilization.json"))
    assert is_api_document(fixture("api_error_bad_data.json"))
    assert not is_api_document({"cpu": 0.5})
    assert not is_api_document({"status": "success"})
    assert not is_api_document([1, 2])


def test_recorded_export() -> None:
    m = load(fixture("export_node_app.json"))
    # The values Prometheus computed, as recorded.
    assert m.utilization["cpu"] == pytest.approx(0.3348275862068967)
    assert m.utilization["memory"] == pytest.approx(0.02461261285203442)
    assert m.utilization["disk_io"] == pytest.approx(0.0033103448275861947)  # max: vda
    assert "network" not in m.utilization  # virtual NIC: no link speed
    assert m.cores == 2.0
    assert m.throughput_rps == pytest.approx(192.79310344827587)
    assert m.latency.mean_s == pytest.approx(0.03558200679663759)
    assert m.latency.p99_s == pytest.approx(0.23950375469336674)
    assert m.errors_rps == pytest.approx(3.862068965517241)
    assert m.saturation.run_queue_per_core == pytest.approx(0.15)
    assert m.saturation.psi_cpu == pytest.approx(0.022410551724137934)
    assert m.saturation.iowait == pytest.approx(m.cpu_by_mode["iowait"])
    assert m.interval_s == 30.0
    assert sum(m.cpu_by_mode.values()) == pytest.approx(1.0, abs=0.01)
    assert "kept, not interpreted: disk_read_await_s" in m.notes
    assert any("network_link_bytes: the query returned no series" in n for n in m.notes)
    assert m.inputs[0].kind == "prometheus-export"
    assert "service_rps from sum(rate(app_request_duration_seconds_count[30s]))" in (
        m.inputs[0].detail
    )


def test_export_aggregates_matrices_and_network_links() -> None:
    eth0 = {"instance": "h:9100", "device": "eth0"}
    eth1 = {"instance": "h:9100", "device": "eth1"}
    disk_matrix = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                # time average: (0.2 + 0.4 + 0.6) / 3 = 0.4; NaN points are skipped
                {"metric": {"device": "sda"}, "values": [[1, "0.2"], [2, "0.4"], [3, "0.6"]]},
                {"metric": {"device": "sdb"}, "values": [[1, "0.9"], [2, "NaN"], [3, "0.7"]]},
            ],
        },
    }
    m = load(
        export(
            disk_busy=disk_matrix,
            network_rx_bytes_rate=vector((eth0, "1e7"), (eth1, "6e7")),
            network_tx_bytes_rate=vector((eth0, "2.5e7"), (eth1, "1e6")),
            network_link_bytes=vector((eth0, "1.25e8"), (eth1, "1.25e9")),
            service_rps=vector(({"route": "/a"}, "30"), ({"route": "/b"}, "12")),
            psi_io=vector(({"instance": "a"}, "0.1"), ({"instance": "b"}, "0.3")),
        )
    )
    assert m.utilization["disk_io"] == pytest.approx(0.8)  # max(0.4, mean(0.9, 0.7))
    # eth0: max(1e7, 2.5e7) / 1.25e8 = 0.2; eth1: 6e7 / 1.25e9 = 0.048. Max: 0.2.
    assert m.utilization["network"] == pytest.approx(0.2)
    assert m.throughput_rps == pytest.approx(42.0)  # summed over routes
    assert m.saturation.psi_io == pytest.approx(0.2)  # mean over instances
    assert m.interval_s == 300.0


def test_export_network_totals_without_device_labels() -> None:
    m = load(
        export(
            network_rx_bytes_rate=vector(
                ({}, "5e7"),
            ),
            network_tx_bytes_rate=vector(
                ({}, "1e7"),
            ),
            network_link_bytes=vector(
                ({"device": "eth0"}, "1.25e8"), ({"device": "eth1"}, "1.25e8")
            ),
        )
    )
    assert m.utilization["network"] == pytest.approx(0.2)  # 5e7 / (2 × 1.25e8)


def test_export_nan_empty_and_jitter() -> None:
    m = load(
        export(
            disk_busy=vector(({"device": "sda"}, "NaN")),
            service_latency_mean_s=vector(({}, "NaN")),
            psi_cpu={"status": "success", "data": {"resultType": "vector", "result": []}},
            cpu_utilization=vector(({}, "-0.0004")),  # rate() extrapolation on an idle host
            cpu_by_mode=vector(({"mode": "idle"}, "1.0004"), ({"mode": "user"}, "0.001")),
        )
    )
    assert "disk_io" not in m.utilization
    assert m.latency.mean_s is None
    assert m.saturation.psi_cpu is None
    assert m.utilization["cpu"] == 0.0
    assert m.cpu_by_mode == {"idle": 1.0, "user": 0.001}
    assert any(n.startswith("disk_busy: NaN") for n in m.notes)
    assert any(n.startswith("psi_cpu: the query returned no series") for n in m.notes)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"version": 2}, "version", "version 1"),
        ({"queries": {}}, "queries", "non-empty"),
        ({"queries": {"cpu_utilization": 3}}, "queries.cpu_utilization", "promql"),
        ({"window": "five minutes"}, "window", "duration"),
        ({"window": "0s"}, "window", "positive"),
        ({"format": "tpx-other"}, "format", "tpx-prometheus-export"),
    ],
)
def test_bad_exports(change: dict[str, Any], field: str, message: str) -> None:
    doc = export(cpu_utilization=vector(({}, "0.5"))) | change
    with pytest.raises(InputError, match=message) as info:
        load(doc)
    assert info.value.field == field


def test_export_value_out_of_range_names_the_signal() -> None:
    with pytest.raises(InputError, match="fraction") as info:
        load(export(memory_utilization=vector(({}, "85"))))
    assert info.value.field == "memory_utilization"


def test_export_with_a_failed_query() -> None:
    doc = export(cpu_utilization=fixture("api_error_bad_data.json"))
    with pytest.raises(InputError, match="bad_data: invalid parameter") as info:
        load(doc)
    assert info.value.field == "queries.cpu_utilization.response.errorType"


def test_export_of_unknown_names_only() -> None:
    with pytest.raises(InputError, match="no query of the export gave a known signal"):
        load(export(something=vector(({}, "1"))))


def test_windows() -> None:
    for window, seconds in (("1h30m", 5400.0), ("90s", 90.0), ("500ms", 0.5), (60, 60.0)):
        doc = export(cpu_utilization=vector(({}, "0.5"))) | {"window": window}
        assert load(doc).interval_s == seconds


def test_bare_range_selector_of_raw_cpu_counters() -> None:
    m = load(fixture("api_query_cpu_range_selector.json"))
    assert m.cores == 2.0
    # Prometheus computed 0.3348 for the same 30 s from the same samples (with extrapolation).
    assert m.utilization["cpu"] == pytest.approx(0.3348, abs=0.01)
    assert m.interval_s == pytest.approx(29.0)
    assert m.inputs[0].kind == "prometheus-api"
    assert m.inputs[0].detail.startswith("matrix of 16 series")


def test_bare_query_range_of_an_instrumented_service() -> None:
    m = load(fixture("api_query_range_app.json"))
    assert m.throughput_rps == pytest.approx(192.8, rel=0.01)
    assert m.latency.mean_s == pytest.approx(0.0356, rel=0.01)
    assert m.latency.p99_s == pytest.approx(0.2395, rel=0.01)
    assert m.errors_rps == pytest.approx(3.86, rel=0.02)
    assert m.concurrency == 3.0
    assert m.interval_s == 30.0
    assert m.service is None


def test_bare_vector_of_gauges() -> None:
    m = load(fixture("api_query_raw_gauges_vector.json"))
    assert m.utilization == {"memory": pytest.approx(0.02461261285203442)}


def test_bare_vector_of_counters_needs_a_range() -> None:
    with pytest.raises(InputError, match="or a range query"):
        load(fixture("api_query_raw_counter_vector.json"))


def test_bare_results_without_names() -> None:
    for name in ("api_query_cpu_utilization.json", "api_query_range_disk_busy.json"):
        with pytest.raises(InputError, match="carry no __name__"):
            load(fixture(name))


def test_error_envelope() -> None:
    with pytest.raises(InputError) as info:
        load(fixture("api_error_bad_data.json"))
    assert info.value.field == "errorType"
    assert "bad_data" in info.value.message
    assert "unclosed left parenthesis" in info.value.message


def test_scalar_and_string_results() -> None:
    with pytest.raises(InputError, match="'scalar' result holds no series"):
        load(fixture("api_scalar.json"))
    doc = {"status": "success", "data": {"resultType": "string", "result": [1, "x"]}}
    with pytest.raises(InputError, match="'string'"):
        load(doc)


@pytest.mark.parametrize(
    "item",
    [
        {"metric": {"__name__": "x"}, "value": [1, 2]},  # a number, not a string
        {"metric": {"__name__": "x"}, "value": [1]},
        {"metric": {"__name__": "x"}, "value": "1"},
        {"metric": {"__name__": "x", "a": 1}, "value": [1, "2"]},
        {"metric": {"__name__": "x"}, "value": ["t", "2"]},
        {"metric": {"__name__": "x"}, "value": [1, "two"]},
        {"value": [1, "2"]},
        "x",
    ],
)
def test_malformed_series(item: object) -> None:
    doc = {"status": "success", "data": {"resultType": "vector", "result": [item]}}
    with pytest.raises(InputError) as info:
        load(doc)
    assert info.value.field.startswith("data.result[0]")


API_KEYS = (
    "status", "data", "resultType", "result", "metric", "value", "values", "__name__",
    "format", "version", "queries", "response", "window", "errorType", "error",
)  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(["NaN", "+Inf", "1", "0.5", "success", "error", "vector", "matrix"])
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(API_KEYS) | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_hostile_documents_raise_only_input_error(doc: object) -> None:
    with contextlib.suppress(InputError):
        load(doc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_recorded_export_raises_only_input_error(data: st.DataObject) -> None:
    doc = copy.deepcopy(fixture("export_node_app.json"))
    name = data.draw(st.sampled_from(sorted(doc["queries"])))
    response = doc["queries"][name]["response"]
    target = data.draw(st.sampled_from(["status", "data", "result", "value"]))
    junk = data.draw(json_values)
    if target in ("status", "data"):
        response[target] = junk
    elif target == "result":
        response["data"]["result"] = junk
    elif response["data"]["result"]:
        response["data"]["result"][0]["value"] = junk
    with contextlib.suppress(InputError):
        load(doc)


def big_range_document(points: int) -> str:
    """A query_range answer of raw CPU counters: 2 CPUs x 8 modes, ``points`` in all."""
    modes = ["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"]
    per = points // 16
    result = [
        {
            "metric": {"__name__": "node_cpu_seconds_total", "cpu": str(c), "mode": m},
            "values": [[1717000000 + i, f"{1000 + i * (0.5 if m == 'idle' else 0.0625):.4f}"]
                       for i in range(per)],
        }
        for c in range(2)
        for m in modes
    ]  # fmt: skip
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}})


def best_of(runs: int, fn: Any) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def test_a_large_query_range_costs_about_a_json_load() -> None:
    text = big_range_document(200_000)
    doc = json.loads(text)
    m = load(doc)
    # Each CPU: idle 0.5 s/s + 7 modes x 0.0625 s/s = 0.9375 s/s; utilization = 1 - 0.5/0.9375
    # ... less iowait and steal: 1 - (0.5 + 2 x 0.0625) / 0.9375 = 1/3.
    assert m.utilization["cpu"] == pytest.approx(1 / 3)
    parse = best_of(3, lambda: json.loads(text))
    analyze = best_of(3, lambda: load(doc))
    assert analyze <= 2.0 * parse, f"analysis {analyze:.3f} s vs json.loads {parse:.3f} s"
