"""Re-record every Python entry of the verdict corpus (tests/fixtures/corpus/python/).

Needs py-spy (``pip install py-spy``) and ptrace permission (root, CAP_SYS_PTRACE or
kernel.yama.ptrace_scope=0), and psutil. Each program in ``benchmarks/_corpus/python/`` has a
bottleneck known by construction; it is started, left to warm up, then recorded with py-spy
attached to its pid (``--pid``) in the modes listed below, while psutil measures the process's
own CPU over the same window (its children, such as the downstream server, are not counted).
Recorders of one run start together, so a ``--gil`` recording pairs with its ``--idle`` one.
The manifest (expected verdicts, how each file was recorded, the CPU measured) is written from
the table below: edit the table, not the manifest.

    python benchmarks/_corpus/record_python.py            # every entry
    python benchmarks/_corpus/record_python.py lock_contention gil_contention
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path("benchmarks/_corpus/python")
OUT = ROOT / "tests/fixtures/corpus/python"
RATE = 50  # samples per second: small files, enough samples for shares to 2-3 %
WARMUP_S = 0.7
RECORD_S = 3
RUN_S = WARMUP_S + RECORD_S + 2.5


@dataclass(frozen=True)
class Recording:
    """One py-spy recorder of a run: its flags and output file."""

    suffix: str  # e.g. "idle.native" -> <program>.idle.native.speedscope.json
    flags: tuple[str, ...]
    fmt: str = "speedscope"
    expected: dict[str, Any] | None = None  # None: recorded for a pairing, not scored alone
    gil_pair: str | None = None  # the suffix of this run's --gil recording


@dataclass(frozen=True)
class Run:
    program: str
    why: str
    recordings: tuple[Recording, ...]
    args: tuple[str, ...] = field(default=())


def expect(type_: str | None, category: str | None, component: str | None, state: str | None):
    return {"type": type_, "category": category, "component": component, "state": state}


RUNS: tuple[Run, ...] = (
    Run(
        "json_hot",
        "one request thread renders every response with json.dumps(sort_keys, indent)",
        (
            Recording("cpu", (), expected=expect("cpu", "serialization", "render", "running")),
            Recording(
                "idle",
                ("--idle", "--threads"),
                "raw",
                expected=expect("cpu", "serialization", "render", "running"),
            ),
        ),
    ),
    Run(
        "regex_hot",
        "each line goes through module-level re.findall/re.sub (the pattern cache) in parse_line",
        (
            Recording("cpu", (), expected=expect("cpu", "regex", "parse_line", "running")),
            Recording(
                "cpu.native",
                ("--native",),
                expected=expect("cpu", "regex", "parse_line", "running"),
            ),
        ),
    ),
    Run(
        "lock_contention",
        "8 request threads take one threading.Lock around a 2 ms write (sleep) in handle_request",
        (
            Recording(
                "idle.native",
                ("--idle", "--native"),
                expected=expect("contention", "lock", "handle_request", "lock_wait"),
            ),
            Recording(
                "idle",
                ("--idle",),
                expected=expect("contention", "blocked", "handle_request", "blocked"),
                gil_pair="gil",
            ),
            Recording("gil", ("--gil",)),
        ),
    ),
    Run(
        "gil_contention",
        "4 threads of pure-Python compute (no user lock) on 2 cores: they queue on the GIL",
        (
            Recording(
                "idle.native",
                ("--idle", "--native"),
                expected=expect("contention", "gil", "score", "gil_wait"),
            ),
            Recording(
                "idle",
                ("--idle",),
                expected=expect("contention", "gil", "score", "gil_wait"),
                gil_pair="gil",
            ),
            Recording("gil", ("--gil",)),
        ),
    ),
    Run(
        "downstream_wait",
        "4 request threads call a local HTTP server (another process) that answers after 30 ms",
        (
            Recording(
                "idle",
                ("--idle", "--threads"),
                expected=expect("downstream", "io_network", "call_inventory", "io_network"),
            ),
        ),
    ),
    Run(
        "gc_churn",
        "each request builds 3,000 short-lived objects with cycles; gc thresholds (200, 5, 5)",
        (
            Recording(
                "cpu.native",
                ("--native",),
                expected=expect("memory", "gc_alloc", "build_tree", "running"),
            ),
        ),
    ),
    Run(
        "idle_pool",
        "8 pool threads block on an empty queue.Queue beside one thread computing checksums",
        (
            Recording(
                "idle", ("--idle",), expected=expect("cpu", "compute", "checksum", "running")
            ),
            Recording(
                "cpu",
                ("--threads",),
                "raw",
                expected=expect("cpu", "compute", "checksum", "running"),
            ),
        ),
    ),
    Run(
        "idle_loop",
        "an asyncio loop waits for a connection nobody makes (epoll_wait) beside a busy thread",
        (
            Recording(
                "idle.native",
                ("--idle", "--native"),
                expected=expect("cpu", "compute", "rolling_hash", "running"),
            ),
            Recording(
                "idle", ("--idle",), expected=expect("cpu", "compute", "rolling_hash", "running")
            ),
        ),
    ),
    Run(
        "main_join",
        "the main thread joins 2 threads hashing 1 MiB buffers (hashlib releases the GIL)",
        (
            Recording(
                "idle.native",
                ("--idle", "--native"),
                expected=expect("cpu", "compute", "digest_chunks", "running"),
            ),
        ),
    ),
)


def file_name(run: Run, rec: Recording) -> str:
    ext = "speedscope.json" if rec.fmt == "speedscope" else "collapsed.txt"
    return f"{run.program}.{rec.suffix}.{ext}"


def command(run: Run, rec: Recording, pid: int | str, out: str) -> list[str]:
    return [
        "py-spy", "record", "--pid", str(pid), "-r", str(RATE), "-d", str(RECORD_S),
        "--format", rec.fmt, "-o", out, *rec.flags,
    ]  # fmt: skip


def record(run: Run) -> dict[str, float]:
    """Record every recording of ``run`` on one process; the process's CPU share (1 = a core)."""
    program = str(ROOT / PROGRAMS / f"{run.program}.py")
    child = subprocess.Popen([sys.executable, program, str(RUN_S), *run.args])
    try:
        time.sleep(WARMUP_S)
        proc = psutil.Process(child.pid)
        before, t0 = proc.cpu_times(), time.monotonic()
        spies = [
            subprocess.Popen(
                command(run, rec, child.pid, str(OUT / file_name(run, rec))),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for rec in run.recordings
        ]
        time.sleep(RECORD_S)
        after, t1 = proc.cpu_times(), time.monotonic()
        for spy in spies:
            if spy.wait(RECORD_S + 30) != 0:
                raise SystemExit(f"py-spy failed on {run.program} (ptrace permission?)")
        cpu = (after.user + after.system - before.user - before.system) / (t1 - t0)
        return {"process_cpu_pct": round(100 * cpu, 1)}
    finally:
        child.wait(RUN_S + 10)


def entries(run: Run, measured: dict[str, float]) -> list[dict[str, Any]]:
    out = []
    for rec in run.recordings:
        if rec.expected is None:
            continue
        pair = next((r for r in run.recordings if r.suffix == rec.gil_pair), None)
        shown = " ".join(command(run, rec, "PID", file_name(run, rec))[1:])
        out.append(
            {
                "file": file_name(run, rec),
                "gil_profile": file_name(run, pair) if pair else None,
                "program": str(PROGRAMS / f"{run.program}.py"),
                "recorded_with": f"py-spy {shown} (attached {WARMUP_S:g} s after the start)",
                **measured,
                "expected": rec.expected,
                "why": run.why,
            }
        )
    return out


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = OUT / "manifest.yaml"
    old = yaml.safe_load(manifest.read_text()) if manifest.exists() else None
    kept = {e["file"]: e for e in (old or {}).get("recordings", [])}
    for run in RUNS:
        if names and run.program not in names:
            continue
        measured = record(run)
        print(f"{run.program}: process CPU {measured['process_cpu_pct']} %", flush=True)
        for entry in entries(run, measured):
            kept[entry["file"]] = entry
    order = [file_name(r, c) for r in RUNS for c in r.recordings]
    rows = sorted(kept.values(), key=lambda e: order.index(e["file"]) if e["file"] in order else 99)
    header = (
        "# The Python verdict corpus: real py-spy recordings of benchmarks/_corpus/python/*.py,\n"
        "# whose bottleneck is known by construction. Written by benchmarks/_corpus/"
        "record_python.py\n# (edit its table, then re-record); read by tests/advisors/"
        "test_verdicts_python.py\n# and benchmarks/verdict_accuracy.py.\n"
    )
    body = yaml.safe_dump({"recordings": rows}, sort_keys=False, width=100)
    manifest.write_text(header + body)


if __name__ == "__main__":
    main(sys.argv[1:])
