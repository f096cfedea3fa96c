"""The command line, in-process (fast) and once by subprocess (as a user runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support import main_in_process

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "throughput_expert" / "examples" / "message-consumer.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return main_in_process(capsys, *argv)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_demo_prints_exactly_what_analyze_prints_on_the_bundled_file(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    code_demo, demo, _ = run(capsys, "demo", "--format", fmt)
    code_an, analyzed, _ = run(capsys, "analyze", "--metrics", str(DEMO), "--format", fmt)
    assert code_demo == code_an == 0
    assert demo == analyzed
    assert "disk" in demo


def test_json_is_the_default_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", "--metrics", str(DEMO))
    assert code == 0
    assert json.loads(out)["analysis"]["bottleneck"]["type"] == "io_disk"


def test_flags_take_human_quantities(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "analyze",
        "--metrics",
        str(DEMO),
        "--target-rps",
        "20K msg/s",
        "--current-rps",
        "10,000",
    )
    assert code == 0
    assert json.loads(out)["analysis"]["target_rps"] == 20000


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["analyze", "--metrics", "/nonexistent.json"], "/nonexistent.json: No such file"),
        (["analyze", "--metrics", str(DEMO), "--target-rps", "lots"], "--target-rps: "),
        (["analyze", "--metrics", str(DEMO), "--defaults", "/nonexistent.yaml"], "/nonexistent"),
        (["analyze"], "analyze: metrics: no metrics given: pass --metrics FILE, --prometheus URL"),
        (["frobnicate"], "tpx: argument COMMAND: invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], start: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith(start)
    assert err.count("\n") == 1


def test_output_is_written_whole_or_not_at_all(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(capsys, "analyze", "--metrics", str(DEMO), "--output", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["command"] == "analyze"
    bad = tmp_path / "bad.json"
    bad.write_text('{"utilization": {"cpu": 45}}')
    second = tmp_path / "second.json"
    code, _, err = run(capsys, "analyze", "--metrics", str(bad), "--output", str(second))
    assert code == 2
    assert 'write "45%"' in err
    assert not second.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tpx-")] == []


def test_installed_command_by_subprocess(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"status": "error", "errorType": "bad_data", "error": "parse error"}')
    proc = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", "analyze", "--metrics", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    demo = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", "demo", "--format", "text"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert demo.returncode == 0
    assert demo.stdout.startswith("tpx analyze\nBottleneck: disk I/O at 80 %")


PROFILES = ROOT / "tests" / "sources" / "profiles" / "fixtures"


def test_find_bottleneck_on_a_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "find-bottleneck",
        "--profile",
        str(PROFILES / "tiny.speedscope.json"),
        "--threads",
        "--format",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["command"] == "find-bottleneck"
    assert doc["analysis"]["categories"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"shared": {"frames": [', "speedscope"),
        (b"\x1f\x8b\x08\x00garbage", ""),
        (
            b'{"shared": {"frames": [{"name": "a"}]}, "profiles": [{"type": "sampled", "unit": '
            b'"none", "startValue": 0, "endValue": 1, "samples": [[5]], "weights": [1]}]}',
            "",
        ),
        (b"main;work -3\n", ""),
    ],
)
def test_find_bottleneck_bad_profiles_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "p.prof"
    path.write_bytes(content)
    code, out, err = run(capsys, "find-bottleneck", "--profile", str(path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and str(path) in err


def test_optimize_concurrency_seed_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "optimize-concurrency",
        "--workload-type",
        "io",
        "--current-thread-pool",
        "10",
        "--cpu-cores",
        "8",
        "--wait-time",
        "100ms",
        "--compute-time",
        "10ms",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out)["analysis"]["pools"][0]["threads"] == 88


def test_optimize_concurrency_without_cores_sizes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the cores of the system advised, never the machine tpx runs on
    code, out, err = run(
        capsys, "optimize-concurrency", "--workload-type", "io", "--current-thread-pool", "10"
    )
    assert (code, out) == (2, "")
    assert err == (
        "--cpu-cores: needed to size a pool (the cores of the system advised; tpx does not "
        "assume the machine it runs on)\n"
    )


def test_design_batching_bad_dsn_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "design-batching",
        "--operation",
        "database-insert",
        "--target-throughput",
        "1000",
        "--measure",
        "postgresql://u:s3cret@127.0.0.1:1/x",
    )
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "s3cret" not in err


def test_design_batching_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "design-batching",
        "--operation",
        "database-insert",
        "--current-latency",
        "5ms",
        "--target-throughput",
        "10000",
        "--format",
        "text",
    )
    assert code == 0
    assert "Batching design: database-insert" in out


def test_demo_scaling_plan_is_the_real_command(capsys: pytest.CaptureFixture[str]) -> None:
    example = ROOT / "src" / "throughput_expert" / "examples" / "three-tier.yaml"
    code_demo, demo, _ = run(capsys, "demo", "scaling-plan", "--format", "text")
    code, plan, _ = run(
        capsys,
        "scaling-plan",
        "--target-rps",
        "6000",
        "--current-architecture",
        str(example),
        "--format",
        "text",
    )
    assert code_demo == code == 0
    assert demo == plan
    assert "saturates first" in " ".join(demo.split())  # words, across the wrapped lines


PEAKY = """
import threading, time

_lock, _guard, _in_flight = threading.Lock(), threading.Lock(), [0]


def work():
    with _guard:
        _in_flight[0] += 1
    try:
        time.sleep(0.020)
        with _lock:
            time.sleep(0.001 + 0.0005 * _in_flight[0])
    finally:
        with _guard:
            _in_flight[0] -= 1
"""


def test_sweep_auto_finds_a_peak_from_the_current_directory(tmp_path: Path) -> None:
    # A module in the working directory, found as `python -m` would. 20 ms parallel, a lock held
    # 1 ms + 0.5 ms per call in flight: n·(B + K·n) = P + B + K·n gives n* = 6.5 (X* ≈ 238/s).
    (tmp_path / "peaky.py").write_text(PEAKY)
    argv = ["sweep", "--callable", "peaky:work", "--concurrency", "auto", "--max-levels", "7"]
    argv += ["--duration", "0.6s", "--warmup", "0.1s", "--save", "levels.json"]
    proc = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    a = json.loads(proc.stdout)["analysis"]
    assert {1, 3, 9, 27} < {lv["level"] for lv in a["levels"]}  # the climb, then the fifth
    assert 4 <= a["measured_peak"]["level"] <= 9, a["levels"]
    assert "the search stopped at max_levels 7" in a["notes"]
    assert "level 7/7" in proc.stderr  # progress, off a terminal as plain lines
    assert (tmp_path / "levels.json").exists()


def test_max_levels_without_auto_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "sweep", "--command", "true", "--concurrency", "1,2", "--max-levels", "3"
    )
    assert (code, out) == (2, "")
    assert err == "--max-levels: goes with --concurrency auto only\n"
    code, out, err = run(capsys, "sweep", "--command", "true", "--concurrency", "sometimes")
    assert (code, out) == (2, "")
    assert err.startswith('--concurrency: expected "auto" or whole numbers')
