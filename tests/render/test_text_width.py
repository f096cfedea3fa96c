"""Every command's text view fits the width it is given (issue 17): at 80 and 120 columns no line
is longer, and the wider view uses the room (the width is not ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.render.text_cases import REPORTS, ROOT

from throughput_expert.render import renderer_for
from throughput_expert.render.text_common import KEEP, Col, console, grid, text_width

WIDTHS = (60, 80, 120)  # 60: the narrowest --width takes


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_text_fits_the_width(name: str) -> None:
    report = REPORTS[name]()
    longest = {}
    for columns in WIDTHS:
        lines = renderer_for("text", columns).render(report).splitlines()
        over = [ln for ln in lines if len(ln) > columns]
        assert over == [], (columns, over[:3])
        longest[columns] = max(len(ln) for ln in lines)
    assert longest[120] > 80  # the wider view is wider: the width is honoured, not fixed


def test_a_table_too_wide_drops_its_least_column_and_splits_no_number() -> None:
    import io

    cols = [
        Col("name", "left", KEEP, wrap=True, min_width=8),
        Col("rate at the saturation target", keep=KEEP),
        Col("latency at the knee of the curve", keep=2),
        Col("a column nobody needs at all", keep=1),
    ]
    rows = [["a rather long component name", "15.6K rps", "341 µs", "12.5 %"]]
    for columns, dropped in ((120, []), (80, ["a column nobody needs at all"])):
        buf = io.StringIO()
        with text_width(columns):
            left_out = grid(console(buf, color=False), cols, rows)
        text = buf.getvalue()
        assert left_out == dropped
        assert max(len(ln) for ln in text.splitlines()) <= columns
        assert "15.6K rps" in text and "341 µs" in text  # each number whole, with its unit
        if dropped:
            assert "a column nobody needs at all: left out to fit 80 columns" in text


def test_a_huge_report_shows_its_first_rows_and_says_how_many_more(tmp_path: Path) -> None:
    # 70 components, each one recommendation and a piece of evidence: a terminal shows the
    # first rows of each list and says how many more the JSON holds (rendering stays bounded)
    from throughput_expert.cli import main
    from throughput_expert.render.text_common import MAX_ROWS

    n = MAX_ROWS + 10
    lines = ["system: big", "entry_rate: 1000 rps", "components:"]
    for i in range(n):
        lines += [f"  - name: svc{i}", "    kind: service", "    instances: 2", "    cores: 2"]
        lines += ['    utilization: {cpu: "40%"}']
        lines += [f"    calls: {{svc{i + 1}: 1}}"] if i + 1 < n else []
    arch = tmp_path / "big.yaml"
    arch.write_text("\n".join(lines) + "\n")
    out = tmp_path / "plan.txt"
    argv = ["scaling-plan", "--target-rps", "5000", "--current-architecture", str(arch)]
    assert main([*argv, "--format", "text", "--output", str(out)]) == 0
    text = out.read_text()
    assert "… 10 more components in the JSON report" in text
    table = text.split("── Components")[1].split("\n── ")[0]
    assert f"svc{MAX_ROWS - 1} " in table and f"svc{MAX_ROWS} " not in table
    assert "more recommendations in the JSON report" in text
    assert max(len(ln) for ln in text.splitlines()) <= 80
