"""Shared fixtures: real services the tests scrape (scripts/test starts them in CI)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

NODE_EXPORTER_BIN = Path("/usr/bin/prometheus-node-exporter")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """Poll ``url`` until it answers; fail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args!r} exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=1.0):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {timeout_s:g} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


Spawn = Callable[[Callable[[int], list[str]]], str]


def _start(command: Callable[[int], list[str]]) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``command(port)`` on a free loopback port; wait until its /metrics answers."""
    port = free_port()
    proc = subprocess.Popen(
        command(port),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_for_http(url, proc)
    except BaseException:
        stop(proc)
        raise
    return proc, url


@pytest.fixture
def spawn_http() -> Iterator[Spawn]:
    """Start HTTP servers (``command(port) -> argv``) for one test; returns their /metrics URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(command: Callable[[int], list[str]]) -> str:
        proc, url = _start(command)
        procs.append(proc)
        return url

    yield spawn
    for proc in procs:
        stop(proc)


@pytest.fixture(scope="session")
def node_exporter_url() -> Iterator[str]:
    """The ``/metrics`` URL of a node_exporter: ``TPX_NODE_EXPORTER_URL``, or one we start."""
    if url := os.environ.get("TPX_NODE_EXPORTER_URL"):
        yield url
        return
    if not NODE_EXPORTER_BIN.exists():
        message = f"{NODE_EXPORTER_BIN} is missing (apt-get install prometheus-node-exporter)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    proc, url = _start(
        lambda port: [str(NODE_EXPORTER_BIN), f"--web.listen-address=127.0.0.1:{port}"]
    )
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """The DSN of a throwaway PostgreSQL database: ``TPX_POSTGRES_DSN``, set by scripts/services."""
    if dsn := os.environ.get("TPX_POSTGRES_DSN"):
        return dsn
    message = "TPX_POSTGRES_DSN is not set (run the tests with scripts/test, which starts postgres)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _service_env(name: str, what: str) -> str:
    """A variable scripts/services exports; in CI a missing one fails, elsewhere it skips."""
    if value := os.environ.get(name):
        return value
    message = f"{name} is not set (run the tests with scripts/test, which starts {what})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def prometheus_url() -> str:
    """A Prometheus scraping node_exporter and the load service every 1 s: TPX_PROMETHEUS_URL."""
    return _service_env("TPX_PROMETHEUS_URL", "prometheus")


@pytest.fixture(scope="session")
def load_service_url() -> str:
    """The instrumented load service (tests/sources/fixtures/load_service.py): its base URL."""
    return _service_env("TPX_LOAD_SERVICE_URL", "the load service")
