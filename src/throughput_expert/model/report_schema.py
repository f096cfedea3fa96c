"""The JSON Schema of each command's report, generated from its typed analysis record.

The envelope (summary, recommendations, evidence...) is the same for every command; the
``analysis`` part is the command's record (``model/record.py: json_schema``). The schemas are
shipped in ``schemas/report-NAME.schema.json``; ``python3 -m throughput_expert.model.report_schema
DIR`` writes them (``tests/model/test_report_schema.py`` checks the shipped ones are current).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from throughput_expert import registry
from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.record import json_schema
from throughput_expert.model.report import SCHEMA_VERSION

__all__ = ["report_schema", "schema_text", "write_schemas"]


def report_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a report of command ``name``: the envelope every report shares, with
    the command's analysis record in ``analysis``."""
    found = registry.unit(name)
    if found is None:
        raise KeyError(name)
    analysis = json_schema(registry.resolve(found.record))
    defs = analysis.pop("$defs", {})
    plan = json_schema(PlanRecord)
    defs |= plan.pop("$defs", {})
    analysis.pop("$schema", None)
    text = {"type": "string"}
    number = {"type": ["number", "null"]}
    strings = {"type": "array", "items": text}
    level = {"enum": ["low", "medium", "high"]}
    envelope: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://throughput-expert.invalid/schemas/report-{name}.schema.json",
        "title": f"tpx {name} report",
        "type": "object",
        "additionalProperties": False,
        "required": [
            "schema_version",
            "command",
            "summary",
            "analysis",
            "series",
            "recommendations",
            "implementation_plan",
            "evidence",
            "assumptions",
            "inputs",
        ],
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "command": {"const": name},
            "summary": text,
            "analysis": analysis,
            "series": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["x_label", "y_label", "points"],
                    "properties": {
                        "x_label": text,
                        "y_label": text,
                        "points": {
                            "type": "array",
                            "items": {
                                "type": "array",
                                "prefixItems": [number, number],
                                "minItems": 2,
                                "items": False,
                            },
                        },
                    },
                },
            },
            "recommendations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "optimization",
                        "expected_improvement_pct",
                        "effort",
                        "risk",
                        "rationale",
                        "evidence_ids",
                    ],
                    "properties": {
                        "optimization": text,
                        "expected_improvement_pct": number,
                        "effort": level,
                        "risk": level,
                        "rationale": text,
                        "evidence_ids": strings,
                        "example": text,
                        "change": {
                            "enum": ["batch", "instances", "workers", "servers", "speedup"],
                            "description": "the change to the system it makes, when the model "
                            "can express it: no two recommendations make the same change",
                        },
                    },
                },
            },
            "implementation_plan": {
                "type": "object",
                "additionalProperties": False,
                "required": ["immediate", "short_term", "long_term"],
                "properties": {k: strings for k in ("immediate", "short_term", "long_term")}
                | plan["properties"],
                "dependentRequired": {"steps": plan["required"]},
                "description": "the horizons (immediate, short_term, long_term); when the "
                "command planned, also the plan: the changes, in order, that take the system "
                "model to the target at its saturation targets, each priced by the solver",
            },
            "evidence": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "claim", "law", "inputs", "result"],
                    "properties": {
                        "id": text,
                        "claim": text,
                        "law": text,
                        "inputs": {"type": "object"},
                        "result": {},
                    },
                },
            },
            "assumptions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["what", "value", "why"],
                    "properties": {"what": text, "value": {}, "why": text},
                },
            },
            "inputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["source", "kind", "detail"],
                    "properties": {"source": text, "kind": text, "detail": text},
                },
            },
        },
    }
    if defs:
        envelope["$defs"] = defs
    return envelope


def schema_text(name: str) -> str:
    return json.dumps(report_schema(name), indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    """Every registered command's report schema, written to ``folder``."""
    written = []
    for found in registry.units():
        path = Path(folder) / f"report-{found.name}.schema.json"
        path.write_text(schema_text(found.name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_schemas(
        sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1] / "schemas"
    ):
        print(p)
