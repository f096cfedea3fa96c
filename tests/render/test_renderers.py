"""Every renderer on the same reports, an empty one included; text against golden output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from throughput_expert import analyze
from throughput_expert.model import Report
from throughput_expert.render import renderer_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "throughput_expert" / "examples" / "message-consumer.json"
GOLDEN = Path(__file__).parent / "golden"

EMPTY = Report(command="task", summary="Nothing measured.")  # no typed record: any analysis


def reports() -> list[Report]:
    return [EMPTY, analyze([DEMO])]


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("index", [0, 1])
def test_every_renderer_renders_every_report(fmt: str, index: int) -> None:
    text = renderer_for(fmt).render(reports()[index])
    assert text.endswith("\n")
    assert "Nothing measured." in text or "Bottleneck" in text


def test_json_is_the_versioned_contract() -> None:
    doc = json.loads(renderer_for("json").render(analyze([DEMO])))
    assert doc["schema_version"] == "2"
    assert doc["command"] == "analyze"
    keys = {
        "summary",
        "analysis",
        "series",
        "recommendations",
        "implementation_plan",
        "evidence",
        "assumptions",
        "inputs",
    }
    assert keys <= set(doc)
    horizons = {"immediate", "short_term", "long_term"}
    assert horizons <= set(doc["implementation_plan"])
    assert set(doc["implementation_plan"]) - horizons in (
        set(),
        {
            "target_rps",
            "ceiling_today_rps",
            "capacity_today_rps",
            "binding_today",
            "steps",
            "reaches_target",
            "cap",
            "lift",
        },
    )


def test_text_matches_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regenerate after an intended change: TPX_GOLDEN=1 pytest tests/render
    # The source path is given relative to the checkout, so the text (which folds
    # long lines at the width) is the same wherever the repository is cloned.
    import os

    monkeypatch.chdir(ROOT)
    text = renderer_for("text").render(analyze([DEMO.relative_to(ROOT)]))
    golden = GOLDEN / "demo.txt"
    if os.environ.get("TPX_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_empty_report_text_is_just_the_header() -> None:
    text = renderer_for("text").render(EMPTY)
    assert text == "tpx task\nNothing measured.\n"
