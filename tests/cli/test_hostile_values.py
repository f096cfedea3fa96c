"""Flag values out of any physical range end in one line and exit 2 before any work; text from a
server or a file is shown escaped on stderr, never obeyed by the terminal (issue 19)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from tests.support import only_line, run_tpx, serve_http

from throughput_expert import registry
from throughput_expert.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CONCURRENCY = ["optimize-concurrency", "--workload-type", "io", "--current-thread-pool", "4"]
BATCHING = [
    "design-batching",
    "--operation",
    "database-insert",
    "--target-throughput",
    "50000",
    "--measurements",
    str(EXAMPLES / "batch-trial.csv"),
]
SWEEP = ["sweep", "--url", "http://127.0.0.1:9/", "--concurrency", "1"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["find-bottleneck", "--pid", "-5"], "--pid: '-5' is not a process id"),
        (["find-bottleneck", "--pid", "99999999999999999999"], "not a process id"),
        (["observe", "--pid", "0"], "not a process id"),
        ([*CONCURRENCY, "--cpu-cores", "1e30"], '--cpu-cores: "1e30" is above the range'),
        ([*CONCURRENCY, "--cpu-cores", "0"], "below the range"),
        ([*CONCURRENCY, "--cpu-cores", "2.5"], "expected a whole number"),
        ([*BATCHING, "--concurrency", "99999999999999999999"], "more than any one service"),
        ([*SWEEP, "--error-threshold", "nan"], '--error-threshold: "nan" is not a number'),
        ([*SWEEP, "--max-levels", "1"], "--max-levels: '1' is out of range (at least 2)"),
        ([*SWEEP, "--max-requests", "1" + "0" * 400], "--max-requests"),
        ([*SWEEP, "--workers", "inf"], "--workers"),
        (["sweep", "--url", "http://127.0.0.1:9/", "--concurrency", "1,99999999999"], "above"),
        (["sweep", "--url", "http://127.0.0.1:9/", "--concurrency", "1" * 30], "more digits"),
    ],
)
def test_a_number_flag_out_of_range_is_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    line = only_line(capsys.readouterr().err)
    assert says in line, line


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["sweep", "--url", "http://127.0.0.1:99999/", "--concurrency", "1"], "--url"),
        # host names the resolver's IDNA step refuses (an empty label, one of 64 characters),
        # with and without --allow-remote: a UnicodeError escaped as an internal error
        (["sweep", "--url", "http://x..y/", "--concurrency", "1"], "--url"),
        (["sweep", "--url", f"http://{'a' * 64}.com/", "--concurrency", "1"], "--url"),
        (["sweep", "--url", "http://x..y/", "--concurrency", "1", "--allow-remote"], "--url"),
        ([*SWEEP, "--duration", "1e300s"], "--duration"),
        ([*SWEEP, "--warmup", "1e300s"], "--warmup"),
        ([*CONCURRENCY, "--cpu-cores", "2", "--wait-time", "1e300s"], "--wait-time"),
        ([*BATCHING, "--max-latency", "1e300s"], "--max-latency"),
        (["analyze", "--metrics", str(EXAMPLES / "metrics.json"), "--target-rps", "1e300"], "--t"),
    ],
)
def test_absurd_urls_and_quantities_are_one_line(argv: list[str], flag: str) -> None:
    done = run_tpx(*argv, "--format", "json")
    assert done.returncode == 2, done.stderr
    assert only_line(done.stderr).startswith(flag)


def _numeric_actions() -> Iterator[tuple[str, argparse.Action]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        for action in command._actions:
            if getattr(action.type, "__name__", "") in ("integer", "number", "int", "float"):
                yield name, action


def test_every_number_flag_has_a_declared_range() -> None:
    """No flag takes a bare ``int`` or ``float``: 1e300, inf and 10^400 are refused by each."""
    found = list(_numeric_actions())
    assert len(found) >= 8
    for name, action in found:
        assert action.type not in (int, float), (name, action.dest)
        for absurd in ("1e300", "inf", "nan", "1" + "0" * 400):
            with pytest.raises(argparse.ArgumentTypeError):
                action.type(absurd)  # type: ignore[misc]
    assert {u.name for u in registry.units()} <= {n for n, _ in found} | {
        "analyze",
        "scaling-plan",
    }


@pytest.fixture()
def lying_prometheus() -> Iterator[str]:
    """A Prometheus whose error message carries a carriage return and an escape sequence."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(
                {
                    "status": "error",
                    "errorType": "bad_data",
                    "error": "line one\rFAKE: all good\x1b[2J",
                }
            ).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_http(Handler) as url:
        yield url


def test_a_servers_control_characters_are_shown_escaped(lying_prometheus: str) -> None:
    done = run_tpx("analyze", "--prometheus", lying_prometheus, "--format", "json", timeout=120)
    assert done.returncode == 2, done.stderr
    line = only_line(done.stderr)
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    assert "line one\\rFAKE: all good\\x1b[2J" in line, line


def test_every_error_line_is_escaped_where_it_is_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever raised it, the one line reaches stderr escaped: a CR, an ESC, a bidi override
    and a lone surrogate in an error's text are shown, not obeyed (nor failing to encode)."""
    from throughput_expert.errors import InputError
    from throughput_expert.render import report_file

    def raw(*_: object, **__: object) -> str:
        raise InputError("line one\rFAKE\x1b[2J\u202e\ud800", source="server", field="x")

    monkeypatch.setattr(report_file, "render_saved", raw)
    assert main(["report", "saved.json"]) == 2
    err = capsys.readouterr().err
    assert err == "server: x: line one\\rFAKE\\x1b[2J\\u202e\\ud800\n"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["observe", "--interval", "0", "--duration", "1s"], "--interval: must be positive"),
        (["observe", "--duration", "0"], "--duration: must be positive"),
    ],
)
def test_observe_names_the_flag_it_refuses(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    line = only_line(capsys.readouterr().err)
    assert line.startswith(says), line
