"""A saved JSON report, read back and rendered without recomputing (``tpx report REPORT.json``).

A saved report is input like any other: it may have been edited or corrupted. ``load_report``
checks it whole before anything renders it, and says what is wrong in one line (``InputError``)
naming the failing JSON path (``r.json: analysis.headroom.resources[2].utilization_pct: expected
a number``):

- its size (at most ``MAX_BYTES``) and nesting (at most ``MAX_DEPTH`` levels; tpx writes fewer
  than 10);
- every number finite and within ``±MAX_NUMBER`` (2^63, the count limit of every reader): no
  ``NaN``, ``Infinity`` or ``1e400`` reaches a renderer; at most ``MAX_POINTS`` points a curve;
- ``schema_version`` and ``command``, then the whole document against the command's report
  schema (``model/report_schema.py``, the schema shipped in ``schemas/``): types, required keys,
  unknown keys, enumerations, the shape of every series point.

The analysis is then loaded into the command's typed record, key by key (``model/record.py``);
``render_saved`` rebuilds the Report (``model.report_json``) and renders it in any format, so a
saved report looks exactly as the fresh one did. A lone surrogate in a string (``"\\ud800"``,
valid JSON but not encodable as UTF-8) is read as U+FFFD, so no renderer meets one.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Callable
from os import PathLike
from typing import Any

from throughput_expert import registry
from throughput_expert.errors import InputError
from throughput_expert.model.report import SCHEMA_VERSION
from throughput_expert.model.report_json import report_from_dict
from throughput_expert.render.base import Renderer, analysis_record
from throughput_expert.safe_text import unicode_safe

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NUMBER", "MAX_POINTS", "load_report", "render_saved"]

JSON = Any

MAX_BYTES = 8 * 1024 * 1024  # a saved report; tpx writes well under 1 MB
MAX_DEPTH = 32  # levels of objects and arrays; tpx writes fewer than 10
MAX_NUMBER = 2.0**63  # the largest magnitude of any number (a count's limit, 2^63)
MAX_POINTS = 10_000  # points in one curve (series); tpx draws at most a few hundred

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
        # non-blocking: a FIFO given by mistake is refused below instead of waiting forever
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError("not a regular file: not a saved report", source=source)
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the report: {exc.strerror or exc}", source=source) from None
    if len(data) > MAX_BYTES:
        raise InputError(
            f"larger than {MAX_BYTES // (1024 * 1024)} MB: not a saved report", source=source
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at line {exc.lineno}", source=source) from None
    except RecursionError:
        raise InputError(f"nested deeper than {MAX_DEPTH} levels", source=source) from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise InputError(f"not JSON: {exc}", source=source) from None
    _scan(doc, source, "", 0)
    if _SURROGATE_ESCAPE.search(text):  # a lone surrogate (valid JSON) cannot be shown: U+FFFD
        doc = _unicode_safe(doc)
    _check(doc, source)
    _check_series(doc.get("series"), source)
    _validate(doc, source)
    _check_fits(doc.get("analysis"), source, "analysis", 0)
    return dict(doc)


# A USL fit (``UslFitRecord``) marked available holds its coefficients: the schema lets them be
# null (a fit that could not be made), a renderer showing an available fit needs them.
_FIT = ("sigma", "kappa", "lambda_rps", "r_squared")


def _check_fits(value: JSON, source: str, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        if value.get("available") is True and all(k in value for k in _FIT):
            for key in _FIT:
                if not isinstance(value[key], int | float) or isinstance(value[key], bool):
                    raise InputError(
                        "expected a number: the fit is marked available",
                        source=source,
                        field=_join(path, key),
                    )
        for key, item in value.items():
            if isinstance(item, dict | list):
                _check_fits(item, source, _join(path, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                _check_fits(item, source, f"{path}[{index}]", depth + 1)


def _scan(value: JSON, source: str, path: str, depth: int) -> None:
    """``InputError`` at the first value nested deeper than ``MAX_DEPTH`` or a number that is
    not finite or beyond ``MAX_NUMBER``."""
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise InputError(f"nested deeper than {MAX_DEPTH} levels", source=source, field=path)
        for key, item in value.items():
            _scan(item, source, _join(path, key), depth + 1)
    elif isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise InputError(f"nested deeper than {MAX_DEPTH} levels", source=source, field=path)
        for index, item in enumerate(value):
            _scan(item, source, f"{path}[{index}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InputError(
            f"{value} is not a finite number (a saved report holds null where there is none)",
            source=source,
            field=path,
        )
    elif isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise InputError("a number beyond ±2^63 (9.2e18): out of range", source=source, field=path)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unicode_safe(value: JSON) -> JSON:
    """``value`` with every lone surrogate in its strings and keys replaced by U+FFFD (called
    after ``_scan``: the nesting is bounded)."""
    if isinstance(value, str):
        return unicode_safe(value)
    if isinstance(value, dict):
        return {unicode_safe(k): _unicode_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unicode_safe(v) for v in value]
    return value


def _check_series(series: JSON, source: str) -> None:
    """At most ``MAX_POINTS`` points in a curve: a renderer plots every one."""
    if not isinstance(series, dict):
        return
    for name, curve in series.items():
        points = curve.get("points") if isinstance(curve, dict) else None
        if isinstance(points, list) and len(points) > MAX_POINTS:
            raise InputError(
                f"{len(points):,} points: more than {MAX_POINTS:,} in one curve",
                source=source,
                field=f"{_join('series', name)}.points",
            )


def _join(path: str, key: str) -> str:
    shown = key if key.isidentifier() else json.dumps(key)
    return f"{path}.{shown}" if path else shown


def _path(parts: Any) -> str:
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return path


def _validate(doc: dict[str, JSON], source: str) -> None:
    """``InputError`` naming the JSON path of the first place where ``doc`` does not follow its
    command's report schema."""
    from throughput_expert.model.report_schema import report_schema, violation

    found = violation(doc, report_schema(str(doc["command"])))
    if found is not None:
        where, what = found
        raise InputError(what, source=source, field=_path(where))


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
