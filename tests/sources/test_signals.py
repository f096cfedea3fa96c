"""Raw series -> signals -> ServiceMetrics, on hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from throughput_expert.errors import InputError
from throughput_expert.model import InputRef
from throughput_expert.sources.series import Series
from throughput_expert.sources.signals import (
    Signals,
    clamp_jitter,
    metrics_from_signals,
    signals_from_series,
)

DT = 10.0  # seconds between the two samples of every series below


def two(name: str, first: float, last: float, **labels: str) -> Series:
    return Series.of(name, labels, [1000.0, 1000.0 + DT], [first, last])


def one(name: str, value: float, **labels: str) -> Series:
    return Series.of(name, labels, [1000.0], [value])


def node_series() -> list[Series]:
    """Two CPUs over 10 s (20 CPU-seconds), memory, load, disks, NICs, kernel counters."""
    cpu = [
        # cpu0: idle +6 s, user +3 s, system +1 s; cpu1: idle +4, iowait +1, user +5.
        two("node_cpu_seconds_total", 100, 106, cpu="0", mode="idle"),
        two("node_cpu_seconds_total", 50, 53, cpu="0", mode="user"),
        two("node_cpu_seconds_total", 10, 11, cpu="0", mode="system"),
        two("node_cpu_seconds_total", 100, 104, cpu="1", mode="idle"),
        two("node_cpu_seconds_total", 5, 6, cpu="1", mode="iowait"),
        two("node_cpu_seconds_total", 50, 55, cpu="1", mode="user"),
    ]
    return [
        *cpu,
        one("node_memory_MemTotal_bytes", 8e9),
        one("node_memory_MemAvailable_bytes", 2e9),
        Series.of("node_load1", {}, [1000.0, 1010.0], [2.0, 4.0]),  # mean 3
        two("node_vmstat_pgmajfault", 0, 50),  # 5 /s
        two("node_vmstat_pswpin", 0, 10),  # 1 /s
        two("node_vmstat_pswpout", 0, 20),  # 2 /s
        two("node_disk_io_time_seconds_total", 0, 10, device="loop0"),  # ignored
        two("node_disk_io_time_seconds_total", 0, 5, device="sda"),  # 0.5 busy
        two("node_disk_io_time_seconds_total", 0, 2, device="nvme0n1"),
        two("node_disk_io_time_weighted_seconds_total", 0, 15, device="sda"),  # queue 1.5
        two("node_network_receive_bytes_total", 0, 1e8, device="eth0"),  # 1e7 B/s
        two("node_network_transmit_bytes_total", 0, 5e7, device="eth0"),  # 5e6 B/s
        two("node_network_receive_bytes_total", 0, 1e12, device="lo"),  # ignored
        one("node_network_speed_bytes", 1.25e8, device="eth0"),  # 1 Gbit/s
        one("node_network_speed_bytes", -125000, device="veth1"),  # virtual: unknown
        two("node_network_receive_drop_total", 0, 30, device="eth0"),  # 3 /s
        two("node_netstat_Tcp_RetransSegs", 7, 27),  # 2 /s
        two("node_context_switches_total", 0, 12000),  # 1200 /s
        two("node_pressure_cpu_waiting_seconds_total", 0, 1.5),  # 0.15
        two("node_pressure_io_waiting_seconds_total", 0, 0.2),  # 0.02
    ]


def test_node_exporter_signals() -> None:
    s = signals_from_series(node_series(), service=None)
    v = s.values
    assert v["cpu_cores"] == 2.0
    # idle + iowait = 6 + 4 + 1 = 11 of 20 CPU-seconds: utilization 1 - 11/20 = 0.45.
    assert v["cpu_utilization"] == pytest.approx(0.45)
    assert s.cpu_by_mode == pytest.approx(
        {"idle": 0.5, "user": 0.4, "system": 0.05, "iowait": 0.05}
    )
    assert v["memory_utilization"] == pytest.approx(0.75)  # 1 - 2/8
    assert v["run_queue_per_core"] == pytest.approx(1.5)  # mean load 3 / 2 cores
    assert v["major_faults_rate"] == pytest.approx(5.0)
    assert v["swap_rate"] == pytest.approx(3.0)
    assert v["disk_busy"] == pytest.approx(0.5)
    assert v["disk_queue"] == pytest.approx(1.5)
    assert v["network_rx_bytes_rate"] == pytest.approx(1e7)
    assert v["network_tx_bytes_rate"] == pytest.approx(5e6)
    assert v["network_utilization"] == pytest.approx(0.08)  # 1e7 / 1.25e8
    assert v["network_drops_rate"] == pytest.approx(3.0)
    assert v["tcp_retransmits_rate"] == pytest.approx(2.0)
    assert v["context_switches_rate"] == pytest.approx(1200.0)
    assert v["psi_cpu"] == pytest.approx(0.15)
    assert v["psi_io"] == pytest.approx(0.02)
    assert "psi_memory" not in v
    assert s.interval_s == DT


def test_metrics_from_node_signals() -> None:
    signals = signals_from_series(node_series(), service=None)
    m = metrics_from_signals(signals, inputs=(InputRef("a.prom", "prometheus-text"),))
    assert m.utilization == pytest.approx(
        {"cpu": 0.45, "memory": 0.75, "disk_io": 0.5, "network": 0.08}
    )
    assert m.cores == 2.0
    sat = m.saturation
    assert (sat.iowait, sat.cpu_steal) == (pytest.approx(0.05), None)
    assert sat.run_queue_per_core == pytest.approx(1.5)
    assert sat.swap_pages_per_s == pytest.approx(3.0)
    assert sat.major_faults_per_s == pytest.approx(5.0)
    assert sat.network_drops_per_s == pytest.approx(3.0)
    assert sat.tcp_retransmits_per_s == pytest.approx(2.0)
    assert sat.context_switches_per_s == pytest.approx(1200.0)
    assert sat.disk_queue == pytest.approx(1.5)
    assert (sat.psi_cpu, sat.psi_io) == (pytest.approx(0.15), pytest.approx(0.02))
    assert m.interval_s == DT
    assert m.throughput_rps is None


def histogram(name: str = "http_request_duration_seconds", **labels: str) -> list[Series]:
    """docs/formats.md §1.2's buckets as increases over 10 s: 10, 18, 20 requests; sum 1.73 s."""
    out = [
        two(f"{name}_bucket", 0, c, le=le, **labels)
        for le, c in (("0.05", 10), ("0.1", 18), ("+Inf", 20))
    ]
    return [*out, two(f"{name}_count", 0, 20, **labels), two(f"{name}_sum", 0, 1.73, **labels)]


def test_histogram_gives_rps_mean_and_percentiles() -> None:
    s = signals_from_series(histogram(), service=None)
    v = s.values
    assert v["service_rps"] == pytest.approx(2.0)  # 20 requests / 10 s
    assert v["service_latency_mean_s"] == pytest.approx(0.0865)  # 1.73 / 20
    assert v["service_latency_p50_s"] == pytest.approx(0.05)
    assert v["service_latency_p90_s"] == pytest.approx(0.1)
    assert v["service_latency_p99_s"] == pytest.approx(0.1)  # in +Inf: last finite bound
    assert s.picked["service_rps"] == "http_request_duration_seconds_count"
    assert s.picked["service_latency"] == "http_request_duration_seconds (histogram)"
    m = metrics_from_signals(s, inputs=())
    assert m.throughput_rps == pytest.approx(2.0)
    assert m.latency.mean_s == pytest.approx(0.0865)
    assert m.latency.p50_s == pytest.approx(0.05)


def test_histogram_buckets_are_summed_over_routes() -> None:
    series = histogram(route="/a") + histogram(route="/b")
    v = signals_from_series(series, service=None).values
    assert v["service_rps"] == pytest.approx(4.0)
    assert v["service_latency_p50_s"] == pytest.approx(0.05)  # the same shape, doubled


def test_summary_gives_mean_and_its_quantiles() -> None:
    series = [
        two("rpc_latency_seconds_count", 0, 100),
        two("rpc_latency_seconds_sum", 0, 5),
        one("rpc_latency_seconds", 0.03, quantile="0.5"),
        one("rpc_latency_seconds", 0.2, quantile="0.99"),
        one("rpc_latency_seconds", 0.15, quantile="0.9"),
    ]
    s = signals_from_series(series, service=None)
    assert s.values["service_rps"] == pytest.approx(10.0)
    assert s.values["service_latency_mean_s"] == pytest.approx(0.05)
    assert s.values["service_latency_p50_s"] == 0.03
    assert s.values["service_latency_p99_s"] == 0.2
    assert s.picked["service_latency"] == "rpc_latency_seconds (summary)"


def test_request_counter_errors_and_in_flight() -> None:
    series = [
        two("shop_requests_total", 0, 90, code="200"),
        two("shop_requests_total", 0, 10, code="503"),
        two("shop_requests_created", 1.7e9, 1.7e9, code="200"),  # prometheus_client: skipped
        one("shop_requests_in_progress", 4.0),
        two("promhttp_metric_handler_requests_total", 0, 1e6, code="200"),  # the exporter's own
        one("promhttp_metric_handler_requests_in_flight", 1.0),
    ]
    s = signals_from_series(series, service=None)
    assert s.values["service_rps"] == pytest.approx(10.0)  # (90 + 10) / 10 s
    assert s.values["service_errors_rps"] == pytest.approx(1.0)  # the 503s
    assert s.values["concurrency"] == 4.0
    assert s.picked == {
        "service_rps": "shop_requests_total",
        "service_errors_rps": "shop_requests_total 5xx",
        "concurrency": "shop_requests_in_progress",
    }


def test_errors_counter_and_zero_errors() -> None:
    with_counter = [two("worker_messages_total", 0, 500), two("worker_errors_total", 0, 5)]
    s = signals_from_series(with_counter, service=None)
    assert s.values["service_rps"] == pytest.approx(50.0)
    assert s.values["service_errors_rps"] == pytest.approx(0.5)
    only_ok = [two("api_requests_total", 0, 100, status="200")]
    assert signals_from_series(only_ok, service=None).values["service_errors_rps"] == 0.0


def test_service_preference_by_label_and_by_name() -> None:
    series = [
        two("http_requests_total", 0, 100, job="billing-api"),
        two("http_requests_total", 0, 1000, job="frontend"),
        two("checkout_processed_total", 0, 30),
        two("zzz_processed_total", 0, 5000),
    ]
    by_label = signals_from_series(series, service="billing_api")
    assert by_label.values["service_rps"] == pytest.approx(10.0)
    by_name = signals_from_series(series, service="Checkout")
    assert by_name.values["service_rps"] == pytest.approx(3.0)
    assert by_name.picked["service_rps"] == "checkout_processed_total"
    anyone = signals_from_series(series, service=None)  # the busiest
    assert anyone.values["service_rps"] == pytest.approx(500.0)


def test_single_samples_give_gauges_and_list_unrated_counters() -> None:
    series = [
        one("node_cpu_seconds_total", 5.0, cpu="0", mode="idle"),
        one("node_memory_MemTotal_bytes", 4e9),
        one("node_memory_MemAvailable_bytes", 3e9),
        one("node_load1", 0.5),
    ]
    s = signals_from_series(series, service=None)
    assert s.values == pytest.approx(
        {"cpu_cores": 1.0, "memory_utilization": 0.25, "run_queue_per_core": 0.5}
    )
    assert s.unrated == ("node_cpu_seconds_total",)
    assert s.interval_s is None
    assert not s.is_empty()
    counters_only = signals_from_series(series[:1], service=None)
    assert counters_only.is_empty()


def test_disk_busy_jitter_is_read_as_one() -> None:
    s = signals_from_series(
        [two("node_disk_io_time_seconds_total", 0, 10.2, device="sda")], service=None
    )
    assert s.values["disk_busy"] == 1.0
    assert any("jitter" in n for n in s.notes)


def test_clamp_jitter() -> None:
    notes: list[str] = []
    assert clamp_jitter("x", 1.03, notes) == 1.0
    assert clamp_jitter("x", -0.01, notes) == 0.0
    assert clamp_jitter("x", 0.5, notes) == 0.5
    assert clamp_jitter("x", 1.5, notes) == 1.5  # too far: left for the range check
    assert len(notes) == 2


@pytest.mark.parametrize(("raw", "expected"), [(1.0000001, 1.0), (-1e-12, 0.0), (0.3, 0.3)])
def test_tiny_float_noise_is_clamped(raw: float, expected: float) -> None:
    m = metrics_from_signals(Signals(values={"cpu_utilization": raw}), inputs=())
    assert m.utilization["cpu"] == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("memory_utilization", 1.2, "fraction"),
        ("disk_busy", -0.01, "fraction"),
        ("cpu_utilization", math.inf, "infinite"),
        ("service_rps", -3.0, "not negative"),
        ("psi_io", 85.0, "fraction"),
    ],
)
def test_impossible_values_are_input_errors(name: str, value: float, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        metrics_from_signals(Signals(values={name: value}), inputs=(InputRef("f.json", "x"),))
    assert info.value.field == name
    assert info.value.source == "f.json"


def test_nan_means_not_measured() -> None:
    signals = Signals(
        values={"disk_busy": math.nan, "service_latency_mean_s": math.nan, "cpu_cores": 4.0},
        cpu_by_mode={"idle": 0.9, "steal": math.nan},
    )
    m = metrics_from_signals(signals, inputs=())
    assert "disk_io" not in m.utilization
    assert m.latency.mean_s is None
    assert m.saturation.cpu_steal is None
    assert m.cpu_by_mode == {"idle": 0.9}
    assert sum("not measured" in n for n in m.notes) == 4  # disk, latency, steal twice
    assert m.cores == 4.0
