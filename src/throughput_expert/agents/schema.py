"""Fitting a result to the task's ``outputSchema`` honestly (the ``jsonschema`` package).

Required keys the advisors cannot fill are filled with what is true: ``artifacts`` (or any
required array named like files) lists the paths written; other required arrays are empty,
objects empty, strings say that the data does not tell. Nothing is invented. What still does not
validate is listed under ``schema_violations`` so the orchestrator sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["fit_to_schema"]

_FILES = ("artifacts", "files", "outputs", "paths")


def fit_to_schema(
    result: dict[str, Any], schema: Mapping[str, Any] | None, written: Path
) -> dict[str, Any]:
    if not schema:
        return result
    import jsonschema  # type: ignore[import-untyped]

    out = dict(result)
    _fill(out, schema, written)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(out), key=lambda e: list(e.path))
    if errors:
        out["schema_violations"] = [
            f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors[:20]
        ]
    return out


def _fill(doc: dict[str, Any], schema: Mapping[str, Any], written: Path) -> None:
    given = schema.get("properties")
    props: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    for key in schema.get("required") or []:
        if key in doc:
            continue
        found = props.get(key)
        sub: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        kind = sub.get("type")
        if kind == "array":
            doc[key] = [str(written)] if key.lower() in _FILES else []
        elif kind == "object":
            doc[key] = {}
            _fill(doc[key], sub, written)
        elif kind == "string":
            doc[key] = "not available from the data given"
        elif kind == "boolean":
            doc[key] = False
