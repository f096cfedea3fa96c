"""Colour in the text view: on a terminal only, never into a pipe or a file, never with NO_COLOR;
and outside text (names, paths, messages) shown with its control characters escaped."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest
from tests.render.text_cases import REPORTS, ROOT
from tests.support import TPX, run_tpx

from throughput_expert import api
from throughput_expert.render.as_text import TextRenderer
from throughput_expert.render.text_common import color_wanted

ESC = "\x1b["
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, "COLUMNS": "80", "LINES": "50", **extra}


def test_a_pipe_gets_plain_text() -> None:
    done = run_tpx("demo", "--format", "text", env=_env())
    assert done.returncode == 0, done.stderr
    assert "── Headroom" in done.stdout
    assert ESC not in done.stdout
    assert max(len(ln) for ln in done.stdout.splitlines()) <= 80


def test_a_file_gets_plain_text(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    done = run_tpx("demo", "--format", "text", "--output", str(out), env=_env())
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "── Plan to 50K rps" in text
    assert ESC not in text


def _on_a_terminal(*argv: str, env: dict[str, str]) -> str:
    """``tpx argv`` with stdout on a pseudo-terminal (stderr piped): what the terminal got."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [*TPX, *argv], stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE, env=env
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_no_color_on_a_terminal_with_no_color_set() -> None:
    text = _on_a_terminal("demo", env=_env(NO_COLOR=""))  # any value, empty included
    assert "── Headroom" in text  # a terminal gets text, at its 80 columns
    assert ESC not in text
    assert max(len(ln) for ln in text.splitlines()) <= 80


def test_a_terminal_gets_colour() -> None:
    text = _on_a_terminal("demo", env=_env())
    assert ESC in text
    assert "── Headroom" in SGR.sub("", text)


def test_colour_only_styles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    report = REPORTS["demo"]()
    plain = TextRenderer(80).render(report)
    coloured = TextRenderer(80, color=True).render(report)
    assert ESC not in plain
    assert SGR.sub("", coloured) == plain  # the same words and columns, styles added
    rows = [ln for ln in coloured.splitlines() if SGR.sub("", ln).split()[:2] == ["disk", "I/O"]]
    row = next(ln for ln in rows if "70 %" in ln)  # the headroom table's row
    assert "\x1b[1;31m80 %" in row  # disk I/O at 80 % is over its 70 % target: red
    reached = next(ln for ln in coloured.splitlines() if "reaches 50K rps with" in ln)
    assert "\x1b[32m" in reached  # the plan reaches the target: green


@pytest.mark.parametrize(
    ("terminal", "env", "wanted"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": ""}, False),
        (True, {"NO_COLOR": "1"}, False),
        (False, {"FORCE_COLOR": "1"}, True),
        (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
    ],
)
def test_color_wanted(terminal: bool, env: dict[str, str], wanted: bool) -> None:
    assert color_wanted(terminal, env) is wanted


def test_outside_text_shows_escaped(tmp_path: Path) -> None:
    metrics = tmp_path / "m.json"
    doc = {
        "service": "api\x1b[2J\rgone",
        "throughput_rps": 1000,
        "utilization": {"cpu": "50%"},
        "notes": ["from ops\x1b]0;title\x07"],
    }
    metrics.write_text(json.dumps(doc))
    text = TextRenderer(80).render(api.analyze([metrics]))
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "api\\x1b[2J\\rgone" in text
    assert "from ops\\x1b]0;title\\x07" in text
