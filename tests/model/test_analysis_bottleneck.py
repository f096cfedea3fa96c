"""find-bottleneck's typed analysis: reports on several inputs obey the generated schema and
round-trip through ``BottleneckAnalysis``; a corrupted analysis is refused naming the key."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support import check_report

from throughput_expert import find_bottleneck
from throughput_expert.errors import InputError
from throughput_expert.model.analysis.bottleneck import BottleneckAnalysis
from throughput_expert.model.record import dump, load
from throughput_expert.model.report import Report
from throughput_expert.render import text_profile

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "tests" / "sources" / "profiles" / "fixtures"
HOST = ROOT / "tests" / "agents" / "fixtures" / "metrics.json"
EXAMPLE = ROOT / "src" / "throughput_expert" / "examples" / "message-consumer.json"

# py-spy raw output of one run, --idle (every thread every tick) and --gil (the holder only)
IDLE = (
    "thread (11): w-1;Thread.run (threading.py:982);crunch (t.py:5) 100\n"
    "thread (12): w-2;Thread.run (threading.py:982);waiter (t.py:9) 100\n"
    "thread (13): main;<module> (t.py:20);Thread.join (threading.py:1119) 100\n"
)
GIL = (
    "thread (11): w-1;Thread.run (threading.py:982);crunch (t.py:5) 40\n"
    "thread (12): w-2;Thread.run (threading.py:982);waiter (t.py:9) 1\n"
)
ASLEEP = "thread (1): main;main (app.py:1);sleep (time:0) 5\n"


def _files(tmp: Path) -> dict[str, Path]:
    out = {"idle": tmp / "idle.txt", "gil": tmp / "gil.txt", "asleep": tmp / "asleep.txt"}
    for name, text in (("idle", IDLE), ("gil", GIL), ("asleep", ASLEEP)):
        out[name].write_text(text)
    return out


CASES: dict[str, Callable[[dict[str, Path]], Report]] = {
    "speedscope-threads": lambda f: find_bottleneck(
        [PROFILES / "tiny.speedscope.json"], threads=True
    ),
    "pprof-mutex": lambda f: find_bottleneck([PROFILES / "go" / "mutex.pb.gz"]),
    "cpuprofile-host-metrics": lambda f: find_bottleneck(
        [PROFILES / "tiny.cpuprofile"], metrics=[EXAMPLE]
    ),
    "gil-threads-utilization": lambda f: find_bottleneck(
        [f["idle"]], gil_profile=f["gil"], threads=True, utilization=HOST
    ),
    "only-asleep": lambda f: find_bottleneck([f["asleep"]], threads=True),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    files = _files(tmp_path_factory.mktemp("bottleneck"))
    return {name: make(files) for name, make in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_report_obeys_its_schema_and_round_trips(reports: dict[str, Report], name: str) -> None:
    report = reports[name]
    assert isinstance(report.analysis, BottleneckAnalysis)
    doc = report.to_dict()
    check_report(doc)
    record = load(BottleneckAnalysis, doc["analysis"], source="report")
    assert dump(record) == doc["analysis"]
    assert text_profile.figures(record)[0][0] == "Bottleneck"


def test_optional_parts_are_present_only_when_asked(reports: dict[str, Report]) -> None:
    full = reports["gil-threads-utilization"].to_dict()["analysis"]
    assert {"gil", "threads", "utilization_pct"} <= set(full)
    assert full["gil"]["functions"][0]["read_as"] in ("GIL wait", "blocked in a C call")
    assert full["utilization_pct"] == {"cpu": 30.0, "disk_io": 10.0}
    bare = reports["pprof-mutex"].to_dict()["analysis"]
    assert not {"gil", "threads", "utilization_pct"} & set(bare)
    assert bare["on_cpu_pct"] is None
    asleep = reports["only-asleep"].to_dict()["analysis"]
    assert asleep["bottleneck"]["type"] is None and asleep["bottleneck"]["component"] is None


def test_record_holds_fractions_and_json_shows_percent(reports: dict[str, Report]) -> None:
    report = reports["gil-threads-utilization"]
    record = report.analysis
    assert isinstance(record, BottleneckAnalysis)
    doc = report.to_dict()["analysis"]
    assert record.bottleneck.share == pytest.approx(doc["bottleneck"]["share_pct"] / 100)
    assert record.threads is not None and 0 <= record.threads[0].share <= 1
    assert record.gil is not None and 0 <= record.gil.waiting_share <= 1


def _corrupt(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    bad = copy.deepcopy(doc)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return bad


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        (("bottleneck", "share_pct"), "high", "analysis.bottleneck.share_pct", "a number"),
        (("categories", 0, "waiting"), 1, "analysis.categories[0].waiting", "true or false"),
        (("profile", "measures"), "elapsed", "analysis.profile.measures", "one of"),
        (("profile", "colour"), "red", "analysis.profile", "unknown key 'colour'"),
        (("gil", "functions", 0, "read_as"), "idle", "analysis.gil.functions[0].read_as", "one of"),
    ],
)
def test_a_corrupted_analysis_is_refused_naming_the_key(
    reports: dict[str, Report], path: tuple[str | int, ...], value: Any, field: str, words: str
) -> None:
    doc = reports["gil-threads-utilization"].to_dict()["analysis"]
    bad = _corrupt(doc, path, value)
    with pytest.raises(InputError) as err:
        load(BottleneckAnalysis, bad, source="saved.json")
    assert err.value.field == field
    assert words in str(err.value)
