"""Every command's text view on real reports, against snapshots a human has read (issue 17).

Regenerate after an intended change, then read the diff: ``TPX_GOLDEN=1 pytest tests/render``.
The reports are built from paths relative to the checkout (after ``chdir``), so the text is the
same wherever the repository is cloned.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from tests.render.text_cases import REPORTS, ROOT

from throughput_expert.render import renderer_for

GOLDEN = Path(__file__).parent / "golden"
WIDTHS = (80, 120)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_text_matches_golden(name: str) -> None:
    report = REPORTS[name]()
    for columns in WIDTHS:
        text = renderer_for("text", columns).render(report)
        golden = GOLDEN / f"{name}.{columns}.txt"
        if os.environ.get("TPX_GOLDEN"):
            golden.write_text(text)
        assert text == golden.read_text(), f"{golden.name} differs: TPX_GOLDEN=1 regenerates it"


# A model key in the words a user reads: none of these may show outside a code example or the
# inputs' file paths (the section "Inputs" names files as they are). A name the user types into
# a file ("a cpu_ms column", "set memory_grows_with_rate: true") is an instruction, not a key.
TYPED = re.compile(r"\b\w+ column\b|set \w+: true")
RAW_KEYS = re.compile(
    r"\b(disk_io|io_disk|io_network|sleep_idle|sum_of_demands\w*|time_per_item\w*|"
    r"\w+_(ms|rps|pct)|demand_reduction_factor|meets_target|max_rps_at_target)\b"
)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_no_raw_keys(name: str) -> None:
    text = renderer_for("text", 120).render(REPORTS[name]())
    prose = text.split("── Inputs ")[0]
    shown = [
        ln for ln in prose.splitlines() if "│" not in ln and RAW_KEYS.search(TYPED.sub("", ln))
    ]
    assert shown == []
