"""A saved JSON report, read back and rendered without recomputing (``tpx report REPORT.json``).

``load_report`` checks what a renderer relies on (``schema_version``, ``command``, the shape of
each top-level key) and says what is wrong in one line (``InputError``); the analysis is then
loaded into the command's typed record, key by key (``model/record.py``); ``render_saved`` rebuilds
the Report (``model.report_json``) and renders it in any format, so a saved report looks exactly
as the fresh one did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import Any

from throughput_expert import registry
from throughput_expert.errors import InputError
from throughput_expert.model.report import SCHEMA_VERSION
from throughput_expert.model.report_json import report_from_dict
from throughput_expert.render.base import Renderer, analysis_record

__all__ = ["load_report", "render_saved"]

JSON = Any

_SHAPES: tuple[tuple[str, type[Any], str], ...] = (
    ("summary", str, "string"),
    ("analysis", dict, "object"),
    ("series", dict, "object"),
    ("recommendations", list, "array"),
    ("implementation_plan", dict, "object"),
    ("evidence", list, "array"),
    ("assumptions", list, "array"),
    ("inputs", list, "array"),
)


def load_report(path: str | PathLike[str]) -> dict[str, JSON]:
    """The JSON form of a saved report, checked; ``InputError`` when it is not one."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the report: {exc}", source=source) from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at line {exc.lineno}", source=source) from exc
    _check(doc, source)
    return dict(doc)


def _check(doc: JSON, source: str) -> None:
    if not isinstance(doc, dict):
        raise InputError(
            "not a report: expected a JSON object (a report rendered as json)", source=source
        )
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            f"schema version {version!r} is not {SCHEMA_VERSION!r} (this tpx reads version "
            f"{SCHEMA_VERSION}; render it with the tpx that wrote it)",
            source=source,
            field="schema_version",
        )
    commands = [u.name for u in registry.units()] + ["task"]
    if doc.get("command") not in commands:
        raise InputError(
            f"unknown command {doc.get('command')!r} (known: {', '.join(commands)})",
            source=source,
            field="command",
        )
    for key, kind, name in _SHAPES:
        if key in doc and not isinstance(doc[key], kind):
            raise InputError(f"expected a JSON {name}", source=source, field=key)
    if "summary" not in doc:
        raise InputError("missing", source=source, field="summary")


def render_saved(
    path: str | PathLike[str],
    fmt: str,
    lookup: Callable[[str], Renderer] | None = None,
) -> str:
    """The saved report at ``path`` rendered as ``fmt`` (json, text, html).

    ``lookup`` maps a format name to its renderer; by default ``render.renderer_for``.
    """
    if lookup is None:
        from throughput_expert.render import renderer_for

        lookup = renderer_for
    renderer = lookup(fmt)
    doc = load_report(path)
    analysis_record(doc, source=str(path))  # the analysis, checked against the command's record
    try:
        report = report_from_dict(doc, source=str(path))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise InputError(
            f"not a report's JSON form: {type(exc).__name__}: {exc}", source=str(path)
        ) from exc
    return renderer.render(report)
