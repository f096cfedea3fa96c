"""The databases the batch trials insert into: the DSN, and one backend per dialect.

A backend is one open connection with the trial table created (``Backend``): ``prepare`` returns
the timed job for a method and rows, ``reset`` empties the table between sizes, ``close`` drops it
and never raises. PostgreSQL goes through psycopg 3 (an optional extra, imported when used), SQLite
through the standard library.

No message or report ever carries the DSN's password: the ``target`` shown is the DSN masked by
``redact.redact_dsn`` (which also remembers the password for ``redact.scrub``), and every error
from the driver goes through ``Dsn.scrub``. A password holding a raw ``/`` or ``@`` is refused
(libpq would read a piece of it as the host, port or database, and echo that piece in its
errors): percent-encode it. Every wait on the server is bounded by the time budget: the
connection by ``connect_timeout`` (a fifth of the budget, or the DSN's own capped at the
budget), each statement by ``statement_timeout`` (the budget).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from throughput_expert.errors import InputError, MeasurementError, Parameter
from throughput_expert.model.trials import Dialect
from throughput_expert.redact import redact_dsn, scrub

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

__all__ = ["Backend", "Dsn", "Job", "Row", "open_backend", "parse_dsn"]

SOURCE = Parameter("measure")
_COLUMNS = "(id, payload, created)"
_PG_CREATE = "CREATE TEMPORARY TABLE {} (id bigint, payload text, created timestamptz)"

Row = tuple[int, str, datetime]
Job = Callable[[], None]


class Backend(Protocol):
    """One open database with the trial table created: what the runner needs of it."""

    dialect: Dialect
    errors: tuple[type[Exception], ...]
    notes: list[str]

    def create(self) -> None:
        """Create the trial table."""

    def supports(self, method: str, size: int) -> str | None:
        """None when ``method`` can insert ``size`` rows at once, else why not."""

    def prepare(self, method: str, rows: Sequence[Row]) -> Job:
        """A job that inserts ``rows`` with ``method`` and commits (the part that is timed)."""

    def reset(self) -> None:
        """Empty the trial table (between sizes)."""

    def close(self) -> None:
        """Drop the trial table and close the connection; never raises a database error."""


# --- the DSN ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dsn:
    dsn: str = field(repr=False)  # holds the password: never shown
    target: str  # the DSN with its password masked
    dialect: Dialect
    path: str = ""  # SQLite only

    def scrub(self, text: object) -> str:
        """``text`` on one line with every remembered secret (the DSN's password) masked."""
        return " ".join(scrub(str(text)).split())


def parse_dsn(dsn: str) -> Dsn:
    scheme, sep, rest = dsn.partition("://")
    # SQLAlchemy's forms: sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:
    if scheme.lower() == "sqlite" and rest.startswith("/") and len(rest) > 1:
        return Dsn(dsn=dsn, target=dsn, dialect="sqlite", path=rest[1:])
    # a plain path to a SQLite file (trial.db, /tmp/trial.sqlite3): only a path with a SQLite
    # extension and nothing a connection string holds (no @, =, : or space), so a malformed DSN
    # never reads as a file name (and its password is never echoed as one)
    if not sep and re.fullmatch(r"[\w./~+-]+\.(db|sqlite|sqlite3)", dsn):
        return Dsn(dsn=dsn, target=dsn, dialect="sqlite", path=os.path.expanduser(dsn))
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return _parse_postgres(dsn, rest)
    redact_dsn(dsn)  # remembers any password in it, for the lines that might echo it
    # Name the scheme only when it is one: a malformed DSN may hold a password anywhere.
    named = f"{scheme}://" if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else "this"
    raise InputError(
        f"cannot measure {named} DSN: expected postgresql://user@host:port/dbname, "
        "sqlite:///relative.db, sqlite:////absolute/path.db, sqlite:///:memory: or a path to a "
        ".db, .sqlite or .sqlite3 file",
        source=SOURCE,
        field="dsn",
    )


def _parse_postgres(dsn: str, rest: str) -> Dsn:
    # masks and remembers the password (as written and decoded) and secret-named query values
    target = redact_dsn(dsn)
    userinfo = rest.rpartition("@")[0]
    # libpq reads the user info up to the first '@' or '/'; tpx masks up to the last '@'. Where
    # the two differ, libpq would take a piece of the password for the host, port or database.
    libpq = re.match(r"[^@/]*@", rest)
    if ":" in userinfo and (libpq is None or libpq.group(0)[:-1] != userinfo):
        raise InputError(
            "cannot tell where the password ends: percent-encode '/' as %2F and '@' as %40 in "
            "it (and '@' anywhere after the host)",
            source=SOURCE,
            field="dsn",
        )
    return Dsn(dsn=dsn, target=target, dialect="postgresql")


# --- PostgreSQL (psycopg 3) ---------------------------------------------------------------------


class _Postgres:
    dialect: Dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[TupleRow], table: str) -> None:
        import psycopg
        from psycopg import sql

        self.errors: tuple[type[Exception], ...] = (psycopg.Error,)
        self._conn, self._sql = conn, sql
        self._table = sql.Identifier("pg_temp", table)  # never a permanent table of that name
        # run before each timed commit, in the same transaction (None: nothing)
        self._before_commit: sql.SQL | None = None
        self._insert = sql.SQL("INSERT INTO {} " + _COLUMNS + " VALUES (%s, %s, %s)").format(
            self._table
        )
        version = conn.info.server_version
        self.notes = [
            f"PostgreSQL {version // 10000}.{version % 10000} at {conn.info.host}; a TEMPORARY "
            "table: its rows are not WAL-logged, so its commits skip the WAL flush that a "
            "permanent table's commit waits for (c0 here is a lower bound)"
        ]

    def create(self) -> None:
        self._conn.execute(self._sql.SQL(_PG_CREATE).format(self._table))
        self._conn.commit()

    def supports(self, method: str, size: int) -> str | None:
        if method == "multirow" and 3 * size > 65535:  # the protocol's limit on parameters
            return "PostgreSQL takes at most 65535 parameters in one statement"
        return None

    def prepare(self, method: str, rows: Sequence[Row]) -> Job:
        conn, cur, before = self._conn, self._conn.cursor(), self._before_commit

        def commit() -> None:
            if before is not None:
                cur.execute(before)
            conn.commit()

        def single() -> None:
            for row in rows:
                cur.execute(self._insert, row)
            commit()

        def executemany() -> None:
            cur.executemany(self._insert, rows)  # psycopg 3 pipelines it
            commit()

        values = self._sql.SQL(", ").join([self._sql.SQL("(%s, %s, %s)")] * len(rows))
        multirow_sql = self._sql.SQL("INSERT INTO {} " + _COLUMNS + " VALUES {}")
        multirow_query = multirow_sql.format(self._table, values)
        flat = [value for row in rows for value in row]

        def multirow() -> None:
            cur.execute(multirow_query, flat)
            commit()

        copy_sql = self._sql.SQL("COPY {} " + _COLUMNS + " FROM STDIN").format(self._table)

        def copy() -> None:
            with cur.copy(copy_sql) as out:
                for row in rows:
                    out.write_row(row)
            commit()

        jobs = {"single": single, "executemany": executemany, "multirow": multirow, "copy": copy}
        return jobs[method]

    def reset(self) -> None:
        self._conn.execute(self._sql.SQL("TRUNCATE {}").format(self._table))
        self._conn.commit()

    def close(self) -> None:
        try:
            self._conn.rollback()
            self._conn.execute(self._sql.SQL("DROP TABLE IF EXISTS {}").format(self._table))
            self._conn.commit()
        except self.errors:
            pass  # closing the session drops a temporary table anyway
        finally:
            self._conn.close()


def _open_postgres(dsn: Dsn, table: str, budget_s: float) -> _Postgres:
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise MeasurementError(
            "psycopg is not installed: pip install 'throughput-expert[postgres]'", source=dsn.target
        ) from None
    try:
        given = conninfo_to_dict(dsn.dsn)
    except psycopg.Error as exc:
        raise InputError(dsn.scrub(exc), source=SOURCE, field="dsn") from None
    timeout = _connect_timeout(given.get("connect_timeout"), budget_s)
    try:
        conn = psycopg.connect(
            dsn.dsn, application_name="tpx-batch-trials", connect_timeout=timeout
        )
    except psycopg.Error as exc:
        raise MeasurementError(f"cannot connect: {dsn.scrub(exc)}", source=dsn.target) from None
    try:  # no statement outlives the budget, whatever the server does
        conn.execute(
            "SELECT set_config('statement_timeout', %s, false)", [f"{math.ceil(budget_s * 1e3)}"]
        )
        conn.commit()
    except psycopg.Error as exc:
        conn.close()
        raise MeasurementError(
            f"the database failed: {dsn.scrub(exc)}", source=dsn.target
        ) from None
    return _Postgres(conn, table)


def _connect_timeout(given: object, budget_s: float) -> int:
    """Seconds to wait for a connection (libpq's whole seconds, at least 2): the DSN's own
    ``connect_timeout`` capped at the budget, else a fifth of the budget (libpq's 0 or no value
    means "wait forever": never)."""
    longest = max(2, math.ceil(budget_s))
    try:
        own = int(str(given))
    except ValueError:
        own = 0
    return min(own, longest) if own > 0 else max(2, int(budget_s / 5))


# --- SQLite (stdlib sqlite3) --------------------------------------------------------------------


class _Sqlite:
    dialect: Dialect = "sqlite"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection, table: str, memory: bool) -> None:
        self._conn, self._table = conn, f'"{table}"'  # our own name: hex digits, no quoting issue
        self._insert = f"INSERT INTO {self._table} {_COLUMNS} VALUES (?, ?, ?)"
        self._max_rows = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 3
        self._memory = memory
        self.notes: list[str] = []
        self.scratch: str | None = None
        """A database file the trial created: removed on close."""

    def create(self) -> None:
        # The first statements: a file that is not a database fails here, as a MeasurementError.
        journal = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = self._conn.execute("PRAGMA synchronous").fetchone()[0]
        self.notes.append(
            f"SQLite {sqlite3.sqlite_version}, journal_mode = {journal}, synchronous = "
            f"{synchronous}" + (" (in memory: commits touch no disk)" if self._memory else "")
        )
        self._conn.execute(f"CREATE TABLE {self._table} (id INTEGER, payload TEXT, created TEXT)")

    def supports(self, method: str, size: int) -> str | None:
        if method == "copy":
            return "SQLite has no COPY"
        if method == "multirow" and size > self._max_rows:
            return f"SQLite takes at most {3 * self._max_rows} parameters in one statement"
        return None

    def prepare(self, method: str, rows: Sequence[Row]) -> Job:
        conn = self._conn
        params = [(i, payload, created.isoformat()) for i, payload, created in rows]

        def single() -> None:
            conn.execute("BEGIN")
            for row in params:
                conn.execute(self._insert, row)
            conn.execute("COMMIT")

        def executemany() -> None:
            conn.execute("BEGIN")
            conn.executemany(self._insert, params)
            conn.execute("COMMIT")

        query = f"INSERT INTO {self._table} {_COLUMNS} VALUES " + ", ".join(
            ["(?, ?, ?)"] * len(rows)
        )
        flat = [value for row in params for value in row]

        def multirow() -> None:
            conn.execute("BEGIN")
            conn.execute(query, flat)
            conn.execute("COMMIT")

        return {"single": single, "executemany": executemany, "multirow": multirow}[method]

    def reset(self) -> None:
        self._conn.execute(f"DELETE FROM {self._table}")

    def close(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._conn.execute(f"DROP TABLE IF EXISTS {self._table}")
        except sqlite3.Error:
            pass
        finally:
            self._conn.close()
            if self.scratch is not None:
                for suffix in ("", "-journal", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        os.unlink(self.scratch + suffix)


def _open_sqlite(dsn: Dsn, table: str) -> _Sqlite:
    memory = dsn.path == ":memory:"
    # A file that does not exist is a scratch database for the trial: created (in a folder that
    # exists) and removed afterwards, with its journal; an existing file is used as it is.
    scratch = not memory and not os.path.exists(dsn.path)
    if scratch and not os.path.isdir(os.path.dirname(os.path.abspath(dsn.path))):
        raise MeasurementError(
            f"no folder {os.path.dirname(dsn.path) or '.'!r} for the database file",
            source=dsn.target,
        )
    mode = "rwc" if scratch else "rw"
    uri = "file::memory:" if memory else f"file:{quote(dsn.path)}?mode={mode}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        raise MeasurementError(f"cannot open the database file: {exc}", source=dsn.target) from None
    backend = _Sqlite(conn, table, memory)
    if scratch:
        backend.scratch = dsn.path
        backend.notes.append(
            f"{dsn.path} did not exist: a scratch database created for the trial and removed after"
        )
    return backend


def open_backend(dsn: Dsn, table: str, budget_s: float) -> Backend:
    """Connect to ``dsn`` (PostgreSQL within a timeout from ``budget_s``); raises
    ``MeasurementError`` when it cannot. The trial table ``table`` is not created yet."""
    if dsn.dialect == "postgresql":
        return _open_postgres(dsn, table, budget_s)
    return _open_sqlite(dsn, table)
