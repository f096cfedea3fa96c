"""A saved JSON report is checked when read back; anything else is one line of InputError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from throughput_expert.errors import InputError
from throughput_expert.model import Report
from throughput_expert.render.as_json import JSONRenderer
from throughput_expert.render.as_text import TextRenderer
from throughput_expert.render.base import Renderer
from throughput_expert.render.report_file import load_report, render_saved

REPORT = Report(command="task", summary="Nothing measured.")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "report.json"
    path.write_text(text)
    return path


def test_load_report_gives_the_json_form(tmp_path: Path) -> None:
    path = _write(tmp_path, JSONRenderer().render(REPORT))
    assert load_report(path) == REPORT.to_dict()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{", "not JSON"),
        ("[]", "expected a JSON object"),
        ('{"schema_version": "1", "command": "analyze", "summary": ""}', "schema_version"),
        ('{"schema_version": "2", "command": "nope", "summary": ""}', "unknown command"),
        ('{"schema_version": "2", "command": "analyze"}', "summary: missing"),
        ('{"schema_version": "2", "command": "analyze", "summary": "", "series": []}', "series"),
    ],
)
def test_malformed_reports_are_one_line_input_errors(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(InputError) as info:
        load_report(_write(tmp_path, text))
    assert says in str(info.value) and "\n" not in str(info.value)


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_report(tmp_path / "absent.json")


def test_a_broken_record_is_an_input_error(tmp_path: Path) -> None:
    doc = REPORT.to_dict()
    doc["recommendations"] = [{"optimization": "x"}]
    path = _write(tmp_path, json.dumps(doc))
    lookup: dict[str, type[Renderer]] = {"text": TextRenderer}
    with pytest.raises(
        InputError, match=r"recommendations\[0\]\.expected_improvement_pct: missing"
    ):
        render_saved(path, "text", lambda name: lookup[name]())


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda a: a["current_throughput"].__setitem__("rps", "fast"), "current_throughput.rps"),
        (lambda a: a["headroom"].__setitem__("ceilng_rps", 1.0), "unknown key 'ceilng_rps'"),
        (lambda a: a.pop("bottleneck"), "analysis.bottleneck: missing"),
    ],
)
def test_an_edited_saved_report_is_one_line_naming_the_key(
    tmp_path: Path, edit: Any, says: str
) -> None:
    """``tpx report`` on a saved analyze report whose analysis was edited: exit 2, one line
    naming the key (the analysis is loaded into the command's typed record), nothing else."""
    from tests.support import run_tpx

    saved = tmp_path / "r.json"
    assert run_tpx("demo", "--format", "json", "--output", str(saved)).returncode == 0
    doc = json.loads(saved.read_text())
    edit(doc["analysis"])
    saved.write_text(json.dumps(doc))
    done = run_tpx("report", str(saved), "--format", "text")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line and line.startswith(f"{saved}: analysis.") and says in line


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    """Nothing writes to the FIFO: reading it would wait forever; it is refused at once."""
    import os

    fifo = tmp_path / "saved.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        load_report(fifo)


def test_a_large_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    from throughput_expert.render.report_file import MAX_BYTES

    path = tmp_path / "big.json"
    path.write_bytes(b" " * (MAX_BYTES + 1))
    with pytest.raises(InputError, match="larger than"):
        load_report(path)
