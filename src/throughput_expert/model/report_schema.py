"""The JSON Schema of each command's report, generated from its typed analysis record.

The envelope (summary, recommendations, evidence...) is the same for every command; the
``analysis`` part is the command's record (``model/record.py: json_schema``). The schemas are
shipped in ``schemas/report-NAME.schema.json``; ``python3 -m throughput_expert.model.report_schema
DIR`` writes them (``tests/model/test_report_schema.py`` checks the shipped ones are current).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from throughput_expert import registry
from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.record import json_schema
from throughput_expert.model.report import SCHEMA_VERSION

__all__ = ["TASK_PARTS", "report_schema", "schema_text", "violation", "write_schemas"]

# A task's merged analysis (``agents/merge.py``): analyze's findings at the top, each other
# advisor's analysis under its own key (with that advisor's summary), keyed as the merge keys them.
TASK_PARTS: dict[str, str] = {
    "profile": "find-bottleneck",
    "concurrency": "optimize-concurrency",
    "batching": "design-batching",
    "scaling": "scaling-plan",
}
_TASK_TOP = ("bottleneck", "current_throughput", "headroom", "latency", "rating", "findings")


def _record_schema(name: str) -> dict[str, Any]:
    found = registry.unit(name)
    if found is None:
        raise KeyError(name)
    return json_schema(registry.resolve(found.record))


def _task_analysis() -> dict[str, Any]:
    """A task's analysis: the parts it merges, each checked against its advisor's record (the
    keys the task adds, ``task`` and ``parameterized``, are free objects)."""
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    top = _record_schema("analyze")
    defs |= top.pop("$defs", {})
    for key in _TASK_TOP:
        if key in top.get("properties", {}):
            properties[key] = top["properties"][key]
    for key, name in TASK_PARTS.items():
        part = _record_schema(name)
        for ref, definition in part.pop("$defs", {}).items():
            if defs.setdefault(ref, definition) != definition:
                raise ValueError(f"two records named {ref} in a task's analysis")
        part.pop("$schema", None)
        part["properties"] = dict(part.get("properties", {})) | {"summary": {"type": "string"}}
        properties[key] = part
    properties["task"] = {"type": "object"}
    properties["parameterized"] = {"type": "object"}
    return {"type": "object", "properties": properties, "$defs": defs}


def report_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a report of command ``name``: the envelope every report shares, with
    the command's analysis record in ``analysis``. A ``task`` report (the merged result of a
    task, ``agents/merge.py``) holds each advisor's part, recommendations naming their advisor
    and the keys the task's own output schema asked for."""
    analysis = _task_analysis() if name == "task" else _record_schema(name)
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
                    }
                    | ({"advisor": text} if name == "task" else {}),
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
    if name == "task":  # the keys a task's output schema requires beyond the Report's own
        envelope["additionalProperties"] = True
    if defs:
        envelope["$defs"] = defs
    return envelope


# -- checking a document against a report schema (stdlib only) ----------------------------------
#
# The keywords the generated schemas use (type, const, enum, properties, required,
# additionalProperties, dependentRequired, items, prefixItems, minItems, anyOf, $ref to $defs),
# checked in one depth-first pass that stops at the first violation: what ``tpx report`` needs
# to name one failing JSON path, at a few microseconds a value.

Where = tuple[str | int, ...]

_TYPES = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "object": "a JSON object",
    "array": "a JSON array",
    "boolean": "true or false",
    "null": "null",
}


def violation(doc: Any, schema: Mapping[str, Any]) -> tuple[Where, str] | None:
    """The first place where ``doc`` breaks ``schema`` (a report schema from ``report_schema``)
    and what is wrong there (``expected a number``, ``missing``, ``unknown key 'x'``), or None
    when it follows it."""
    return _violation(doc, schema, schema, ())


def _is(value: Any, kind: str) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "boolean":
        return isinstance(value, bool)
    return value is None if kind == "null" else False


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _violation(
    value: Any, schema: Any, root: Mapping[str, Any], at: Where
) -> tuple[Where, str] | None:
    if schema is True:
        return None
    if schema is False:
        return at, "not allowed here"
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        found = _violation(value, root.get("$defs", {})[ref.removeprefix("#/$defs/")], root, at)
        if found is not None:
            return found
    alternatives = schema.get("anyOf")
    if alternatives is not None:
        results = [_violation(value, alt, root, at) for alt in alternatives]
        if any(r is None for r in results):
            return None
        # the alternative that got furthest into the value says best what is wrong
        return max((r for r in results if r is not None), key=lambda r: len(r[0]))
    kinds = schema.get("type")
    if kinds is not None:
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is(value, k) for k in names):
            return at, "expected " + " or ".join(_TYPES.get(k, k) for k in names)
    allowed = [schema["const"]] if "const" in schema else schema.get("enum")
    if allowed is not None and not any(_same(value, a) for a in allowed):
        return at, "expected one of " + ", ".join(json.dumps(a) for a in allowed)
    if isinstance(value, dict):
        return _object(value, schema, root, at)
    if isinstance(value, list):
        return _array(value, schema, root, at)
    return None


def _object(
    value: dict[str, Any], schema: Mapping[str, Any], root: Mapping[str, Any], at: Where
) -> tuple[Where, str] | None:
    for key in schema.get("required", ()):
        if key not in value:
            return (*at, key), "missing"
    for key, needs in schema.get("dependentRequired", {}).items():
        if key in value:
            for need in needs:
                if need not in value:
                    return (*at, need), f"missing (needed with {key!r})"
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            found = _violation(item, properties[key], root, (*at, key))
        elif extra is False:
            return at, f"unknown key {key!r}"
        else:
            found = _violation(item, extra, root, (*at, key))
        if found is not None:
            return found
    return None


def _array(
    value: list[Any], schema: Mapping[str, Any], root: Mapping[str, Any], at: Where
) -> tuple[Where, str] | None:
    least = schema.get("minItems")
    if least is not None and len(value) < least:
        return at, f"expected at least {least} items"
    prefix = schema.get("prefixItems", ())
    for index, item in enumerate(value[: len(prefix)]):
        found = _violation(item, prefix[index], root, (*at, index))
        if found is not None:
            return found
    rest = schema.get("items", True)
    if rest is False and len(value) > len(prefix):
        return at, f"expected at most {len(prefix)} items"
    for index in range(len(prefix), len(value)):
        found = _violation(value[index], rest, root, (*at, index))
        if found is not None:
            return found
    return None


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
