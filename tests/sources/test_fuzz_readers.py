"""A fixed budget of the fuzz campaign (``tests/fuzz/run``) for the readers of metrics JSON, load
tests, sweeps, architectures, settings, rules and batch measurements: the real fixtures mutated
(byte flips, truncation, 400- and 5,000-digit numbers, 1e308/1e400/NaN/"inf", deep nesting,
control characters, lone surrogates, a section repeated to a megabyte, a value of the wrong
shape), each read in-process. A reader gives a record whose numbers are all finite and within
their ranges, or one ``InputError`` on one line; nothing else.
"""

from __future__ import annotations

import dataclasses
import math
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fuzz.mutations import MAX_BYTES, mutate

from throughput_expert.errors import InputError
from throughput_expert.sources.architecture import load_architecture
from throughput_expert.sources.batch_measurements import load_call_costs
from throughput_expert.sources.loadtests import import_results
from throughput_expert.sources.metrics import load_metrics
from throughput_expert.sources.rules import add_user_rules
from throughput_expert.sources.settings import load_settings
from throughput_expert.sources.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[2]
LOADTESTS = ROOT / "tests" / "sources" / "loadtests" / "fixtures"
PKG = ROOT / "src" / "throughput_expert"
SWEEP_CSV = (
    b"concurrency,throughput_rps,p50_ms,p99_ms,errors,requests,duration_s\n"
    b"1,480.5,2.05,2.9,0,961,2\n2,951,2.08,3.1,0,1902,2\n4,1843.2,2.15,3.6,1,3686,2\n"
    b"8,3310,2.4,5.2,0,6620,2\n16,4550,3.5,9.8,2,9100,2\n"
)


def _numbers(value: object) -> Iterator[float]:
    """Every float and int inside a record (dataclasses, mappings, sequences)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value) if not isinstance(value, int) or value.bit_length() < 1000 else math.inf
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _numbers(getattr(value, f.name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _numbers(v)


def _all_finite(record: object) -> None:
    for number in _numbers(record):
        assert math.isfinite(number), record
        assert abs(number) < 1e300, record


def _sweep_levels(path: Path) -> object:
    sweep = import_results([str(path)])
    return sweep.levels


READERS: dict[str, tuple[list[Path | bytes], Callable[[Path], object]]] = {
    "metrics-json": (
        [ROOT / "examples/metrics.json", PKG / "examples/message-consumer.json"],
        lambda p: load_metrics([p]),
    ),
    "wrk": (
        [LOADTESTS / "wrk-4.1.0-c4.txt", LOADTESTS / "wrk2-corrected-uncorrected.txt"],
        _sweep_levels,
    ),
    "k6": (
        [LOADTESTS / "k6-summary-export.json", LOADTESTS / "k6-handle-summary.json"],
        _sweep_levels,
    ),
    "k6-lines": ([LOADTESTS / "k6-out.json"], _sweep_levels),
    "locust": ([LOADTESTS / "locust-2.47.0_stats_history.csv"], _sweep_levels),
    "jmeter": ([LOADTESTS / "jmeter-5.6.jtl"], _sweep_levels),
    "gatling": ([LOADTESTS / "gatling-3.9-simulation.log"], _sweep_levels),
    "vegeta": ([LOADTESTS / "vegeta-report.json"], _sweep_levels),
    "sweep-json": ([ROOT / "examples/sweep.json"], load_sweep),
    "sweep-csv": ([SWEEP_CSV], load_sweep),
    "architecture": (
        [ROOT / "examples/architecture.yaml", PKG / "examples/three-tier.yaml"],
        load_architecture,
    ),
    "defaults": ([PKG / "advisors/data/defaults.yaml"], load_settings),
    "rules": (
        [PKG / "advisors/data/categories.yaml"],
        lambda p: add_user_rules(load_settings(), p),
    ),
    "batch-csv": ([ROOT / "examples/batch-trial.csv"], load_call_costs),
}


@pytest.mark.parametrize("name", list(READERS))
def test_the_unmutated_fixtures_are_read(name: str) -> None:
    """The seeds themselves read: the campaign mutates valid inputs, not rejects."""
    seeds, read = READERS[name]
    with tempfile.TemporaryDirectory() as folder:
        for i, seed in enumerate(seeds):
            data = seed if isinstance(seed, bytes) else seed.read_bytes()
            path = Path(folder) / (f"seed{i}.csv" if isinstance(seed, bytes) else seed.name)
            path.write_bytes(data)
            _all_finite(read(path))


# Examples per reader: the settings readers load every packaged file per example, so they get
# fewer; the whole file stays well under a minute.
BUDGET = {"defaults": 40, "rules": 30, "architecture": 80}


@pytest.mark.parametrize("name", list(READERS))
def test_a_mutated_fixture_gives_a_record_or_one_line(name: str) -> None:
    budget = settings(
        max_examples=BUDGET.get(name, 120),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    budget(given(seed=st.integers(min_value=0, max_value=2**32))(_mutated))(name=name)


def _mutated(name: str, seed: int) -> None:
    seeds, read = READERS[name]
    rng = random.Random(seed)
    source = rng.choice(seeds)
    original = source if isinstance(source, bytes) else source.read_bytes()
    data, _ = mutate(original, rng)
    assert len(data) <= MAX_BYTES
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("sweep.csv" if isinstance(source, bytes) else source.name)
        path.write_bytes(data)
        try:
            record = read(path)
        except InputError as error:
            line = str(error)
            assert "\n" not in line and "\r" not in line
            assert len(line) < 2_000
        else:
            _all_finite(record)
