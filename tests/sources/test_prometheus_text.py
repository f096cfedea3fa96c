"""Text exposition and OpenMetrics: parsing, scrapes to ServiceMetrics, live captures."""

from __future__ import annotations

import contextlib
import math
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.sources.prometheus.text import (
    load_scrapes,
    looks_like_exposition,
    parse_exposition,
)

FIXTURES = Path(__file__).parent / "fixtures"
PROM = FIXTURES / "prometheus"

FORMATS_EXAMPLE = """\
# HELP http_requests_total Requests handled.
# TYPE http_requests_total counter
http_requests_total{route="/a",code="200"} 1027
# TYPE inflight gauge
inflight 3
# TYPE req_seconds histogram
req_seconds_bucket{le="0.05"} 10
req_seconds_bucket{le="0.1"} 18
req_seconds_bucket{le="+Inf"} 20
req_seconds_sum 1.73
req_seconds_count 20
# TYPE gc_pause_seconds summary
gc_pause_seconds{quantile="0.5"} 7.3e-05
gc_pause_seconds{quantile="1"} 0.0021
gc_pause_seconds_sum 0.011
gc_pause_seconds_count 96
"""


def test_parses_the_documented_example() -> None:
    scrape = parse_exposition(FORMATS_EXAMPLE, source="x.prom")
    assert not scrape.openmetrics
    assert len(scrape.samples) == 11
    first = scrape.samples[0]
    assert (first.name, first.labels, first.value) == (
        "http_requests_total",
        (("code", "200"), ("route", "/a")),
        1027.0,
    )
    assert scrape.kind_of("http_requests_total") == "counter"
    assert scrape.kind_of("req_seconds_bucket") == "histogram"
    assert scrape.kind_of("gc_pause_seconds_count") == "summary"
    assert scrape.kind_of("inflight") == "gauge"
    assert scrape.kind_of("unknown_metric") == "untyped"
    assert scrape.samples[7].value == 7.3e-05
    assert scrape.time() is None


def test_values_escapes_and_millisecond_timestamps() -> None:
    text = (
        'a{path="C:\\\\tmp",q="say \\"hi\\"",nl="1\\n2"} NaN 1717000000123\n'
        "b +Inf\n"
        "c -Inf\n"
        "d 1.409938432e+09\n"
        "e{} -3\n"
        'f{ x = "1" , } .5\n'
    )
    samples = parse_exposition(text, source="x").samples
    assert dict(samples[0].labels) == {"path": "C:\\tmp", "q": 'say "hi"', "nl": "1\n2"}
    assert math.isnan(samples[0].value)
    assert samples[0].timestamp_s == pytest.approx(1717000000.123)
    assert [s.value for s in samples[1:]] == [math.inf, -math.inf, 1.409938432e09, -3.0, 0.5]
    assert samples[5].labels == (("x", "1"),)


def test_openmetrics_seconds_exemplars_and_counter_family() -> None:
    text = (
        "# TYPE jobs counter\n"
        "# UNIT jobs_seconds seconds\n"
        'jobs_total{kind="a"} 3 1717000000.5 # {trace_id="abc"} 0.67 1717000000.1\n'
        'jobs_created{kind="a"} 1.7e9\n'
        '{"my.metric",l="v"} 1\n'
        "# EOF\n"
    )
    scrape = parse_exposition(text, source="x")
    assert scrape.openmetrics
    assert scrape.kind_of("jobs_total") == "counter"
    assert scrape.samples[0].timestamp_s == 1717000000.5
    assert scrape.samples[0].value == 3.0
    assert scrape.samples[2].name == "my.metric"
    assert scrape.time() == 1717000000.5


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("ok 1\nbad line here\n", 2),
        ('x{a="1" 2\n', 1),
        ("x 1 2 3\n", 1),
        ("x abc\n", 1),
        ("x 1 1.5\n", 1),  # 0.0.4 timestamps are integer milliseconds
        ("# TYPE x bogus\n", 1),
        ("# TYPE x\n", 1),
        ('x{1a="b"} 1\n', 1),
        ('\n\nx{a="1"}1\n', 3),
        ("x 1_000\n", 1),
        ('{"a"} 1\n{"a","b"} 2\n', 2),
    ],
)
def test_malformed_lines_name_file_and_line(text: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        parse_exposition(text, source="scrape.prom")
    assert info.value.source == "scrape.prom"
    assert info.value.field == f"line {line}"


def test_looks_like_exposition() -> None:
    assert looks_like_exposition(FORMATS_EXAMPLE)
    assert looks_like_exposition("\n\nup 1\n")
    assert looks_like_exposition('up{job="x"} 1')
    assert not looks_like_exposition('{"status":"success","data":{}}')
    assert not looks_like_exposition("{\n")
    assert not looks_like_exposition("")
    assert not looks_like_exposition("concurrency,throughput_rps\n1,2\n")


def node_scrape(idle0: float, user0: float, idle1: float, user1: float, ts: str = "") -> str:
    """A hand-written node_exporter scrape: 2 CPUs, idle and user only, plus memory."""
    lines = [
        "# TYPE node_cpu_seconds_total counter",
        f'node_cpu_seconds_total{{cpu="0",mode="idle"}} {idle0}{ts}',
        f'node_cpu_seconds_total{{cpu="0",mode="user"}} {user0}{ts}',
        f'node_cpu_seconds_total{{cpu="1",mode="idle"}} {idle1}{ts}',
        f'node_cpu_seconds_total{{cpu="1",mode="user"}} {user1}{ts}',
        "# TYPE node_memory_MemTotal_bytes gauge",
        f"node_memory_MemTotal_bytes 1.6e+10{ts}",
        f"node_memory_MemAvailable_bytes 4e+09{ts}",
    ]
    return "\n".join(lines) + "\n"


# Over 5 s: cpu0 idle +1, user +4; cpu1 idle +3, user +2. 10 CPU-seconds, 4 idle:
# utilization 1 - 4/10 = 0.6; user 6/10. Memory 1 - 4/16 = 0.75.
SCRAPE_A = node_scrape(100, 50, 200, 10)
SCRAPE_B = node_scrape(101, 54, 203, 12)


def test_cpu_utilization_from_two_hand_written_scrapes() -> None:
    m = load_scrapes([("a", SCRAPE_A), ("b", SCRAPE_B)], interval_s=5.0, service=None)
    assert m.cores == 2.0
    assert m.utilization["cpu"] == pytest.approx(0.6)
    assert m.utilization["memory"] == pytest.approx(0.75)
    assert m.cpu_by_mode == pytest.approx({"idle": 0.4, "user": 0.6})
    assert m.interval_s == 5.0
    assert [i.source for i in m.inputs] == ["a", "b"]
    assert m.inputs[0].kind == "prometheus-text"


def test_timestamps_order_the_scrapes() -> None:
    late = node_scrape(101, 54, 203, 12, ts=" 1717000005000")
    early = node_scrape(100, 50, 200, 10, ts=" 1717000000000")
    m = load_scrapes([("late", late), ("early", early)], interval_s=None, service=None)
    assert m.utilization["cpu"] == pytest.approx(0.6)
    assert m.interval_s == 5.0
    assert [i.source for i in m.inputs] == ["early", "late"]
    with pytest.raises(InputError, match="same timestamp"):
        load_scrapes([("a", early), ("b", early)], interval_s=None, service=None)


def test_untimed_scrapes_need_an_interval() -> None:
    with pytest.raises(InputError, match="give interval"):
        load_scrapes([("a", SCRAPE_A), ("b", SCRAPE_B)], interval_s=None, service=None)
    with pytest.raises(InputError, match="positive"):
        load_scrapes([("a", SCRAPE_A), ("b", SCRAPE_B)], interval_s=0.0, service=None)


def test_one_scrape_of_counters_is_an_input_error() -> None:
    # node_exporter's CPU and the service's requests are counters: one scrape gives neither
    with pytest.raises(InputError, match="one scrape: a rate needs two scrapes"):
        load_scrapes([("a", SCRAPE_A)], interval_s=None, service=None)


def test_one_scrape_with_only_gauges_and_timestamps_is_read_with_a_note() -> None:
    gauges = "# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 100\n"
    gauges += "# TYPE node_memory_MemAvailable_bytes gauge\nnode_memory_MemAvailable_bytes 25\n"
    m = load_scrapes([("a", gauges)], interval_s=None, service=None)
    assert m.utilization == {"memory": pytest.approx(0.75)}
    assert any("counters give no rates" in n for n in m.notes)


def test_nothing_to_compute_is_an_input_error() -> None:
    counters = "# TYPE node_context_switches_total counter\nnode_context_switches_total 5\n"
    with pytest.raises(InputError, match="a rate needs two scrapes"):
        load_scrapes([("a", counters)], interval_s=None, service=None)
    with pytest.raises(InputError, match="no node_exporter or request metrics"):
        load_scrapes([("a", "some_gauge 1\n")], interval_s=None, service=None)
    with pytest.raises(InputError, match="no scrapes"):
        load_scrapes([], interval_s=None, service=None)


def test_recorded_node_exporter_scrapes() -> None:
    """Two real node_exporter 1.5 scrapes (trimmed to the metrics used), ~2 s apart."""
    items = [(p.name, p.read_text()) for p in sorted(PROM.glob("node_scrape_*.prom"))]
    m = load_scrapes(items, interval_s=2.0, service=None)
    assert m.cores == 2.0
    assert 0.0 <= m.utilization["cpu"] <= 1.0
    assert 0.0 < m.utilization["memory"] < 1.0
    assert sum(m.cpu_by_mode.values()) == pytest.approx(1.0)
    assert m.saturation.context_switches_per_s is not None


@pytest.mark.parametrize("name", ["app_scrape.prom", "app_scrape.openmetrics"])
def test_recorded_prometheus_client_scrape(name: str) -> None:
    """One real prometheus_client scrape in each format parses; alone it gives no rates."""
    text = (PROM / name).read_text()
    scrape = parse_exposition(text, source=name)
    names = {s.name for s in scrape.samples}
    assert "app_requests_in_progress" in names
    assert any(n.startswith("app_request_duration_seconds") for n in names)
    with pytest.raises(InputError, match="one scrape: a rate needs two scrapes"):
        load_scrapes([(name, text)], interval_s=None, service=None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet=st.sampled_from(list('ab_:{}=",.#\\ \n\t+-eE019InfNa')), max_size=200)
    | st.text(max_size=100)
)
def test_hostile_text_raises_only_input_error(text: str) -> None:
    looks_like_exposition(text)
    with contextlib.suppress(InputError):
        parse_exposition(text, source="fuzz")
    with contextlib.suppress(InputError):
        load_scrapes([("a", text), ("b", text)], interval_s=1.0, service="a")


# --- live captures ------------------------------------------------------------------------


def scrape(url: str) -> tuple[str, float]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode(), time.monotonic()


def test_live_instrumented_service(spawn_http: Callable[..., str]) -> None:
    """200 requests/s with latencies cycling through a list whose mean is 0.02 s."""
    script = str(FIXTURES / "instrumented_service.py")
    instrumented_service = spawn_http(lambda port: [sys.executable, script, str(port)])
    time.sleep(0.3)  # let the schedule settle
    first, t0 = scrape(instrumented_service)
    time.sleep(1.5)
    second, t1 = scrape(instrumented_service)
    m = load_scrapes([("s1", first), ("s2", second)], interval_s=t1 - t0, service=None)
    assert m.throughput_rps == pytest.approx(200.0, rel=0.15)
    assert m.latency.mean_s == pytest.approx(0.02, rel=0.1)
    # 4 of 10 latencies <= 5 ms, 6 of 10 <= 10 ms: p50 = 0.005 + 0.005 * 0.1/0.2 = 7.5 ms.
    assert m.latency.p50_s == pytest.approx(0.0075, rel=0.2)
    assert m.errors_rps == pytest.approx(4.0, abs=1.5)  # every 50th request is a 500
    assert m.concurrency == 2.0


@pytest.mark.service
def test_live_node_exporter(node_exporter_url: str) -> None:
    first, t0 = scrape(node_exporter_url)
    time.sleep(1.0)
    second, t1 = scrape(node_exporter_url)
    m = load_scrapes([("n1", first), ("n2", second)], interval_s=t1 - t0, service=None)
    assert m.cores is not None and m.cores >= 1
    assert 0.0 <= m.utilization["cpu"] <= 1.0
    expected_memory = psutil.virtual_memory().percent / 100
    assert m.utilization["memory"] == pytest.approx(expected_memory, abs=0.15)
    assert m.interval_s == pytest.approx(t1 - t0)
