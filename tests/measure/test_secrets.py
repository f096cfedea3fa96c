"""Secrets and bounded reads in the measuring code, part by part (issue 12).

The whole front door (``tpx sweep``, ``tpx design-batching`` as subprocesses) is exercised in
``tests/cli/test_secrets.py``; here: the HTTP response reader on hostile bytes, the URL driver's
request and refusals, the redaction of command lines and sweep files, the DSN parser, the
PostgreSQL statement timeout, and messages about secret-named fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert import redact
from throughput_expert.errors import InputError, MeasurementError
from throughput_expert.measure import http_driver
from throughput_expert.measure.batch_backends import open_backend, parse_dsn
from throughput_expert.measure.drivers import CommandDriver
from throughput_expert.measure.http_driver import UrlDriver
from throughput_expert.model import Latency
from throughput_expert.model.quantity import (
    parse_bytes,
    parse_count,
    parse_duration,
    parse_fraction,
    parse_rate,
)
from throughput_expert.model.sweep import Sweep, SweepLevel
from throughput_expert.model.trials import BatchTrials
from throughput_expert.redact import redact_text
from throughput_expert.sources.sweep import load_sweep, save_sweep

SECRET = "Sekr3tQv9"  # distinctive: it appears nowhere else
# A password that needs every percent-encoding a URL can need.
SPECIAL = "Sekr3t#Qv9?Lm2/Xy7@Pz4"
PIECES = ("Sekr3t", "Qv9", "Lm2", "Xy7", "Pz4")


@pytest.fixture(autouse=True)
def _empty_registry() -> Iterator[None]:
    redact.forget_secrets()
    yield
    redact.forget_secrets()


def leaked(text: str) -> list[str]:
    return [p for p in PIECES if p in text]


# --- the HTTP response reader on hostile bytes --------------------------------------------------


async def _read(data: bytes) -> tuple[int, bool]:
    reader = asyncio.StreamReader(limit=1 << 20)
    reader.feed_data(data)
    reader.feed_eof()
    return await http_driver._read_response(reader, head=False)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_a_response_or_a_workload_error(data: bytes) -> None:
    with contextlib.suppress(*http_driver._RESPONSE_ERRORS):  # call()'s workload errors
        asyncio.run(_read(data))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([b"Content-Length", b"content-length", b"Transfer-Encoding"]),
    st.binary(max_size=40),
    st.binary(max_size=200),
)
def test_hostile_lengths_and_chunks_are_workload_errors(
    name: bytes, value: bytes, body: bytes
) -> None:
    data = b"HTTP/1.1 200 OK\r\n" + name + b": " + value + b"\r\n\r\n" + body
    with contextlib.suppress(*http_driver._RESPONSE_ERRORS):
        asyncio.run(_read(data))


def test_endless_interim_responses_are_an_error_not_a_recursion() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    with pytest.raises(EOFError, match="interim"):
        asyncio.run(_read(interim * 5000 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    assert asyncio.run(_read(interim * 3 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) == (
        200,
        True,
    )


@pytest.mark.parametrize("length", [b"-5", b"99999999999999999999999999", b"1e3", b""])
def test_bad_content_lengths_are_workload_errors(length: bytes) -> None:
    with pytest.raises(http_driver._RESPONSE_ERRORS):
        asyncio.run(_read(b"HTTP/1.1 200 OK\r\nContent-Length: " + length + b"\r\n\r\nxx"))


def test_a_long_body_is_read_in_pieces() -> None:
    size = 5 * http_driver._PIECE + 17
    status = asyncio.run(
        _read(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
    )
    assert status == (200, True)
    with pytest.raises(EOFError):  # cut short: the connection closed inside the body
        asyncio.run(_read(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nxx" % size))


# --- the URL driver: request, target, refusals --------------------------------------------------


def test_url_credentials_become_basic_auth_and_leave_the_host_header() -> None:
    driver = UrlDriver("http://me:p%40ss%2Fw0rd@127.0.0.1:8080/x?q=1")
    request = driver._request.decode("latin-1")
    assert "Host: 127.0.0.1:8080\r\n" in request
    assert f"Authorization: {redact.basic_auth_value('me', 'p@ss/w0rd')}\r\n" in request
    assert driver.target == "http://me:***@127.0.0.1:8080/x?q=1"
    assert "ss%2Fw0rd" not in driver.target
    assert redact.scrub("saw p@ss/w0rd and p%40ss%2Fw0rd") == "saw *** and ***"


def test_ipv6_host_header_keeps_its_brackets() -> None:
    request = UrlDriver("http://u:pw123@[::1]:9000/")._request
    assert b"Host: [::1]:9000\r\n" in request and b"pw123" not in request


@pytest.mark.parametrize(
    "url",
    [f"http://u:{SECRET}/x@127.0.0.1:8080/", f"http://u:{SECRET}#x@127.0.0.1/", "http://[::1/"],
)
def test_unreadable_url_is_an_input_error_without_the_password(url: str) -> None:
    with pytest.raises(InputError) as caught:
        UrlDriver(url)
    assert SECRET not in caught.value.one_line()
    assert caught.value.source == "url"


@pytest.mark.parametrize("method", ["GET /evil HTTP/1.1\r\nX-Injected: 1", "G T", ""])
def test_method_cannot_smuggle_headers(method: str) -> None:
    with pytest.raises(InputError, match="not an HTTP method"):
        UrlDriver("http://127.0.0.1/", method=method)


def test_connect_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """TLS to a server that accepts and never answers: open() gives up after the timeout."""
    monkeypatch.setattr(http_driver, "CONNECT_TIMEOUT_S", 0.5)

    async def attempt() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.read()  # nothing back, until the client gives up
            finally:
                writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            await UrlDriver(f"https://127.0.0.1:{port}/").open(1)

    start = time.monotonic()
    with pytest.raises(MeasurementError, match=r"no connection within 0\.5 s"):
        asyncio.run(attempt())
    assert time.monotonic() - start < 10


# --- command lines and sweep files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (f"curl -s http://u:{SECRET}@127.0.0.1/x", "curl -s http://u:***@127.0.0.1/x"),
        (f"PGPASSWORD={SECRET} psql -c 'select 1'", "PGPASSWORD=*** psql -c 'select 1'"),
        (f"tool --password {SECRET} --user me", "tool --password *** --user me"),
        (f"tool --api-key='{SECRET}' -v", "tool --api-key='***' -v"),
        (f"curl -u me:{SECRET} http://127.0.0.1/", "curl -u me:*** http://127.0.0.1/"),
        (f"curl -H 'Authorization: Bearer {SECRET}' x", "curl -H 'Authorization: ***' x"),
        ("python bench.py --workers 4 --size=10", "python bench.py --workers 4 --size=10"),
        ("tool --password --other", "tool --password --other"),
    ],
)
def test_command_target_shows_no_secret(command: str, shown: str) -> None:
    driver = CommandDriver(command)
    assert driver.target == shown
    assert driver._command == command  # it runs as given
    if SECRET in command:
        assert redact.scrub(f"failed: {SECRET}") == "failed: ***"


WORD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs"), blacklist_characters="'\""),
    min_size=1,
    max_size=12,
)


@given(WORD, WORD, st.sampled_from(["{k}={v}", "--{k}={v}", "--{k} {v}", "-u me:{v}"]))
def test_redact_text_hides_secret_named_values(tail: str, filler: str, form: str) -> None:
    value = "Zq9" + tail
    shown = redact_text(f"run {filler} " + form.format(k="db_password", v=value) + " end")
    assert value not in shown


@given(st.text(max_size=200))
def test_redact_text_never_fails_and_keeps_plain_text(text: str) -> None:
    shown = redact_text(text)
    if "://" not in text and "=" not in text and ":" not in text and "--" not in text:
        assert shown == text


def test_sweep_file_never_holds_a_secret_written_or_read(tmp_path: Path) -> None:
    level = SweepLevel(1, 100.0, Latency(p99_s=0.01))
    raw = Sweep(
        "concurrency",
        "closed",
        (level,),
        driver="url",
        target=f"http://me:{SECRET}@127.0.0.1:8080/",
        notes=(f"probe with PGPASSWORD={SECRET}",),
    )
    path = tmp_path / "s.json"
    save_sweep(raw, path)
    assert SECRET not in path.read_text()
    # A file another program wrote, with the password in it: masked on reading.
    doc = json.loads(path.read_text())
    doc["source"]["target"] = f"curl http://me:{SECRET}@127.0.0.1/ -H 'X-Api-Key: {SECRET}'"
    doc["notes"] = [f"token={SECRET}"]
    path.write_text(json.dumps(doc))
    loaded = load_sweep(path)
    assert SECRET not in repr(loaded)
    assert loaded.target == "curl http://me:***@127.0.0.1/ -H 'X-Api-Key: ***'"


# --- the DSN ------------------------------------------------------------------------------------

PASSWORD = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(PASSWORD, st.sampled_from(["postgresql", "postgres", "mysql"]))
def test_no_dsn_shows_its_password(password: str, scheme: str) -> None:
    """Whatever the password holds (raw or percent-encoded), neither the parsed DSN's target
    and repr nor the refusal show it."""
    secret = "Zq9" + password
    for written in (secret, urllib.parse.quote(secret, safe="")):
        dsn = f"{scheme}://tpx:{written}@127.0.0.1:5432/db?sslmode=disable"
        try:
            parsed = parse_dsn(dsn)
        except InputError as exc:
            assert secret not in exc.one_line() and written not in exc.one_line()
            continue
        assert written not in parsed.target and written not in repr(parsed)
        assert parsed.target.startswith(f"{scheme}://tpx:***@")


@pytest.mark.parametrize(
    ("dsn", "refused"),
    [
        (f"postgresql://u:{SPECIAL}@127.0.0.1:5432/db", True),  # raw '/' and '@'
        ("postgresql://u:Sekr3t#Qv9?Lm2@127.0.0.1:5432/db", False),  # libpq reads these raw
        ("postgresql://u:Sekr3t%2FQv9%40Lm2@127.0.0.1:5432/db", False),
        ("postgresql://u@127.0.0.1:5432/db?application_name=a%40b", False),
        # Over-refused, never under-redacted: an '@' after the host reads as a password's end.
        ("postgresql://u@127.0.0.1:5432/db?application_name=a@b", True),
    ],
)
def test_passwords_libpq_would_split_are_refused(dsn: str, refused: bool) -> None:
    if refused:
        with pytest.raises(InputError, match="percent-encode") as caught:
            parse_dsn(dsn)
        assert not leaked(caught.value.one_line())
    else:
        assert not leaked(parse_dsn(dsn).target)


def test_batch_trials_mask_a_target_whoever_built_them() -> None:
    trials = BatchTrials(f"postgresql://u:{SECRET}@h/db", "postgresql", (), 116, 1.0, False, ())
    assert trials.target == "postgresql://u:***@h/db"
    at_sign = BatchTrials("sqlite:////home/a@b/app.db", "sqlite", (), 116, 1.0, False, ())
    assert at_sign.target == "sqlite:////home/a@b/app.db"  # a path, not a password


@pytest.mark.service
def test_postgres_statements_are_bounded_by_the_budget(postgres_dsn: str) -> None:
    backend = open_backend(parse_dsn(postgres_dsn), "tpx_batch_trial_timeout", 1.5)
    conn = backend._conn  # type: ignore[attr-defined]
    try:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "1500ms"
        start = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(30)")
        assert time.monotonic() - start < 15
    finally:
        backend.close()


# --- secret-named fields: the value is never shown ----------------------------------------------

PARSERS = [parse_rate, parse_count, parse_bytes, parse_duration]


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=30),
    st.sampled_from(["Zq9{}", "{}Zq9", "5 Zq9{}", "1e999{}Zq9"]),
    st.sampled_from(PARSERS),
    st.sampled_from(["", "x.", "db."]),
)
def test_a_secret_named_field_never_echoes_its_value(
    text: str, form: str, parse: object, prefix: str
) -> None:
    value = form.format(text)
    for field in (f"{prefix}password", f"{prefix}api_key", f"{prefix}db_token"):
        try:
            parse(value, source="metrics.json", field=field)  # type: ignore[operator]
        except InputError as exc:
            assert "Zq9" not in exc.one_line()
            assert "not shown: the key looks secret" in exc.one_line()


@pytest.mark.parametrize("value", ["hunter2", "250", "Zq9 %", float("nan"), -3.0, "1e999 s"])
def test_secret_named_values_are_hidden_and_others_are_shown(value: object) -> None:
    with pytest.raises(InputError) as secret:
        parse_fraction(value, key="db_password")  # type: ignore[arg-type]
    assert "not shown: the key looks secret" in secret.value.one_line()
    assert str(value) not in secret.value.one_line()
    with pytest.raises(InputError) as plain:
        parse_fraction(value, key="cpu")  # type: ignore[arg-type]
    assert "not shown" not in plain.value.one_line()
