"""Messages that lead somewhere: every ``--flag`` an error names is a flag of that subcommand
(issue 17). Each case is an error a newcomer meets; the flags are read from the subcommand's own
``--help``, so a renamed flag or a message naming another tool's flag fails here."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")

CASES = [
    ["sweep", "--url", "http://127.0.0.1:1/"],
    ["sweep", "--concurrency", "1,2"],
    ["sweep", "--url", "http://127.0.0.1:1/", "--concurrency", "1", "--rates", "5"],
    ["find-bottleneck"],
    ["find-bottleneck", "--pid", "1", "--profile", "x.json"],
    ["analyze"],
    ["optimize-concurrency", "--workload-type", "cpu", "--current-thread-pool", "8"],
    ["design-batching", "--operation", "database-insert"],
    ["scaling-plan"],
    ["task"],
]


def _tpx(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("argv", CASES, ids=lambda a: " ".join(a))
def test_every_flag_an_error_names_exists(argv: list[str]) -> None:
    proc = _tpx(*argv)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr
    named = set(_FLAG.findall(line)) - {"--help"}
    offered = set(_FLAG.findall(_tpx(argv[0], "--help").stdout))
    assert named <= offered, (line, sorted(named - offered))


def test_the_check_can_fail() -> None:
    """A flag no subcommand has is not in any help text: the check above is not vacuous."""
    offered = set(_FLAG.findall(_tpx("sweep", "--help").stdout))
    assert "--concurrency" in offered and "--host" not in offered


def test_a_dead_prometheus_is_said_even_when_the_file_has_the_values() -> None:
    """scaling-plan --prometheus on a server that does not answer: one line, exit 2, even when
    every component with selectors already has its utilization (it used to exit 0 silently)."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "src/throughput_expert/examples/three-tier.yaml"
    proc = _tpx(
        "scaling-plan",
        "--current-architecture",
        str(example),
        "--target-rps",
        "6000",
        "--prometheus",
        "http://127.0.0.1:1",
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "http://127.0.0.1:1: vector(1): cannot reach the server (Connection refused), 4 tries"
    ]
