"""`tpx sweep` as a real process: a signal mid-sweep keeps the finished levels and exits
128 + signum; a sweep whose first level fails ends in one line and exit 2."""

from __future__ import annotations

import json
import signal
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from tests.support import TPX, as_from_a_terminal, last_line, run_tpx, serve_http

WORKLOAD = (
    "import time\n\ndef work():\n    time.sleep(0.005)\n\ndef fail():\n    raise ValueError('no')\n"
)


def _workload(tmp_path: Path) -> None:
    (tmp_path / "tpx_signal_workload.py").write_text(WORKLOAD)


def _sweep_until(tmp_path: Path, marker: str, sig: signal.Signals) -> tuple[int, str, str]:
    """Run a 4-level sweep, send ``sig`` once stderr shows ``marker``; exit code, out, err."""
    proc = subprocess.Popen(
        [
            *TPX, "sweep", "--callable", "tpx_signal_workload:work",
            "--concurrency", "1,2,4,8", "--duration", "1s", "--warmup", "0s",
            "--format", "json", "--save", "sweep.json",
        ],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=as_from_a_terminal,
    )  # fmt: skip
    assert proc.stderr is not None and proc.stdout is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            proc.send_signal(sig)
            break
    out, rest = proc.communicate(timeout=60)
    return proc.returncode, out, "".join(seen) + rest


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_signal_mid_sweep_keeps_the_finished_levels(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    _workload(tmp_path)
    returncode, out, err = _sweep_until(tmp_path, "level 2/4: concurrency 2: started", sig)
    assert returncode == code, err
    assert last_line(err) == f"tpx: interrupted by {sig.name}"
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert [lv["level"] for lv in saved["levels"]] == [1]
    note = f"interrupted by {sig.name} after level 1: the levels finished before it are kept"
    assert note in saved["notes"]
    report = json.loads(out)  # the partial report is written as usual
    assert report["command"] == "sweep"


def test_a_signal_before_any_level_finished_saves_nothing(tmp_path: Path) -> None:
    _workload(tmp_path)
    returncode, _, err = _sweep_until(tmp_path, "level 1/4: concurrency 1: started", signal.SIGTERM)
    assert returncode == 143, err
    assert last_line(err) == "tpx: interrupted by SIGTERM"
    assert not (tmp_path / "sweep.json").exists()


def test_a_callable_failing_every_call_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _workload(tmp_path)
    run = run_tpx(
        "sweep", "--callable", "tpx_signal_workload:fail", "--concurrency", "1,2",
        "--duration", "0.2s", "--warmup", "0s", "--save", "sweep.json",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    line = last_line(run.stderr)
    assert line.startswith("sweep: no level finished: stopped at level 1 (concurrency 1): ")
    assert "operations failed (100%)" in line
    assert not (tmp_path / "sweep.json").exists()


class _Failing(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_target_answering_500_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with serve_http(_Failing) as url:
        run = run_tpx(
            "sweep", "--url", url + "/", "--concurrency", "auto", "--duration", "0.3s",
            "--warmup", "0s", cwd=tmp_path,
        )  # fmt: skip
    assert run.returncode == 2, run.stderr
    line = last_line(run.stderr)
    assert line.startswith("sweep: no level finished: stopped at level 1 (concurrency 1): ")
    assert "operations failed (100%)" in line
