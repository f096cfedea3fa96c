"""The rules of issue 15 on real outputs: wrk 4.1.0 and Locust 2.47.0 run on loopback against
``fixtures/flaky_server.py`` (timeouts, 500s, load shedding), recorded by ``fixtures/record.py``.

- timeouts and socket errors make latency unknown, never 0, and partial latency says so;
- a level whose error share passes the error threshold is a failed level, not throughput, and
  no fit, peak or recommendation uses it;
- files run against different targets are refused without ``merge``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from throughput_expert import api
from throughput_expert.cli import main
from throughput_expert.errors import InputError
from throughput_expert.sources.loadtests import import_results

from .conftest import FIXTURES

SHED = sorted(FIXTURES.glob("wrk-4.1.0-shed-c*.txt"))  # /shed/6: 503 past 6 in flight
SOME_LATE = FIXTURES / "wrk-4.1.0-some-late.txt"  # 5 % answered after 1.5 s, --timeout 1
ALL_LATE = FIXTURES / "wrk-4.1.0-all-late.txt"  # every answer after 1.5 s, --timeout 1
HUNG = FIXTURES / "wrk-4.1.0-hung.txt"  # answers after 6 s, in a 3 s run
FAIL_49 = FIXTURES / "wrk-4.1.0-fail-49.txt"  # 49 % 500s
LOCUST_LATE = FIXTURES / "locust-2.47.0-late_stats_history.csv"  # /late/5/1500, timeout=1.0
LOCUST_FAIL = FIXTURES / "locust-2.47.0-fail_stats_history.csv"  # /fail/70


# --- latency: unknown, never 0; partial says so ------------------------------------------------


def test_wrk_with_every_response_past_its_timeout_has_no_latency_not_zero() -> None:
    assert "50%    0.00us" in ALL_LATE.read_text()  # what wrk printed
    (lv,) = import_results([ALL_LATE], error_threshold=1.0).levels
    assert (lv.requests, lv.errors) == (6, 6)
    assert lv.latency.known() == {}
    notes = import_results([ALL_LATE], error_threshold=1.0).notes
    assert any("latency unknown, not 0" in n and "6 timed out" in n for n in notes)


def test_wrk_latency_with_some_timeouts_says_it_is_partial() -> None:
    s = import_results([SOME_LATE])
    (lv,) = s.levels
    assert (lv.requests, lv.errors, lv.throughput_rps) == (142, 4, 47.23)
    assert lv.latency.p99_s == pytest.approx(0.00953)  # the 1.5 s answers are not in it
    assert any("answered within --timeout only: 4 timeouts" in n for n in s.notes)


def test_locust_percentiles_that_include_timeouts_say_so() -> None:
    s = import_results([LOCUST_LATE])
    two, four = s.levels
    # Locust timed each timed-out request at its 1 s timeout: p99 is the timeout, not a response
    assert two.latency.p99_s == pytest.approx(1.0)
    assert (two.errors, two.requests, four.errors, four.requests) == (7, 122, 10, 194)
    assert any(
        "level 2: the percentiles include the 7 failed requests' times" in n for n in s.notes
    )


def test_locust_level_with_every_request_failed_has_no_latency(tmp_path: Path) -> None:
    text = LOCUST_FAIL.read_text().splitlines()
    header = text[0].split(",")
    total, failed = header.index("Total Request Count"), header.index("Total Failure Count")
    rows = [line.split(",") for line in text[1:]]
    for row in rows:
        row[failed] = row[total]  # every request failed
    path = tmp_path / "all_failed_stats_history.csv"
    path.write_text("\n".join([text[0], *(",".join(r) for r in rows)]) + "\n")
    s = import_results([path], error_threshold=1.0)
    assert all(lv.latency.known() == {} for lv in s.levels)
    assert any("latency unknown, not 0" in n for n in s.notes)


# --- the error threshold: a failed level is not throughput -------------------------------------


def test_wrk_with_no_answer_at_all_is_no_level_even_at_threshold_1() -> None:
    with pytest.raises(InputError) as raised:
        import_results([HUNG], error_threshold=1.0)
    assert raised.value.one_line() == (
        "wrk-4.1.0-hung.txt: every level failed, none is throughput: level 4: no request "
        "answered in 3.01 s"
    )


def test_wrk_with_49_percent_non_2xx_is_a_failure_at_the_default_threshold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sweep", "--from", str(FAIL_49)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err == (
        "wrk-4.1.0-fail-49.txt: every level failed, none is throughput: level 4: 1735 of 3542 "
        "requests failed (49%), above the error threshold of 10%; pass --error-threshold 1 to "
        "read the failed requests as throughput anyway"
    )


def test_a_level_under_the_threshold_is_kept_and_its_failures_noted() -> None:
    s = import_results([FAIL_49], error_threshold=0.5)
    (lv,) = s.levels
    assert (lv.throughput_rps, lv.errors, lv.requests, s.failed) == (1770.23, 1735, 3542, ())
    assert any(
        "1735 of 3542 requests failed (49%), not above the error threshold of 50%" in n
        and "about 903 rps succeeded" in n
        for n in s.notes
    )


def test_shed_levels_are_kept_apart_with_their_share_and_the_threshold() -> None:
    s = import_results(SHED)
    assert [lv.level for lv in sorted(s.levels, key=lambda x: x.level)] == [1, 2, 3, 4, 5, 6]
    failed = {f.level.level: f for f in s.failed}
    assert sorted(failed) == [8, 24]
    assert failed[8].error_share == pytest.approx(20291 / 21874)
    assert failed[24].error_share == pytest.approx(33313 / 34839)
    assert {f.threshold for f in s.failed} == {0.1}
    assert failed[24].level.throughput_rps == 16590.27  # the 503s answered fast
    assert 24 not in s.points()[0]
    assert any("level 24: 33313 of 34839 requests failed (96%)" in n for n in s.notes)


def test_the_fit_and_the_recommendation_ignore_failed_levels() -> None:
    report = api.sweep(from_files=SHED)
    a = report.analysis
    assert [lv.level for lv in a.levels] == [1, 2, 3, 4, 5, 6]
    assert a.usl is not None and a.usl.levels == 6
    assert a.measured_peak is not None and a.measured_peak.level == 5
    assert report.recommendations[0].optimization == "Run at concurrency 5"
    assert "16.6K" not in report.summary and "best measured 756 rps at 5" in report.summary
    # read as throughput, the 503s would have won: the rule is what decides
    loose = api.sweep(from_files=SHED, error_threshold=1.0)
    assert "best measured 16.6K rps at 24" in loose.summary


def test_the_error_threshold_is_checked() -> None:
    with pytest.raises(InputError, match="must be in"):
        import_results([SOME_LATE], error_threshold=1.5)


# --- targets: different ones are not merged without merge -------------------------------------


def test_wrk_files_against_different_urls_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sweep", "--from", str(FAIL_49), "--from", str(SOME_LATE)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "--from: target: wrk-4.1.0-fail-49.txt ran against http://127.0.0.1:18431/fail/49 but "
        "wrk-4.1.0-some-late.txt against http://127.0.0.1:18431/late/5/1500: results against "
        "different targets are not one sweep; import each target's files separately, or pass "
        "--merge to merge them"
    )


def test_merge_merges_and_the_report_lists_the_targets() -> None:
    report = api.sweep(from_files=[FAIL_49, SOME_LATE], merge=True, error_threshold=0.5)
    a = report.analysis
    assert a.target == "http://127.0.0.1:18431/fail/49; http://127.0.0.1:18431/late/5/1500"
    assert any(n.startswith("merged results against 2 different targets") for n in a.notes)
    assert len(a.levels) == 2


def test_a_url_and_the_same_path_from_a_tool_without_host_are_one_target() -> None:
    s = import_results([LOCUST_LATE, SOME_LATE])  # Locust names /late/5/1500, wrk its URL
    assert s.target == "http://127.0.0.1:18431/late/5/1500"
    with pytest.raises(InputError, match="ran against /fail/70 but"):
        import_results([LOCUST_FAIL, SOME_LATE], error_threshold=1.0)


def test_a_file_without_its_target_is_merged_with_a_note() -> None:
    s = import_results([FIXTURES / "k6-summary-export.json", SOME_LATE])
    assert s.target == "http://127.0.0.1:18431/late/5/1500"
    assert any("k6-summary-export.json: the target is not in the file" in n for n in s.notes)


def test_same_target_files_need_no_merge() -> None:
    assert import_results(SHED).target == "http://127.0.0.1:18431/shed/6"
