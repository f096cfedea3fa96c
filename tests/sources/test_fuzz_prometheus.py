"""Issue 19: the Prometheus readers (API responses, exports, text and OpenMetrics scrapes), fed
mutations of the real fixtures, give a report or one ``ThroughputError`` line — never another
exception, never a hang — through the whole ``analyze`` path, not only the parser.

The fixtures are the reader tests' own (saved ``/api/v1/query`` and ``query_range`` answers, a
tpx export, node_exporter and application scrapes); ``fuzz_mutations`` flips bytes, inflates
numbers past float range and past Python's int-string limit, puts NaN and infinities where
finite numbers belong, cuts files and nests them deeply.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.sources.fuzz_mutations import mutated
from tests.support import run_tpx

from throughput_expert import analyze
from throughput_expert.errors import InputError, ThroughputError
from throughput_expert.sources.metrics import load_metrics

FIXTURES = Path(__file__).parent / "fixtures" / "prometheus"
JSON_FILES = sorted(FIXTURES.glob("*.json"))
SCRAPES = sorted([*FIXTURES.glob("*.prom"), *FIXTURES.glob("*.openmetrics")])
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def analyze_or_refuse(paths: list[Path]) -> dict[str, object] | None:
    """The report of ``analyze`` on ``paths``, or None when refused with one line."""
    try:
        report = analyze(metrics=[str(p) for p in paths])
    except ThroughputError as exc:
        line = exc.one_line()
        assert "\n" not in line and line.split(":")[0]
        return None
    # every number in the report is finite: a NaN or an infinity is refused by the encoder (a
    # substring test would also refuse a mutated server name such as "http://NaN.0.1")
    json.dumps(report.to_dict(), allow_nan=False)
    return None


def test_the_fixtures_are_there() -> None:
    assert len(JSON_FILES) >= 6 and len(SCRAPES) >= 3


@FUZZ
@given(data=st.data())
def test_mutated_api_answers_and_exports_are_read_or_refused(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    original = data.draw(st.sampled_from(JSON_FILES), label="fixture")
    path = tmp_path_factory.mktemp("fuzz") / original.name
    path.write_bytes(data.draw(mutated(original.read_bytes()), label="mutated"))
    analyze_or_refuse([path])


@FUZZ
@given(data=st.data())
def test_mutated_scrapes_are_read_or_refused(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    first, second = FIXTURES / "node_scrape_1.prom", FIXTURES / "node_scrape_2.prom"
    one = data.draw(st.sampled_from([first, second, *SCRAPES]), label="mutated scrape")
    paths = []
    for original in (first, second) if one in (first, second) else (one,):
        path = folder / original.name
        raw = original.read_bytes()
        path.write_bytes(data.draw(mutated(raw), label="mutated") if original == one else raw)
        paths.append(path)
    analyze_or_refuse(paths)


# --- hand-made hostile answers, each with its line ----------------------------------------------


def matrix(value: str, stamps: tuple[str, str] = ("1700000000", "1700000015")) -> str:
    """A range answer of node memory: MemAvailable ends at ``value``, MemTotal is 16 GB."""
    series = []
    for name, last in (("MemAvailable", value), ("MemTotal", "16000000000")):
        pairs = f'[{stamps[0]},"8000000000"],[{stamps[1]},"{last}"]'
        metric = f'{{"__name__":"node_memory_{name}_bytes","instance":"a"}}'
        series.append(f'{{"metric":{metric},"values":[{pairs}]}}')
    return '{"status":"success","data":{"resultType":"matrix","result":[' + ",".join(series) + "]}}"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (matrix("1", ("9" * 400, "1")), "400-digit integer is beyond"),
        (matrix("1", ("9" * 5000, "1")), "5000-digit integer is beyond"),
        (matrix("1", ("1e309", "1")), "1e309 is beyond float range"),
        (matrix("9" * 400), "must be finite"),
        (matrix("+Inf"), "must be finite"),
        (matrix("1e308"), "must be finite"),
        (matrix("NaN"), ""),
        (matrix("4000000000"), ""),
        (matrix("1", ("-1", "1")), "timestamps"),
        (matrix("1", ("1e300", "1e300")), "timestamps"),
        (
            '{"status":"error","errorType":"bad_data","error":"line one\\rFAKE: all good"}',
            "bad_data: line one",
        ),
        (
            '{"status":"success","data":{"resultType":"matrix","result":' + "[" * 5000,
            "JSON",
        ),
    ],
)
def test_hostile_api_numbers_are_one_line(text: str, words: str, tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text(text)
    try:
        metrics = load_metrics([path])
    except InputError as exc:
        line = exc.one_line()
        assert words and words in line, line
        return
    assert not words, f"read, where {words!r} was expected"
    assert all(math.isfinite(v) for v in metrics.utilization.values())


def test_a_carriage_return_from_a_saved_answer_is_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text('{"status":"error","errorType":"bad_data","error":"one\\rFAKE: all good"}')
    proc = run_tpx("analyze", "--metrics", str(path))
    assert proc.returncode == 2
    assert "\r" not in proc.stderr and "one\\rFAKE" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b"node_load1 " + b"9" * 5000, "node_load1"),
        (b"node_load1 1e309", "beyond float range"),
        (b"node_load1 1 " + b"9" * 400, "timestamp"),
        (b"node_load1 1 " + b"9" * 5000, "timestamp"),
        (b"node_load1 1 -99999999999999999999", "timestamp"),
    ],
)
def test_hostile_scrape_numbers_are_one_line(line: bytes, words: str, tmp_path: Path) -> None:
    path = tmp_path / "a.prom"
    path.write_bytes(b"# TYPE node_load1 gauge\n" + line + b"\n")
    with pytest.raises(InputError) as caught:
        load_metrics([path])
    assert words in caught.value.one_line()


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--window", "9" * 5000 + "s"), "--window: "),
        (("--window", "9" * 30 + "ms"), "is not a positive duration up to 1y"),
        (("--window", "0s"), "is not a positive duration up to 1y"),
        (("--at", "1e400"), "--at: '1e400' is not a time from 1970 to 2286"),
        (("--at", "9" * 5000), "--at: "),
        (("--at", "nan"), "is not a time from 1970 to 2286"),
        (("--latency-query", "histogram_quantile(1.2.3, x)"), "quantile 1.2.3 has no signal"),
    ],
    ids=["window-5000-digits", "window-huge", "window-zero", "at-inf", "at-digits", "at-nan", "q"],
)
def test_hostile_prometheus_flags_are_one_line(flags: tuple[str, str], words: str) -> None:
    proc = run_tpx("analyze", "--prometheus", "http://127.0.0.1:9", *flags)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr


@pytest.mark.parametrize(
    ("window", "words"),
    [
        ('"' + "9" * 5000 + 's"', "is not a duration such as 5m"),
        ('"' + "9" * 30 + 'd"', "is not a positive duration up to 1y"),
        ("1e300", "is not a positive duration up to 1y"),
        ("[[[[1]]]]", "is not a duration such as 5m"),
    ],
)
def test_an_export_window_out_of_range_is_one_line(window: str, words: str, tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "export_node_app.json").read_text())
    text = json.dumps(doc).replace(json.dumps(doc["window"]), window, 1)
    path = tmp_path / "export.json"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_metrics([path])
    assert f"{path}: window: " in caught.value.one_line() and words in caught.value.one_line()
