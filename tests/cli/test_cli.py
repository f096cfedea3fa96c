"""The command line, in-process (fast) and once by subprocess (as a user runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from throughput_expert.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "throughput_expert" / "examples" / "message-consumer.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


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
        (["analyze"], "tpx analyze: the following arguments are required: --metrics"),
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
