"""Batch trials against a real PostgreSQL (scripts/services) and SQLite files in tmp_path."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from throughput_expert.errors import InputError, MeasurementError
from throughput_expert.measure.batch_trials import PG_SETTINGS, _Run, _spread, run_batch_trials
from throughput_expert.model.trials import BatchTrial, BatchTrials

# 5 repetitions: a median (and a minimum) that one or two scheduling spikes cannot move.
SMALL = {"sizes": (1, 10, 100), "repetitions": 5, "time_budget_s": 8.0}
PG_METHODS = ["single", "executemany", "multirow", "copy"]
SECRET = "hunter2-not-a-real-password"

# Every ordinary or partitioned table the server knows, temporary ones included, and every schema.
TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
    UNION ALL SELECT nspname, '' FROM pg_namespace
"""
# The trial's own tables while it runs: schema, name, persistence ('p' regular, 't' temporary).
TRIAL_TABLES = """
    SELECT n.nspname, c.relname, c.relpersistence FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND c.relname LIKE 'tpx\\_batch\\_trial\\_%'
"""


def pg_tables(dsn: str) -> set[tuple[str, str]]:
    """Every table (schema, name) and every schema (schema, '')."""
    with psycopg.connect(dsn) as conn:
        return {(schema, name) for schema, name in conn.execute(TABLES).fetchall()}


def pg_trial_tables(dsn: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(dsn) as conn:
        return [(s, n, p) for s, n, p in conn.execute(TRIAL_TABLES).fetchall()]


def sqlite_file(tmp_path: Path) -> tuple[str, Path]:
    """A database file holding a table ``keep`` of three rows; its DSN and path."""
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE keep (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO keep (name) VALUES (?)", [("a",), ("b",), ("c",)])
    conn.close()
    return f"sqlite:///{path}", path


def sqlite_state(path: Path) -> tuple[list[str], list[tuple[int, str]]]:
    conn = sqlite3.connect(path)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master ORDER BY name")]
        return names, conn.execute("SELECT id, name FROM keep ORDER BY id").fetchall()
    finally:
        conn.close()


def medians(trials: list[BatchTrial]) -> dict[int, float]:
    return {t.batch_size: statistics.median(t.latencies_s) for t in trials}


def assert_batching_shape(result: BatchTrials, methods: list[str]) -> None:
    """Every method measured at every size; bigger batches cost more each, less per row.

    Compared on each size's fastest repetition: the least disturbed by other work on the machine.
    """
    grouped = result.by_method()
    assert list(grouped) == methods
    for method, trials in grouped.items():
        assert [t.batch_size for t in trials] == [1, 10, 100], method
        # 5 each at least, more while a block inserts back to back for its share of the budget
        # and in the rounds where the runs spread widely (refine(): said in the notes)
        assert all(len(t.latencies_s) >= 5 and min(t.latencies_s) > 0 for t in trials), method
        # Robust under load (other work on a shared machine moves single runs by a millisecond):
        # per row, a batch of 100 costs far less than a batch of 1, whatever the noise -- except
        # 100 separate statements over a socket: each pays its round trip (30 us to 120 us
        # here), one commit costs from about one round trip to ten (the disk's flush), so all
        # that holds is: more than one statement, and per row less than a statement and a commit.
        by_size = {t.batch_size: min(t.latencies_s) for t in trials}
        if method == "single" and result.dialect == "postgresql":  # SQLite: no round trips
            assert by_size[1] < by_size[100], method
            assert by_size[100] / 100 < by_size[1], method
        else:
            assert by_size[100] / 100 < by_size[1] / 3, method


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def interrupting_clock(after_calls: int) -> Callable[[], float]:
    """``time.perf_counter`` that raises KeyboardInterrupt once, on call ``after_calls``."""
    calls = 0

    def clock() -> float:
        nonlocal calls
        calls += 1
        if calls == after_calls:
            raise KeyboardInterrupt
        return time.perf_counter()

    return clock


# --- PostgreSQL ---------------------------------------------------------------------------------


SEEN_DURING_RUN: list[list[tuple[str, str, str]]] = []


@pytest.fixture(scope="module")
def pg_run(postgres_dsn: str) -> tuple[BatchTrials, set[tuple[str, str]], set[tuple[str, str]]]:
    before = pg_tables(postgres_dsn)

    def progress(message: str) -> None:
        if not SEEN_DURING_RUN:  # once: the trial's table as another session sees it
            SEEN_DURING_RUN.append(pg_trial_tables(postgres_dsn))

    result = run_batch_trials(postgres_dsn, **SMALL, on_progress=progress)  # type: ignore[arg-type]
    return result, before, pg_tables(postgres_dsn)


@pytest.mark.service
def test_postgres_every_method_measured_with_the_batching_shape(
    pg_run: tuple[BatchTrials, set[tuple[str, str]], set[tuple[str, str]]], postgres_dsn: str
) -> None:
    result = pg_run[0]
    assert (result.dialect, result.target, result.interrupted) == (
        "postgresql",
        postgres_dsn,
        False,
    )
    assert result.row_bytes == 116
    assert 0 < result.duration_s < 8.0
    assert_batching_shape(result, PG_METHODS)
    assert not any("budget" in note for note in result.notes)


@pytest.mark.service
def test_postgres_trial_table_is_regular_in_its_own_schema_dropped_with_it(
    pg_run: tuple[BatchTrials, set[tuple[str, str]], set[tuple[str, str]]],
) -> None:
    result, before, after = pg_run
    ((schema, name, persistence),) = SEEN_DURING_RUN[0]
    # a regular (WAL-logged) table: its commits pay the WAL flush, unlike a TEMPORARY one's
    assert (schema, persistence) == (name, "p")
    assert name.startswith("tpx_batch_trial_")
    assert any(
        f'regular (WAL-logged) table in the scratch schema "{name}"' in n for n in result.notes
    )
    assert not any("TEMPORARY" in note for note in result.notes)
    # the table and its schema are gone, nothing else was created or dropped
    assert after == before
    assert not [s for s, _ in after if s.startswith("tpx_batch_trial_")]


@pytest.mark.service
def test_postgres_commit_settings_are_read_and_reported(
    pg_run: tuple[BatchTrials, set[tuple[str, str]], set[tuple[str, str]]], postgres_dsn: str
) -> None:
    result = pg_run[0]
    assert [name for name, _ in result.settings] == list(PG_SETTINGS)
    with psycopg.connect(postgres_dsn) as conn:
        for name, value in result.settings:
            (setting,) = conn.execute(
                "SELECT setting || coalesce(unit, '') FROM pg_settings WHERE name = %s", [name]
            ).fetchone() or ("?",)
            assert value == setting, name
    said = ", ".join(f"{name} = {value}" for name, value in result.settings)
    assert any(note.startswith(f"server settings: {said} (") for note in result.notes)


@pytest.mark.service
def test_postgres_schema_dropped_over_a_new_connection_when_the_trial_loses_its_own(
    postgres_dsn: str,
) -> None:
    before = pg_tables(postgres_dsn)

    def progress(message: str) -> None:  # the server ends the trial's session mid-run
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'tpx-batch-trials'"
            )

    with pytest.raises(MeasurementError, match="the database failed"):
        run_batch_trials(postgres_dsn, **SMALL, on_progress=progress)  # type: ignore[arg-type]
    assert pg_tables(postgres_dsn) == before


@pytest.mark.service
def test_postgres_copy_costs_less_per_row_than_single_inserts(
    pg_run: tuple[BatchTrials, set[tuple[str, str]], set[tuple[str, str]]],
) -> None:
    # The slope between the fastest runs at b = 1 and b = 100: copy's rows cost so little that
    # the commit's jitter on a durable table can bend a line fit to its medians (R² < 0.9).
    grouped = pg_run[0].by_method()

    def per_row(trials: list[BatchTrial]) -> float:
        fastest = {t.batch_size: min(t.latencies_s) for t in trials}
        return (fastest[100] - fastest[1]) / 99

    assert per_row(grouped["copy"]) < per_row(grouped["single"]) / 2


@pytest.mark.service
def test_postgres_password_never_reaches_the_target(postgres_dsn: str) -> None:
    # Trust auth ignores the password, so the run succeeds and we can see what it reports.
    with_password = postgres_dsn.replace("tpx-pg@", f"tpx-pg:{SECRET}@", 1)
    assert SECRET in with_password
    result = run_batch_trials(
        with_password, sizes=(1, 2), methods=("copy",), repetitions=1, time_budget_s=5
    )
    assert result.target == postgres_dsn.replace("tpx-pg@", "tpx-pg:***@", 1)
    assert SECRET not in repr(result)


@pytest.mark.service
def test_postgres_budget_of_one_second_stops_early_with_a_note(postgres_dsn: str) -> None:
    before = pg_tables(postgres_dsn)
    result = run_batch_trials(postgres_dsn, repetitions=30, time_budget_s=1.0)
    assert result.duration_s < 1.5
    assert any(note.startswith("time budget 1 s:") for note in result.notes), result.notes
    assert result.trials  # the small sizes were measured
    assert pg_tables(postgres_dsn) == before


@pytest.mark.service
def test_postgres_interrupt_is_raised_again_after_dropping_the_table(
    postgres_dsn: str,
) -> None:
    before = pg_tables(postgres_dsn)
    with pytest.raises(KeyboardInterrupt):
        run_batch_trials(postgres_dsn, **SMALL, clock=interrupting_clock(40))  # type: ignore[arg-type]
    assert pg_tables(postgres_dsn) == before


@pytest.mark.service
def test_postgres_interrupt_kept_returns_what_was_measured_and_drops_the_table(
    postgres_dsn: str,
) -> None:
    before = pg_tables(postgres_dsn)
    seen: list[str] = []

    def progress(message: str) -> None:  # Ctrl-C once three blocks are measured
        seen.append(message)
        if len(seen) == 3:
            raise KeyboardInterrupt

    result = run_batch_trials(
        postgres_dsn,
        **SMALL,  # type: ignore[arg-type]
        on_progress=progress,
        keep_on_interrupt=True,
    )
    assert result.interrupted
    assert len(result.trials) == 3
    assert any("interrupted" in note for note in result.notes)
    assert pg_tables(postgres_dsn) == before


# --- SQLite -------------------------------------------------------------------------------------


def test_sqlite_file_measured_table_dropped_other_tables_intact(tmp_path: Path) -> None:
    dsn, path = sqlite_file(tmp_path)
    before = sqlite_state(path)
    result = run_batch_trials(dsn, **SMALL)  # type: ignore[arg-type]
    assert (result.dialect, result.target, result.interrupted) == ("sqlite", dsn, False)
    assert_batching_shape(result, ["single", "executemany", "multirow"])
    assert "not measured: copy (SQLite has no COPY)" in result.notes
    assert sqlite_state(path) == before
    # a file database in its default journal: each commit fsyncs, nothing to warn about
    assert result.settings == (("journal_mode", "delete"), ("synchronous", "full"))
    assert not any("do not wait for fsync" in note for note in result.notes)


def test_sqlite_in_memory(tmp_path: Path) -> None:
    result = run_batch_trials(
        "sqlite:///:memory:", sizes=(1, 100), methods=("multirow",), time_budget_s=2.0
    )
    assert [t.batch_size for t in result.trials] == [1, 100]


def test_sqlite_budget_stops_early_with_a_note_by_a_fake_clock() -> None:
    ticks = iter(range(10**6))  # each reading of the clock is 10 ms later
    result = run_batch_trials(
        "sqlite:///:memory:", time_budget_s=1.0, clock=lambda: next(ticks) * 0.01
    )
    assert result.duration_s <= 1.0
    assert any(note.startswith("time budget 1 s: skipped") for note in result.notes)
    assert 0 < len(result.trials) < 18


def test_sqlite_interrupt_from_progress_drops_the_table(tmp_path: Path) -> None:
    dsn, path = sqlite_file(tmp_path)
    before = sqlite_state(path)
    seen: list[str] = []

    def progress(message: str) -> None:
        seen.append(message)
        if len(seen) == 2:
            raise KeyboardInterrupt

    result = run_batch_trials(dsn, **SMALL, on_progress=progress, keep_on_interrupt=True)  # type: ignore[arg-type]
    assert result.interrupted
    assert len(result.trials) == 2
    assert sqlite_state(path) == before
    seen.clear()
    with pytest.raises(KeyboardInterrupt):  # by default, raised again once the table is dropped
        run_batch_trials(dsn, **SMALL, on_progress=progress)  # type: ignore[arg-type]
    assert sqlite_state(path) == before


@pytest.mark.parametrize("form", ["sqlite:///{path}", "{path}"])
def test_a_missing_sqlite_file_is_a_scratch_database_removed_after(
    tmp_path: Path, form: str
) -> None:
    """sqlite:///new.db (or a plain path to a .db file) that does not exist: the trial creates it,
    measures, and removes it and its journal; the notes say so. A folder that does not exist is
    one line."""
    path = tmp_path / "new.db"
    trials = run_batch_trials(
        form.format(path=path), sizes=(1, 10), repetitions=3, time_budget_s=2.0
    )
    assert trials.trials and not path.exists()
    assert not list(tmp_path.iterdir())  # no -journal or -wal left either
    assert any("scratch database" in n for n in trials.notes)
    with pytest.raises(MeasurementError, match="no folder"):
        run_batch_trials(f"sqlite:///{tmp_path / 'nope' / 'x.db'}")


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://tpx:{SECRET}@127.0.0.1:{{port}}/tpx",
        f"postgres://tpx@127.0.0.1:{{port}}/tpx?password={SECRET}&sslmode=disable",
    ],
)
def test_unreachable_server_is_a_measurement_error_without_the_password(dsn: str) -> None:
    dsn = dsn.format(port=closed_port())
    with pytest.raises(MeasurementError) as caught:
        run_batch_trials(dsn, time_budget_s=2)
    message = str(caught.value)
    assert "cannot connect" in message
    assert "\n" not in message
    assert SECRET not in message
    assert SECRET not in caught.value.source


@pytest.mark.parametrize(
    "dsn",
    [
        f"mysql://root:{SECRET}@127.0.0.1/db",
        f"root:{SECRET}@127.0.0.1/db",
        f"host=127.0.0.1 password={SECRET}",
        "sqlite://relative.db",
        "sqlite:///",
        "",
    ],
)
def test_malformed_dsn_is_an_input_error_without_the_password(dsn: str) -> None:
    with pytest.raises(InputError) as caught:
        run_batch_trials(dsn)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sizes": ()}, "sizes"),
        ({"sizes": (0, 10)}, "sizes"),
        ({"methods": ("bulk",)}, "methods"),
        ({"time_budget_s": 0}, "time_budget_s"),
        ({"repetitions": 0}, "repetitions"),
    ],
)
def test_bad_arguments_are_input_errors(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        run_batch_trials("sqlite:///:memory:", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


# --- more rounds where the runs spread (a scripted clock and backend, no database) ---------------


class ScriptedBackend:
    """Each job advances the fake clock by 1 ms + 0.01 ms per row; the first four runs of 10 rows
    by ``multirow`` (the warm-up at b = 1 and three timed at b = 10) take half as long again
    (another process held the CPU)."""

    errors = ()

    def __init__(self) -> None:
        self.now = 0.0
        self.runs: dict[tuple[str, int], int] = {}
        self.resets = 0

    def clock(self) -> float:
        return self.now

    def prepare(self, method: str, rows: object) -> Callable[[], None]:
        size = len(rows)  # type: ignore[arg-type]

        def job() -> None:
            n = self.runs[(method, size)] = self.runs.get((method, size), 0) + 1
            slow = 1.5 if (method, size) == ("multirow", 10) and n <= 4 else 1.0
            self.now += slow * (0.001 + 0.00001 * size)

        return job

    def supports(self, method: str, size: int) -> str | None:
        return None

    def reset(self) -> None:
        self.resets += 1


def scripted_run(backend: ScriptedBackend, budget_after_first_pass_s: float) -> _Run:
    rows = [(i, "x", None) for i in range(100)]
    run = _Run(backend.clock, 10.0, 5, None, rows)  # type: ignore[arg-type]
    run.sizes(backend, [1, 10, 100], ["single", "multirow"])  # type: ignore[arg-type]
    run.deadline = backend.now + budget_after_first_pass_s
    run.refine(backend, [1, 10, 100], ["single", "multirow"])  # type: ignore[arg-type]
    return run


def test_a_block_whose_runs_spread_gets_another_round() -> None:
    backend = ScriptedBackend()
    run = scripted_run(backend, 5.0)
    counts = {key: len(t) for key, t in run.latencies.items()}
    # 3 of 5 slow: median 15 % above the fastest → 5 more at every size of multirow (equal
    # counts keep its sizes comparable), then 3 of 10 slow: median = fastest
    assert [counts[("multirow", b)] for b in (1, 10, 100)] == [10, 10, 10]
    assert [counts[("single", b)] for b in (1, 10, 100)] == [5, 5, 5]
    assert run.medians["multirow"][10] == pytest.approx(0.0011)
    assert any("15 for multirow more repetitions" in n for n in run.notes(10.0, [1, 10, 100]))


def test_no_round_without_budget() -> None:
    backend = ScriptedBackend()
    # 0.5 ms left after the first pass: not one more run of 1.1 ms fits
    run = scripted_run(backend, 0.0005)
    assert {len(t) for t in run.latencies.values()} == {5}
    assert not any("more repetitions" in n for n in run.notes(0.038, [1, 10, 100]))


def test_spread_is_the_median_above_the_fastest() -> None:
    assert _spread([1.0, 1.0, 1.0]) == 0.0
    assert _spread([1.0, 2.0, 2.0]) == pytest.approx(0.5)
    assert _spread([0.0, 0.0]) == 0.0


def test_a_block_inserts_back_to_back_for_its_share_and_its_times_add_up_to_the_wall() -> None:
    backend = ScriptedBackend()
    rows = [(i, "x", None) for i in range(100)]
    run = _Run(backend.clock, 10.0, 5, None, rows, block_s=0.020)  # type: ignore[arg-type]
    run.sizes(backend, [1, 10], ["multirow"])  # type: ignore[arg-type]
    # the warm-up (10 rows) runs for the block's time too: 4 disturbed runs of 1.65 ms, then
    # 13 of 1.1 ms (20.9 ms); b = 1 then takes 20 runs of 1.01 ms (20.2 ms) where 5 were asked,
    # b = 10 19 runs of 1.1 ms (20.9 ms)
    assert backend.runs == {("multirow", 10): 17 + 19, ("multirow", 1): 20}
    assert [len(run.latencies[("multirow", b)]) for b in (1, 10)] == [20, 19]
    # each run timed from the end of the one before: the times add up to the block's wall time
    assert sum(run.latencies[("multirow", 10)]) == pytest.approx(19 * 0.0011)
    assert backend.now == pytest.approx(0.0209 + 0.0202 + 0.0209)


def test_a_block_stops_at_the_deadline_whatever_its_share() -> None:
    backend = ScriptedBackend()
    rows = [(i, "x", None) for i in range(100)]
    run = _Run(backend.clock, 0.030, 5, None, rows, block_s=1.0)  # type: ignore[arg-type]
    run.sizes(backend, [1, 10], ["single"])  # type: ignore[arg-type]
    # warm-up 1.1 ms a run up to the deadline (26 runs, 28.6 ms), then what still fits
    assert backend.now <= 0.030 + 0.0011
    assert backend.runs[("single", 10)] >= 26
    assert "fewer repetitions" in " ".join(run.notes(0.03, [1, 10]))


@pytest.mark.service
def test_postgres_without_create_a_temporary_table_whose_commits_still_write_wal(
    postgres_dsn: str,
) -> None:
    """A role that may not create a schema gets a TEMPORARY table; each batch also writes a
    transactional logical message, so each commit has WAL to flush and waits for it."""
    role = f"tpx_no_create_{os.getpid()}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        dsn = re.sub(r"//[^@/]*@", f"//{role}@", postgres_dsn, count=1)
        seen: list[list[tuple[str, str, str]]] = []

        def progress(message: str) -> None:
            seen.append(pg_trial_tables(postgres_dsn))

        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            (records_before,) = conn.execute("SELECT wal_records FROM pg_stat_wal").fetchone()
            result = run_batch_trials(
                dsn, sizes=(1, 10), methods=("copy",), time_budget_s=3, on_progress=progress
            )
            (records_after,) = conn.execute("SELECT wal_records FROM pg_stat_wal").fetchone()
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{role}"')
    assert any(
        "TEMPORARY table instead" in n and "pg_logical_emit_message" in n for n in result.notes
    )
    assert not any("lower bound" in n for n in result.notes)
    assert any(persistence == "t" for tables in seen for _, _, persistence in tables)
    batches = sum(len(t.latencies_s) for t in result.trials)
    assert records_after - records_before >= batches  # one message (at least) per commit
