"""The machine running tpx is not the system being advised: outside ``observe``, ``sweep`` and
live recording, nothing reads this machine's cores or memory (``os.cpu_count()``,
``psutil.cpu_count()``, ``psutil.virtual_memory()``, ...). When the advised system's cores are
unknown they are an input the answer is parameterized by, never this machine's."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from throughput_expert.agents.run import run_advisors

SRC = Path(__file__).resolve().parents[1] / "src" / "throughput_expert"
# what measures this machine on purpose: observe (the local sampler, live.py's observe), the
# sweeps and batch trials (measure/), live recording of a process (measure/pyspy.py)
ALLOWED = ("sources/local_sampler.py", "live.py", "measure/")
FORBIDDEN = {
    "cpu_count",
    "process_cpu_count",
    "sched_getaffinity",
    "virtual_memory",
    "swap_memory",
    "sysconf",
    "cpu_freq",
}


def machine_reads(path: Path, root: Path = SRC) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        name = None
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN:
            name = node.attr
        elif isinstance(node, ast.ImportFrom):
            name = next((a.name for a in node.names if a.name in FORBIDDEN), None)
        elif isinstance(node, ast.Constant) and node.value in FORBIDDEN:
            name = str(node.value)  # getattr(os, "cpu_count")
        if name is not None:
            found.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}: {name}")
    return found


def test_only_observe_sweep_and_live_recording_read_this_machine() -> None:
    offenders = [
        hit
        for path in sorted(SRC.rglob("*.py"))
        if not str(path.relative_to(SRC)).startswith(ALLOWED)
        for hit in machine_reads(path)
    ]
    assert offenders == []


def test_the_scan_sees_each_spelling(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os, psutil\nfrom multiprocessing import cpu_count\n"
        "a = os.cpu_count()\nb = psutil.virtual_memory()\nc = getattr(os, 'sched_getaffinity')\n"
    )
    hits = [h.split(": ")[-1] for h in machine_reads(sample, tmp_path)]
    assert hits.count("cpu_count") == 2 and "virtual_memory" in hits
    assert "sched_getaffinity" in hits


@pytest.mark.parametrize("cores", [None, 3])
def test_a_task_without_cores_is_parameterized_not_sized_for_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int | None
) -> None:
    """Even if something asked, this machine would claim 97 cores: no answer may show 97."""
    import os

    import psutil

    monkeypatch.setattr(os, "cpu_count", lambda: 97)
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: 97)
    context: dict[str, object] = {"projectName": "billing", "codebaseType": "go"}
    if cores is not None:
        context["cores"] = cores
    r = run_advisors({"task": "Size the thread pools", "context": context}, tmp_path).to_dict()
    text = str(r)
    assert "97" not in text
    io = next(f for f in r["analysis"]["parameterized"]["formulas"] if f["id"] == "pool_io")
    if cores is None:
        assert (
            io["unknowns"][0] == "cores" and "cores of the system advised unknown" in r["summary"]
        )
    else:
        assert io["with_given"] == "threads = 3 × (1 + W / C)"
