"""Live Prometheus source: the static fake, the HTTP client against a local fake server, and a
real Prometheus scraping node_exporter and the load service under a known load."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from throughput_expert import analyze
from throughput_expert.errors import InputError, MeasurementError
from throughput_expert.sources import load_metrics
from throughput_expert.sources.prometheus.live import (
    HttpPrometheus,
    StaticPrometheus,
    collect,
    default_queries,
    export_to_metrics,
    parse_at,
    plan_queries,
    save_export,
)

AT = 1717000000.0
UP = "min(count_over_time(up{}[5m]))"
SECRET = "s3cr3t-t0ken-value"


def vector(*values: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    result = [{"metric": dict(labels or {}), "value": [AT, v]} for v in values]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def error(kind: str, text: str) -> dict[str, Any]:
    return {"status": "error", "errorType": kind, "error": text}


def node_answers(window: str = "5m", **over: object) -> dict[str, object]:
    """A busy-CPU host: answers for the default plan's first candidates."""
    plan = plan_queries(window)
    values = {
        "cpu_utilization": "0.93",
        "cpu_cores": "2",
        "run_queue_per_core": "1.6",
        "memory_utilization": "0.3",
        "disk_busy": "0.05",
        "service_rps": "120",
        "service_latency_mean_s": "0.016",
    }
    answers: dict[str, object] = {plan[n][0]: vector(v) for n, v in values.items()}
    answers[f"min(count_over_time(up{{}}[{window}]))"] = vector("300")
    answers |= {plan[n][0]: a for n, a in over.items()}
    return answers


# --- the static fake ------------------------------------------------------------------------


def test_default_queries_cover_the_export_names() -> None:
    names = set(default_queries())
    assert {"cpu_utilization", "cpu_by_mode", "disk_busy", "psi_io", "service_rps"} <= names
    gauges = {"cpu_cores", "network_link_bytes"}
    ranged = [q for n, qs in default_queries().items() if n not in gauges for q in qs]
    assert all("{window}" in q for q in ranged)


def test_collect_names_missing_data_and_marks_partial(tmp_path: Path) -> None:
    source = StaticPrometheus(node_answers())
    export = collect(source, window="5m", at=AT)
    assert export.partial
    assert export.missing["psi_io"].missing == "the query returned no series"
    assert "node_pressure_io_waiting_seconds_total" in export.missing["psi_io"].promql
    assert {at for _, at in source.asked} == {AT}  # one instant for every query
    doc = export.to_json()
    assert doc["format"] == "tpx-prometheus-export" and doc["version"] == 1
    assert doc["partial"] is True
    assert {m["name"] for m in doc["missing"]} >= {"psi_io", "disk_queue"}
    metrics = export_to_metrics(export)
    assert metrics.utilization["cpu"] == pytest.approx(0.93)
    assert metrics.saturation.psi_io is None  # missing, never zero
    assert any(n.startswith("psi_io: ") for n in metrics.notes)


def test_saved_export_reads_back_as_the_same_metrics(tmp_path: Path) -> None:
    export = collect(StaticPrometheus(node_answers()), window="5m", at=AT)
    path = tmp_path / "export.json"
    save_export(export, path)
    again = load_metrics([path])
    live = export_to_metrics(export)
    assert again.utilization == live.utilization
    assert again.saturation == live.saturation
    assert again.throughput_rps == live.throughput_rps == 120
    replay = collect(StaticPrometheus.from_export(json.loads(path.read_text())), at=AT)
    assert export_to_metrics(replay).utilization == live.utilization
    report = analyze([path]).to_dict()
    assert report["analysis"]["bottleneck"]["type"] == "cpu"


def test_service_defaults_fall_back_in_order() -> None:
    plan = plan_queries("5m")
    answers = node_answers()
    answers[plan["service_rps"][0]] = vector()  # no http_requests_total
    answers[plan["service_rps"][1]] = vector("42")
    export = collect(StaticPrometheus(answers), at=AT)
    got = export.queries["service_rps"]
    assert got.missing is None and got.promql == plan["service_rps"][1]
    assert got.tried == ((plan["service_rps"][0], "the query returned no series"),)


def test_failed_and_timed_out_queries_are_missing_with_the_reason() -> None:
    plan = plan_queries("5m")
    answers = node_answers(
        disk_busy=error("execution", "many-to-many matching not allowed"),
        memory_utilization=MeasurementError("timed out", source="s"),
    )
    export = collect(StaticPrometheus(answers), at=AT)
    assert "many-to-many" in str(export.missing["disk_busy"].missing)
    assert export.missing["memory_utilization"].missing == "timed out"
    missing = {m["name"]: m for m in export.to_json()["missing"]}
    assert missing["disk_busy"]["response"]["errorType"] == "execution"
    assert "disk_busy" not in export.to_json()["queries"]  # the export stays readable
    assert plan["disk_busy"][0] in " ".join(export.notes())


def test_user_query_errors_name_the_query() -> None:
    bad = "sum(rate(foo[5m]"
    answers = node_answers()
    answers[bad] = error("bad_data", "1:17: parse error: unclosed left parenthesis")
    with pytest.raises(InputError) as caught:
        collect(StaticPrometheus(answers), at=AT, service_query=bad)
    line = caught.value.one_line()
    assert line.startswith("service_query: sum(rate(foo[5m]: ") and "bad_data" in line


def test_latency_query_names_its_percentile() -> None:
    q = "histogram_quantile(0.9, sum by (le) (rate(x_bucket[{window}])))"
    plan = plan_queries("1m", latency_query=q)
    assert plan["service_latency_p90_s"] == (q.replace("{window}", "1m"),)
    assert "service_latency_mean_s" not in plan
    with pytest.raises(InputError, match=r"quantile 0\.75"):
        plan_queries("1m", latency_query="histogram_quantile(0.75, x)")


def test_instance_selects_the_host() -> None:
    plan = plan_queries("5m", instance='db1:9100"')
    assert 'node_load1{instance="db1:9100\\""}' in plan["run_queue_per_core"][0]


def test_window_shorter_than_four_scrapes_is_refused() -> None:
    answers = node_answers("20s")
    answers["min(count_over_time(up{}[20s]))"] = vector("2")
    with pytest.raises(InputError) as caught:
        collect(StaticPrometheus(answers), window="20s", at=AT)
    line = caught.value.one_line()
    assert line.startswith("window: 20s holds 2 samples") and "use at least 40s" in line
    with pytest.raises(InputError, match="not a Prometheus duration"):
        collect(StaticPrometheus(answers), window="20 s", at=AT)


def test_nothing_answered_is_a_measurement_error() -> None:
    with pytest.raises(MeasurementError, match="no query returned data"):
        collect(StaticPrometheus({UP: vector("300")}), at=AT)


def test_parse_at() -> None:
    assert parse_at("1717000000.5") == 1717000000.5
    assert parse_at("2024-05-29T16:26:40Z") == 1717000000.0
    with pytest.raises(InputError, match=r"^at: "):
        parse_at("yesterday")


# --- HTTP against a local fake server -------------------------------------------------------

Reply = Callable[[str, dict[str, str]], tuple[int, bytes]]


class FakeServer:
    def __init__(self) -> None:
        self.reply: Reply = lambda path, headers: (200, json.dumps(vector("1")).encode())
        self.seen: list[tuple[str, dict[str, str]]] = []


@pytest.fixture
def fake() -> Iterator[tuple[FakeServer, str]]:
    state = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = dict(self.headers.items())
            state.seen.append((self.path, headers))
            code, body = state.reply(self.path, headers)
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_http_error_envelopes_are_returned_and_reported(fake: tuple[FakeServer, str]) -> None:
    state, url = fake
    for code, kind in ((400, "bad_data"), (422, "execution")):
        state.reply = lambda p, h, c=code, k=kind: (c, json.dumps(error(k, "boom")).encode())
        source = HttpPrometheus(url, retries=0)
        assert source.query("up", None) == error(kind, "boom")
        with pytest.raises(MeasurementError) as caught:
            collect(source, window="5m", at=AT)
        assert f"the server answered {kind}: boom" in caught.value.one_line()
        assert "count_over_time(up" in caught.value.one_line()  # the query is named


def test_http_503_is_retried_with_backoff(fake: tuple[FakeServer, str]) -> None:
    state, url = fake
    state.reply = lambda p, h: (503, json.dumps(error("timeout", "query timed out")).encode())
    waits: list[float] = []
    source = HttpPrometheus(url, retries=3, backoff_s=0.1, sleep=waits.append)
    assert source.query("up", AT) == error("timeout", "query timed out")
    assert waits == [0.1, 0.2, 0.4] and len(state.seen) == 4
    assert "time=1717000000.000" in state.seen[0][0]
    state.reply = lambda p, h: (502, b"<html>bad gateway</html>")
    with pytest.raises(MeasurementError, match="HTTP 502: not a Prometheus API answer"):
        source.query("up", AT)


def test_unreachable_port_is_one_clear_line() -> None:
    with pytest.raises(MeasurementError) as caught:
        collect(HttpPrometheus("http://127.0.0.1:9", retries=1, sleep=lambda s: None), at=AT)
    line = caught.value.one_line()
    assert line.startswith("http://127.0.0.1:9: min(count_over_time(up{}[5m])): cannot reach")
    assert "\n" not in line


def test_secrets_are_sent_but_never_shown(
    fake: tuple[FakeServer, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = fake
    state.reply = lambda p, h: (200, json.dumps(node_answers().get(_query(p), vector())).encode())
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n")
    monkeypatch.setenv("TPX_TEST_TOKEN", SECRET)
    user_url = url.replace("http://", "http://admin:pa55word@")
    sources = [
        HttpPrometheus(url, bearer_token_file=str(token_file)),
        HttpPrometheus(url, bearer_token_env="TPX_TEST_TOKEN"),
        HttpPrometheus(user_url),
    ]
    for source in sources:
        export = collect(source, at=AT)
        path = tmp_path / "export.json"
        save_export(export, path)
        shown = path.read_text() + repr(source) + " ".join(export_to_metrics(export).notes)
        assert SECRET not in shown and "pa55word" not in shown and "admin" not in shown
        assert json.loads(path.read_text())["server"] == url
    auth = {h.get("Authorization") for _, h in state.seen}
    assert f"Bearer {SECRET}" in auth and "Basic YWRtaW46cGE1NXdvcmQ=" in auth
    state.reply = lambda p, h: (401, b"unauthorized " + SECRET.encode())
    with pytest.raises(MeasurementError) as caught:
        sources[0].query("up", None)
    assert "authentication refused" in str(caught.value) and SECRET not in str(caught.value)
    monkeypatch.delenv("TPX_TEST_TOKEN")
    with pytest.raises(InputError, match="TPX_TEST_TOKEN is empty or unset"):
        HttpPrometheus(url, bearer_token_env="TPX_TEST_TOKEN")


def _query(path: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(path).query)["query"][0]


# --- a real Prometheus under a known load ---------------------------------------------------


def _load(base: str, kind: str, seconds: float) -> float:
    """Requests of 0.5 s of ``/cpu`` or ``/disk`` work, back to back; returns when they ended."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{base}/{kind}?seconds=0.5", timeout=30):
                pass
        except urllib.error.HTTPError as exc:
            pytest.fail(f"the load service could not load {kind}: {exc.read().decode().strip()}")
    return time.time()


@pytest.mark.service
def test_live_prometheus_names_the_loaded_resource(
    prometheus_url: str, load_service_url: str, tmp_path: Path
) -> None:
    source = HttpPrometheus(prometheus_url)
    findings = {}
    for kind in ("cpu", "disk"):
        end = _load(load_service_url, kind, 21)
        time.sleep(1.5)  # let the last scrape of the load land
        export = collect(source, window="20s", at=end)
        assert export.scrape_interval_s == pytest.approx(1.0, rel=0.3)
        path = tmp_path / f"{kind}.json"
        save_export(export, path)
        metrics = export_to_metrics(export)
        assert metrics.throughput_rps == pytest.approx(2.0, rel=0.5)  # 0.5 s requests
        assert metrics.latency.mean_s == pytest.approx(0.5, rel=0.5)
        report = analyze([path]).to_dict()
        findings[kind] = (report["analysis"]["bottleneck"]["type"], dict(metrics.utilization))
    assert findings["cpu"][0] == "cpu", findings
    assert findings["cpu"][1]["cpu"] > 0.8, findings
    assert findings["disk"][0] == "io_disk", findings
    assert findings["disk"][1]["disk_io"] > 0.5, findings
