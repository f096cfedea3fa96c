"""Outside text made safe: control, format and surrogate characters shown escaped, length capped."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support import TPX

from throughput_expert.safe_text import page_safe, terminal_safe, unicode_safe


def test_a_carriage_return_cannot_overwrite_the_line() -> None:
    shown = terminal_safe("bad_data: line one\rFAKE: all good")
    assert "\r" not in shown and "line one\\rFAKE" in shown


def test_escape_sequences_bidi_overrides_and_surrogates_show_escaped() -> None:
    shown = terminal_safe("a\x1b[2Jb\u202ec\ud800d\x7f")
    assert shown == "a\\x1b[2Jb\\u202ec\\ud800d\\x7f"
    shown.encode("utf-8")  # encodable


def test_length_is_capped_with_a_mark() -> None:
    shown = terminal_safe("x" * 500, 50)
    assert len(shown) == 50 and shown.endswith("…")
    assert terminal_safe("short", None) == "short"


def test_newlines_kept_only_when_asked() -> None:
    assert terminal_safe("a\nb") == "a\\nb"
    assert terminal_safe("a\nb\r", keep_newlines=True) == "a\nb\\r"


def test_unicode_safe_replaces_lone_surrogates_only() -> None:
    assert unicode_safe("a\ud800b") == "a\ufffdb"
    assert unicode_safe("plain é 😀") == "plain é 😀"


def test_page_safe_keeps_newlines_and_escapes_controls() -> None:
    assert page_safe("a\x1b[2J\r\nb\t\ud800") == "a\\x1b[2J\\r\nb\t\ufffd"


def test_a_service_name_from_a_file_reaches_no_output_raw(tmp_path: Path) -> None:
    metrics = tmp_path / "m.json"
    metrics.write_text(
        json.dumps(
            {
                "throughput_rps": 5000,
                "cores": 4,
                "utilization": {"cpu": "70%"},
                "service": "svc\ud800\r\x1b[2J",
            }
        )
    )
    for fmt in ("text", "html", "json"):
        out = tmp_path / f"out.{fmt}"
        proc = subprocess.run(
            [*TPX, "analyze", "--metrics", str(metrics), "--format", fmt, "--output", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        data = out.read_bytes()
        assert b"\x1b" not in data and b"\r" not in data, fmt
        data.decode("utf-8")  # no lone surrogate written
