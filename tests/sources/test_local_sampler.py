"""The local sampler on this machine: a CPU burner in a subprocess must show up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from throughput_expert.errors import InputError
from throughput_expert.sources.local_sampler import Progress, observe, save_metrics
from throughput_expert.sources.metrics_json import load_metrics_document

SCHEMA = Path(__file__).parents[2] / "src/throughput_expert/schemas/metrics.schema.json"
BURN = "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass\n"


@pytest.fixture
def burners() -> Iterator[list[subprocess.Popen[bytes]]]:
    """One CPU-burning process per core, stopped after the test."""
    procs = [
        subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.DEVNULL)
        for _ in range(os.cpu_count() or 1)
    ]
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def test_observe_sees_a_cpu_burner(burners: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    seen: list[Progress] = []
    metrics = observe(2.0, 0.5, pid=burners[0].pid, on_progress=seen.append)
    assert metrics.utilization["cpu"] > 0.7
    assert metrics.cores == os.cpu_count()
    assert metrics.cpu_by_mode["user"] > 0.5
    assert metrics.interval_s == pytest.approx(2.0, abs=0.3)
    assert len(seen) == 4 and seen[-1].elapsed_s >= 2.0
    assert any("process tree of pid" in n for n in metrics.notes)
    path = tmp_path / "metrics.json"
    save_metrics(metrics, path)
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    again = load_metrics_document(doc, source=str(path))
    assert again.utilization == pytest.approx(metrics.utilization)
    assert again.saturation == metrics.saturation
    assert again.cores == metrics.cores


def test_observe_with_a_fake_clock_never_sleeps_for_real() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    metrics = observe(3.0, 1.0, clock=lambda: now[0], sleep=sleep)
    assert slept == [1.0, 1.0, 1.0]
    assert metrics.interval_s == 3.0
    assert "memory" in metrics.utilization


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="positive"):
        observe(0, 1)
    with pytest.raises(InputError, match="no process with pid"):
        observe(1, 1, pid=2**22 + 12345)
