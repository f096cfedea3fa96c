"""Importers on fixtures in the documented shapes (docs/formats.md §3), expected values by hand."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from throughput_expert.errors import InputError
from throughput_expert.model.sweep import Sweep
from throughput_expert.sources.loadtests import import_results, import_to_sweep
from throughput_expert.sources.sweep import load_sweep

from .conftest import FIXTURES


def one(name: str) -> Sweep:
    """One file read with every level kept: these tests check the parsing (the error threshold's
    rule is checked in test_real_outputs.py)."""
    return import_results([FIXTURES / name], error_threshold=1.0)


def test_k6_summary_export_legacy_shape() -> None:
    s = one("k6-summary-export.json")
    (lv,) = s.levels
    assert (lv.level, lv.throughput_rps, lv.requests, lv.errors) == (10, 33.2, 100, 2)
    # 2 failed requests: the latency is the expected_response:true submetric's, not 52.7 ms
    assert lv.latency.p95_s == pytest.approx(0.0501)
    assert lv.latency.p50_s == pytest.approx(0.0175)
    assert any("successful requests only" in n for n in s.notes)
    assert lv.duration_s == pytest.approx(100 / 33.2)
    assert (s.mode, s.closed_loop_percentiles) == ("closed", True)
    assert any("2 failed checks" in n for n in s.notes)


def test_k6_handle_summary_with_dropped_iterations_is_open() -> None:
    s = one("k6-handle-summary.json")
    (lv,) = s.levels
    assert (s.mode, s.closed_loop_percentiles, lv.level) == ("open", False, 20)
    # offered = 50 rps + 3.7 dropped/s × (500 requests / 250 iterations)
    assert lv.offered_rps == pytest.approx(57.4)
    assert (lv.errors, lv.duration_s) == (20, 10.0)
    assert lv.latency.p99_s == pytest.approx(1.8)
    assert any(
        "k6: 37 dropped iterations: the generator or the system could not keep up" in n
        for n in s.notes
    )


@pytest.mark.parametrize("compress", [False, True])
def test_k6_json_lines_one_level_per_vus_step(tmp_path: Path, compress: bool) -> None:
    data = (FIXTURES / "k6-out.json").read_bytes()
    path = tmp_path / "out.json.gz"
    path.write_bytes(gzip.compress(data) if compress else data)
    s = import_results([path], error_threshold=1.0)
    two, four = s.levels
    # vus=2 from t=1 s to the first vus=4 sample at t=4 s: 6 requests of 10..60 ms
    assert (two.level, two.throughput_rps, two.requests) == (2, 2.0, 6)
    assert (two.latency.p50_s, two.latency.p90_s) == pytest.approx((0.03, 0.06))
    assert two.latency.mean_s == pytest.approx(0.035)
    # vus=4 from t=4 s to the last request at t=6 s: 8 requests, one failed
    assert (four.level, four.throughput_rps, four.errors) == (4, 4.0, 1)
    assert any("1 short VU steps (ramps) skipped" in n for n in s.notes)


def test_jmeter_steps_by_all_threads() -> None:
    s = one("jmeter-5.6.jtl")
    two, four = s.levels
    # 10 samples starting 0..900 ms, elapsed 10..100 ms: 1.000 s span
    assert (two.level, two.throughput_rps, two.errors) == (2, 10.0, 1)
    # the failed 40 ms sample ("Read timed out") is left out of the latency: 9 samples
    # 10, 20, 30, 50 ... 100 ms, nearest rank p50 = 5th = 60 ms, p90 = 9th = 100 ms
    assert (two.latency.p50_s, two.latency.p90_s) == pytest.approx((0.06, 0.1))
    assert any("latency of the 9 successful samples only" in n for n in s.notes)
    # 20 samples starting 1000..1950 ms, elapsed 100 ms: 1.050 s span; the parent row skipped
    assert (four.level, four.requests) == (4, 20)
    assert four.throughput_rps == pytest.approx(20 / 1.05)
    assert any("read timed out" in n.lower() for n in s.notes)
    assert any("1 brief thread counts" in n for n in s.notes)


@pytest.mark.parametrize("name", ["gatling-3.9-simulation.log", "gatling-3.3-simulation.log"])
def test_gatling_text_log_both_field_layouts(name: str) -> None:
    s = one(name)
    two, four = s.levels
    assert (two.level, two.requests, two.errors) == (2, 4, 1)
    assert two.throughput_rps == pytest.approx(4 / 3)
    # the KO request (300 ms) is left out of the latency: 100, 200, 100 ms
    assert (two.latency.mean_s, two.latency.p50_s, two.latency.max_s) == pytest.approx(
        (0.4 / 3, 0.1, 0.2)
    )
    assert s.target == "home, search"
    assert (four.level, four.throughput_rps, four.latency.p99_s) == (4, 2.0, 0.05)


def test_binary_gatling_log_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "simulation.log"
    path.write_bytes(b"\x00\x00\x00\x053.12.1\x00\x10demo.BrowseSimulation\xff\xfe")
    with pytest.raises(InputError, match=r"binary simulation.log \(Gatling 3.12\+\)"):
        import_results([path])


def test_vegeta_is_open_with_the_offered_rate() -> None:
    s = one("vegeta-report.json")
    (lv,) = s.levels
    assert (s.mode, lv.offered_rps, lv.throughput_rps, lv.requests) == ("open", 101.0, 100.6, 100)
    assert lv.latency.p99_s == pytest.approx(0.00353)
    assert lv.duration_s == pytest.approx(0.99)
    assert lv.level == 1  # ceil(101/s × 2.37 ms = 0.24)
    assert any("Little's law" in n for n in s.notes)


def test_vegeta_workers_added_by_the_user(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "vegeta-report.json").read_text())
    doc["workers"] = 8
    path = tmp_path / "v.json"
    path.write_text(json.dumps(doc))
    assert import_results([path]).levels[0].level == 8


def test_wrk_errors_and_units() -> None:
    # hand-made: more non-2xx than requests, which wrk never prints
    s = one("wrk-timeouts.txt")
    (lv,) = s.levels
    assert (lv.level, lv.throughput_rps, lv.requests, lv.errors) == (10, 159.8, 480, 5691 + 13)
    assert (lv.latency.mean_s, lv.latency.p99_s, lv.latency.max_s) == pytest.approx(
        (0.05096, 0.05338, 0.05458)
    )
    assert any(
        "wrk: closed loop: percentiles are prone to coordinated omission" in n for n in s.notes
    )


def test_wrk_all_timeouts_is_no_level() -> None:
    with pytest.raises(InputError, match=r"no request answered in 10\.01 s"):
        one("wrk-all-timeouts.txt")


def test_wrk_recording_from_this_machine() -> None:
    (lv,) = one("wrk-4.1.0-c4.txt").levels
    assert (lv.level, lv.throughput_rps, lv.requests) == (4, 1573.74, 3148)
    assert lv.latency.p99_s == pytest.approx(0.00643)


def test_wrk2_corrected_and_uncorrected() -> None:
    s = one("wrk2-corrected-uncorrected.txt")
    (lv,) = s.levels
    assert (s.mode, s.closed_loop_percentiles) == ("open", False)
    assert (lv.level, lv.offered_rps, lv.throughput_rps) == (100, 2000.0, 1950.5)
    assert (lv.latency.p99_s, lv.latency.p95_s, lv.latency.p999_s) == pytest.approx(
        (0.0123, 0.00725, 0.0182)
    )
    assert any("wrk2: corrected p99 12.3 ms vs uncorrected 4.1 ms" in n for n in s.notes)
    assert any("achieved 1950.5 rps of 2000 offered" in n for n in s.notes)


def test_locust_recordings_from_this_machine() -> None:
    steps = one("locust-2.47.0_stats_history.csv")
    # Total Request Count 122 -> 373 over 2 s at 2 users, 624 -> 863 over 1 s at 4 users
    assert [(lv.level, lv.throughput_rps) for lv in steps.levels] == [(2, 125.5), (4, 239.0)]
    (whole,) = one("locust-2.47.0_stats.csv").levels
    assert (whole.level, whole.requests) == (2, 863)
    assert whole.throughput_rps == pytest.approx(172.4018, rel=1e-5)


def test_locust_stats_alone_needs_its_history(tmp_path: Path) -> None:
    path = tmp_path / "renamed.csv"
    path.write_text((FIXTURES / "locust-2.47.0_stats.csv").read_text())
    with pytest.raises(InputError, match="stats_history"):
        import_results([path])


def test_locust_stats_beside_its_history_given_together_counts_once() -> None:
    s = import_results(
        [FIXTURES / "locust-2.47.0_stats.csv", FIXTURES / "locust-2.47.0_stats_history.csv"]
    )
    assert [lv.level for lv in s.levels] == [2, 4]


def test_files_merge_and_save_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    files = [FIXTURES / "wrk-4.1.0-c4.txt", FIXTURES / "jmeter-5.6.jtl"]
    s = import_to_sweep(files, save=str(out), merge=True)
    assert s.target == "http://127.0.0.1:18099/; http://h/api"
    assert sorted(lv.level for lv in s.levels) == [2, 4, 4]
    assert s.driver == "jmeter, wrk" and s.closed_loop_percentiles
    assert all(n.startswith(("wrk-4.1.0-c4.txt: ", "jmeter-5.6.jtl: ")) for n in s.notes[:-1])
    assert s.notes[-1].startswith("merged results against 2 different targets")
    back = load_sweep(out)
    assert back.points() == s.points()
    assert back.closed_loop_percentiles


def test_open_and_closed_do_not_mix() -> None:
    with pytest.raises(InputError, match="do not mix"):
        import_results([FIXTURES / "vegeta-report.json", FIXTURES / "wrk-timeouts.txt"])


@pytest.mark.parametrize("text", ["hello\n", '{"a": 1}', "a,b\n1,2\n", ""])
def test_unknown_formats(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.txt"
    path.write_text(text)
    with pytest.raises(InputError, match="unknown load-test result"):
        import_results([path])


def test_no_files_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        import_results([])
    with pytest.raises(InputError):
        import_results([tmp_path / "nope.json"])


# --- issue 15 on the documented formats of the tools not installable here (k6, vegeta, JMeter,
# Gatling): failed requests are left out of the latency, none answered is unknown latency


def _k6_failed(tmp_path: Path, every: bool) -> Path:
    """k6-out.json with the status-0 request failed as k6 writes a timeout (expected_response
    false, its 60 s wait as duration); with ``every``, every request of the vus=4 step."""
    lines = []
    for line in (FIXTURES / "k6-out.json").read_text().splitlines():
        doc = json.loads(line)
        data = doc.get("data") or {}
        tags = data.get("tags") or {}
        late = every and data.get("time", "") >= "2024-05-09T14:34:14"
        if (tags.get("status") == "0" or late) and "expected_response" in tags:
            tags["expected_response"] = "false"
            if doc["metric"] == "http_req_failed":
                data["value"] = 1
            if doc["metric"] == "http_req_duration":
                data["value"] = 60000.0
        lines.append(json.dumps(doc))
    path = tmp_path / "k6.json"
    path.write_text("\n".join(lines))
    return path


def test_k6_lines_leave_failed_requests_out_of_the_latency(tmp_path: Path) -> None:
    s = import_results([_k6_failed(tmp_path, every=False)], error_threshold=1.0)
    four = s.levels[1]
    # 7 answered requests of 5 ms; the failed one's 60 s timeout is not a response time
    assert (four.errors, four.latency.max_s, four.latency.mean_s) == (1, 0.005, 0.005)
    assert any("level 4: latency of the successful requests only: 1 failed" in n for n in s.notes)
    assert s.target == "/api"


def test_k6_lines_step_with_every_request_failed_has_no_latency(tmp_path: Path) -> None:
    s = import_results([_k6_failed(tmp_path, every=True)], error_threshold=1.0)
    four = s.levels[1]
    assert (four.errors, four.requests, four.latency.known()) == (8, 8, {})
    assert any("level 4: latency unknown, not 0" in n for n in s.notes)
    failed = import_results([_k6_failed(tmp_path, every=True)]).failed
    assert [(f.level.level, f.error_share) for f in failed] == [(4, 1.0)]


def test_k6_summary_with_every_request_failed_has_no_latency(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "k6-summary-export.json").read_text())
    doc["metrics"]["http_req_failed"].update({"passes": 100, "fails": 0, "value": 1})
    path = tmp_path / "k6.json"
    path.write_text(json.dumps(doc))
    s = import_results([path], error_threshold=1.0)
    assert s.levels[0].latency.known() == {}
    assert any("latency unknown, not 0: all 100 requests failed" in n for n in s.notes)


def test_vegeta_with_no_success_has_no_latency(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "vegeta-report.json").read_text())
    doc.update({"success": 0, "throughput": 0, "workers": 4})
    path = tmp_path / "v.json"
    path.write_text(json.dumps(doc))
    s = import_results([path], error_threshold=1.0)
    (lv,) = s.levels
    assert (lv.errors, lv.latency.known()) == (100, {})
    with pytest.raises(InputError, match=r"100 of 100 requests failed \(100%\)"):
        import_results([path])


def test_jmeter_and_gatling_steps_with_every_request_failed_have_no_latency(
    tmp_path: Path,
) -> None:
    jtl = (FIXTURES / "jmeter-5.6.jtl").read_text().replace(",true,", ",false,")
    (tmp_path / "all.jtl").write_text(jtl)
    s = import_results([tmp_path / "all.jtl"], error_threshold=1.0)
    assert all(lv.latency.known() == {} and lv.errors == lv.requests for lv in s.levels)
    assert s.target == "http://h/api"
    log = (FIXTURES / "gatling-3.9-simulation.log").read_text().replace("\tOK\t", "\tKO\t")
    (tmp_path / "simulation.log").write_text(log)
    g = import_results([tmp_path / "simulation.log"], error_threshold=1.0)
    assert all(lv.latency.known() == {} for lv in g.levels)
    assert any("latency unknown, not 0: every request was KO" in n for n in g.notes)
