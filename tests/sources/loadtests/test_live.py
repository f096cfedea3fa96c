"""Real output from the load tools installable here (wrk, Locust), recorded against a local server.

Small recordings of the same commands are kept under ``fixtures/`` (``wrk-4.1.0-c4.txt``,
``locust-2.47.0_stats*.csv``) and checked in ``test_fixtures.py`` without the tools.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from throughput_expert.errors import InputError
from throughput_expert.sources.loadtests import import_results

from .conftest import FIXTURES, need_tool

LOCUSTFILE = """
from locust import HttpUser, LoadTestShape, constant, task


class Web(HttpUser):
    wait_time = constant(0.01)

    @task
    def home(self):
        self.client.get("/")


class Steps(LoadTestShape):
    def tick(self):
        t = self.get_run_time()
        if t < 3.2:
            return (2, 100)
        if t < 6.4:
            return (4, 100)
        return None
"""
THINK_S = 0.01
ARGS = ["--csv", "run", "--csv-full-history", "--only-summary", "--loglevel", "WARNING"]


def test_wrk_output_imports_at_its_connections(http_url: str, tmp_path: Path) -> None:
    wrk = need_tool("wrk", "apt-get install -y wrk")
    out = subprocess.run(
        [wrk, "-t1", "-c4", "-d2s", "--latency", f"{http_url}/"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    path = tmp_path / "wrk.txt"
    path.write_text(out)
    sweep = import_results([path])
    printed = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]
    (level,) = sweep.levels
    assert (level.level, sweep.mode, sweep.closed_loop_percentiles) == (4, "closed", True)
    assert level.throughput_rps == pytest.approx(printed, rel=1e-6)
    assert level.requests is not None and level.duration_s is not None
    assert level.requests / level.duration_s == pytest.approx(printed, rel=0.05)
    assert level.latency.p50_s is not None and level.latency.p50_s <= level.latency.p99_s  # type: ignore[operator]
    assert sweep.target == f"{http_url}/"


def _run_locust(url: str, tmp_path: Path) -> str:
    if importlib.util.find_spec("locust") is None:
        message = "locust is not installed (pip install locust)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    (tmp_path / "locustfile.py").write_text(LOCUSTFILE)
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "locustfile.py", "--headless", "--host", url, *ARGS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def test_locust_history_gives_one_level_per_user_step(http_url: str, tmp_path: Path) -> None:
    console = _run_locust(http_url, tmp_path)
    steps = import_results([tmp_path / "run_stats_history.csv"])
    assert [lv.level for lv in steps.levels] == [2, 4]
    for lv in steps.levels:
        # Little's law for a closed loop: X = N / (R + Z), with the step's own mean R.
        assert lv.latency.mean_s is not None
        expected = lv.level / (lv.latency.mean_s + THINK_S)
        assert lv.throughput_rps == pytest.approx(expected, rel=0.4)
    assert steps.levels[1].throughput_rps > 1.3 * steps.levels[0].throughput_rps

    whole = import_results([tmp_path / "run_stats.csv"])
    (level,) = whole.levels
    aggregated = re.findall(r"Aggregated\s+(\d+)\s+\d+\([\d.]+%\)\s*\|.*\|\s*([\d.]+)\s", console)
    printed_rps = float(aggregated[0][1])
    # The CSV lags the console summary by up to ~1 s of a ~6.4 s run (docs/formats.md §3.3).
    assert level.throughput_rps == pytest.approx(printed_rps, rel=0.2)
    assert any("user counts 2, 4" in note for note in whole.notes)


def test_wrk_against_a_failing_server_gives_no_latency_and_no_throughput(tmp_path: Path) -> None:
    """wrk live against fixtures/flaky_server.py: answers slower than --timeout, and 49 % 500s."""
    import socket

    wrk = need_tool("wrk", "apt-get install -y wrk")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(FIXTURES / "flaky_server.py"), str(port)])
    try:
        _wait_for(port)
        runs = {}
        for name, args, path in [
            ("late.txt", ["-d2s", "--timeout", "1"], "/late/100/1500"),
            ("fail.txt", ["-d1s"], "/fail/49"),
        ]:
            out = subprocess.run(
                [wrk, "-t1", "-c2", *args, f"http://127.0.0.1:{port}{path}"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout
            (tmp_path / name).write_text(out)
            runs[name] = out
    finally:
        server.terminate()
        server.wait(10)
    if not re.search(r"^\s*0 requests in", runs["late.txt"], re.M):  # answered after 1 s
        late = import_results([tmp_path / "late.txt"], error_threshold=1.0)
        assert late.levels[0].latency.known() == {}
    with pytest.raises(InputError, match="every level failed"):
        import_results([tmp_path / "late.txt"])
    with pytest.raises(InputError, match=r"requests failed \(49%\), above the error threshold"):
        import_results([tmp_path / "fail.txt"])
    with pytest.raises(InputError, match="different targets"):
        import_results([tmp_path / "late.txt", tmp_path / "fail.txt"], error_threshold=1.0)


def _wait_for(port: int) -> None:
    import socket
    import time

    for _ in range(50):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("flaky_server.py did not start")
