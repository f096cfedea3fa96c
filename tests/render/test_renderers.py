"""Every renderer on the same reports, an empty one included (the text views against golden
output: test_text_golden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from throughput_expert import analyze
from throughput_expert.model import Report
from throughput_expert.render import renderer_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "throughput_expert" / "examples" / "message-consumer.json"

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


def test_empty_report_text_is_just_the_header() -> None:
    text = renderer_for("text").render(EMPTY)
    assert text == "tpx task\nNothing measured.\n"
