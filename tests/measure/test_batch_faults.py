"""Faults during `tpx design-batching --measure` against the real PostgreSQL (scripts/services),
each through the real command in a subprocess: a server that refuses the connection, the trial's
session killed by the server mid-trial, SIGINT and SIGTERM mid-trial. Each ends in one error line
(after the progress lines a trial prints), exit 2 or 128 + the signal, no report written, and the
trial's scratch schema dropped (seen from a separate connection)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg
import pytest
from tests.support import TPX, as_from_a_terminal, only_line, run_captured

# A long budget: the faults land mid-trial, well before the trial would end by itself.
DESIGN = [
    "design-batching",
    "--operation",
    "database-insert",
    "--target-throughput",
    "50000",
    "--measure-budget",
    "60s",
    "--format",
    "json",
]
PROGRESS = re.compile(r"tpx: \w+ b=\d+: \d+ x mean [\d.e+-]+ ms")
SCHEMAS = r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tpx\_batch\_trial\_%'"
# The scratch schema of the table a backend is inserting into (it holds a lock on it mid-batch).
LOCKED = r"""
    SELECT DISTINCT n.nspname FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE l.pid = %s AND n.nspname LIKE 'tpx\_batch\_trial\_%%'
"""


def error_line(stderr: str) -> str:
    """The one line on stderr that is not a trial's progress; fails on a traceback."""
    assert "Traceback" not in stderr, stderr
    others = [line for line in stderr.splitlines() if not PROGRESS.fullmatch(line)]
    assert len(others) == 1, stderr
    return others[0]


def design(dsn: str, output: Path) -> subprocess.CompletedProcess[str]:
    return run_captured([*TPX, *DESIGN, "--measure", dsn, "--output", str(output)])


def schemas(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {name for (name,) in conn.execute(SCHEMAS).fetchall()}


@contextmanager
def tpx_measuring(dsn: str, output: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [*TPX, *DESIGN, "--measure", dsn, "--output", str(output)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_from_a_terminal,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def trial_backend(dsn: str, proc: subprocess.Popen[str], timeout_s: float = 30) -> tuple[int, str]:
    """The server process serving ``proc``'s trial (found by the client's own port, not by the
    application name other trials share) and the scratch schema it inserts into, once it does."""
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            ports = [
                c.laddr.port
                for c in psutil.Process(proc.pid).net_connections(kind="tcp")
                if c.status == psutil.CONN_ESTABLISHED
            ]
            pids = [
                pid
                for (pid,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s)", [ports]
                ).fetchall()
            ]
            for pid in pids:
                locked = conn.execute(LOCKED, [pid]).fetchall()
                if locked:
                    return pid, locked[0][0]
            time.sleep(0.02)
    raise AssertionError("the trial never inserted into a scratch schema")


def test_a_port_where_nothing_listens_is_one_line_exit_2(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: the connection is refused
        out = tmp_path / "report.json"
        run = design(f"postgresql://tpx@127.0.0.1:{port}/tpx", out)
    assert run.returncode == 2, run.stderr
    line = only_line(run.stderr)
    assert line.startswith(f"postgresql://tpx@127.0.0.1:{port}/tpx: cannot connect: ")
    assert "Connection refused" in line
    assert not out.exists()


def test_a_server_that_hangs_up_at_once_is_one_line_exit_2(tmp_path: Path) -> None:
    # A listener that accepts each connection and closes it before the startup packet is
    # answered: what a server past max_connections or shutting down looks like to libpq.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def hang_up() -> None:
            try:
                while True:
                    conn, _ = server.accept()
                    conn.close()
            except OSError:
                return  # the listener was closed: the test is over

        threading.Thread(target=hang_up, daemon=True).start()
        out = tmp_path / "report.json"
        run = design(f"postgresql://tpx@127.0.0.1:{port}/tpx", out)
    assert run.returncode == 2, run.stderr
    assert "cannot connect: " in only_line(run.stderr)
    assert not out.exists()


@pytest.mark.service
def test_a_database_that_refuses_the_role_is_one_line_exit_2(
    postgres_dsn: str, tmp_path: Path
) -> None:
    dsn = re.sub(r"//[^@/]*@", "//tpx-no-such-role@", postgres_dsn, count=1)
    out = tmp_path / "report.json"
    run = design(dsn, out)
    assert run.returncode == 2, run.stderr
    assert 'role "tpx-no-such-role" does not exist' in only_line(run.stderr)
    assert not out.exists()


@pytest.mark.service
def test_the_session_killed_mid_trial_is_one_line_exit_2_and_the_schema_dropped(
    postgres_dsn: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    with tpx_measuring(postgres_dsn, out) as proc:
        pid, schema = trial_backend(postgres_dsn, proc)
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr
    line = error_line(stderr)
    assert line.startswith(f"{postgres_dsn}: the database failed: "), line
    assert schema not in schemas(postgres_dsn)  # dropped over a new connection
    assert not out.exists()


@pytest.mark.service
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_trial_exits_128_plus_it_with_the_schema_dropped(
    postgres_dsn: str, tmp_path: Path, signum: signal.Signals
) -> None:
    out = tmp_path / "report.json"
    with tpx_measuring(postgres_dsn, out) as proc:
        _, schema = trial_backend(postgres_dsn, proc)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, stderr
    assert error_line(stderr) == f"tpx: interrupted by {signum.name}"
    assert stdout == ""
    assert not out.exists()
    assert schema not in schemas(postgres_dsn)


@pytest.mark.service
def test_a_schema_that_cannot_be_dropped_is_named_with_the_statement_to_drop_it(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the trial's session and then refuses new ones: the error says which
    scratch schema is left and how to drop it (here the test drops it afterwards)."""
    from throughput_expert.errors import MeasurementError
    from throughput_expert.measure import batch_trials

    real_connect = psycopg.connect
    # a prefix of this test's own, so other trials running on the server are never confused
    prefix = f"tpx_batch_trial_{os.getpid()}_"
    monkeypatch.setattr(batch_trials, "_TABLE_PREFIX", prefix)
    left: list[str] = []

    def refused(*args: object, **kwargs: object) -> psycopg.Connection[tuple[object, ...]]:
        raise psycopg.OperationalError("connection refused (the test's stand-in)")

    def progress(message: str) -> None:  # once the trial runs: end its session, refuse new ones
        if left:
            return
        ports = [c.laddr.port for c in psutil.Process().net_connections(kind="tcp")]
        with real_connect(postgres_dsn, autocommit=True) as conn:
            (pid,) = conn.execute(  # the trial's session: this process's other connection
                "SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s) "
                "AND pid <> pg_backend_pid()",
                [ports],
            ).fetchone() or (None,)
            (schema,) = [s for s in schemas(postgres_dsn) if s.startswith(prefix)]
            left.append(schema)
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])
        monkeypatch.setattr(psycopg, "connect", refused)

    try:
        with pytest.raises(MeasurementError) as caught:
            batch_trials.run_batch_trials(
                postgres_dsn,
                sizes=(1, 10),
                methods=("copy",),
                time_budget_s=5,
                on_progress=progress,
            )
    finally:
        monkeypatch.undo()
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            for schema in left:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    (schema,) = left
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{postgres_dsn}: the database failed: ")
    assert f'could not drop the scratch schema "{schema}"' in message
    assert f'DROP SCHEMA "{schema}" CASCADE' in message
