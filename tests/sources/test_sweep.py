"""The sweep file (docs/formats.md §5.1): CSV and JSON, the round trip, and hostile input."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.sources.sweep import load_sweep, save_sweep


def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_optional_columns_and_repeated_levels(tmp_path: Path) -> None:
    s = load_sweep(
        write(
            tmp_path,
            "instances,throughput,p99_ms,errors,extra\n4,400,12,0,x\n1,100,,,\n4,410,11,1,\n",
        )
    )
    assert s.level_kind == "instances"
    assert s.points() == ([1.0, 4.0, 4.0], [100.0, 400.0, 410.0])
    assert s.levels[0].latency.p99_s == pytest.approx(0.012)
    assert s.levels[2].errors == 1


def test_json_round_trip_through_save(tmp_path: Path) -> None:
    doc = {
        "format": "tpx-sweep",
        "version": 1,
        "level": "concurrency",
        "mode": "closed",
        "levels": [
            {
                "level": 2,
                "throughput_rps": 190.5,
                "latency_ms": {"p50": 9.5, "p95": 14.0},
                "requests": 381,
                "duration_s": 2.0,
                "future_key": 1,
            }
        ],
        "source": {"driver": "url", "target": "http://127.0.0.1:8080/"},
        "closed_loop_percentiles": True,
        "notes": ["level 1 at concurrency 2: the first level"],
        "unknown": "kept out",
    }
    s = load_sweep(write(tmp_path, json.dumps(doc), "s.json"))
    out = tmp_path / "again.json"
    save_sweep(s, out)
    again = load_sweep(out)
    assert again == load_sweep(out)
    assert again.levels[0].latency.p50_s == pytest.approx(0.0095)
    assert again.levels[0].latency.p95_s == pytest.approx(0.014)  # written and read back
    assert again.driver == "url" and again.closed_loop_percentiles is True
    assert again.notes == ("level 1 at concurrency 2: the first level",)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tpx-")] == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("threads,throughput\n1,2\n", "first column must be 'concurrency' or 'instances'"),
        ("concurrency,p99_ms\n1,2\n", "no throughput_rps column"),
        ("concurrency,throughput\n", "header and at least one row"),
        ("concurrency,throughput\n1,abc\n", "line 2: throughput: not a number"),
        ("concurrency,throughput\n0,5\n", r"concurrency: \"0\" is below the range \(allowed: 1 to"),
        ("concurrency,throughput\n1,nan\n", "line 2: throughput: .* is not a number"),
        ("concurrency,throughput\n1,1e300\n", r"throughput: .*allowed: 0 to 1e\+12 /s"),
        ("concurrency,throughput\n1e300,5\n", r"concurrency: .*allowed: 1 to 16,777,216"),
        ("concurrency,throughput,p99_ms\n1,5,1e15\n", r"latency.p99: .*allowed: 0 to 31,557,600 s"),
        ("concurrency,throughput,errors\n1,5," + "9" * 5000 + "\n", "a number of 5,000 characters"),
        ('{"format": "tpx-sweep", "version": 9, "levels": []}', "unsupported version"),
        ('{"format": "other"}', "not a sweep file"),
        ('{"format": "tpx-sweep", "version": 1, "levels": [{"level": 1}]}', "required"),
        (
            '{"format": "tpx-sweep", "version": 1, "levels": [{"level": 1, "throughput_rps": 2}],'
            ' "notes": [3]}',
            "notes: expected a list of strings",
        ),
    ],
)
def test_bad_sweeps(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        load_sweep(write(tmp_path, text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_hostile_text_raises_only_input_errors(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        with contextlib.suppress(InputError):
            load_sweep(path)
