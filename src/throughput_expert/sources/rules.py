"""Profile categories, frame rules and fixes: ``advisors/data/categories.yaml`` and ``fixes.yaml``,
extended by a user's ``--rules FILE`` (same shape; its rules are tried first, its categories and
fixes replace those of the same name). The file is read like ``--defaults``
(``settings.read_yaml``: plain YAML data, no anchors or aliases, at most 256 KiB)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import replace
from os import PathLike
from typing import Any, cast, get_args

from throughput_expert.errors import InputError
from throughput_expert.model import BottleneckType, Level
from throughput_expert.model.quantity import echo
from throughput_expert.model.settings import (
    Category,
    Fix,
    Rule,
    Settings,
    StateRule,
    ThreadState,
)

__all__ = [
    "RUNTIMES",
    "add_user_rules",
    "parse_categories",
    "parse_fixes",
    "parse_rules",
    "parse_states",
]

_TYPES = get_args(BottleneckType)
_LEVELS = get_args(Level)
# The runtimes a fix may name (``runtimes:`` in fixes.yaml; absent: any runtime).
RUNTIMES = ("python", "go", "node", "jvm", "native")
_FRAME_RUNTIMES = ("python", "native", "kernel", "go", "js", "java")


def parse_categories(doc: object, source: str) -> dict[str, Category]:
    out: dict[str, Category] = {}
    for name, row in _mapping(doc, source, "categories").items():
        field = f"categories.{name}"
        row = _mapping(row, source, field)
        bottleneck = row.get("bottleneck")
        if bottleneck is not None and bottleneck not in _TYPES:
            raise InputError(
                f"unknown bottleneck type (known: {', '.join(_TYPES)})",
                source=source,
                field=f"{field}.bottleneck",
            )
        out[str(name)] = Category(
            name=str(name),
            label=str(row.get("label", name)),
            bottleneck=cast(BottleneckType | None, bottleneck),
            waiting=bool(row.get("waiting", False)),
            absorbs=tuple(str(a) for a in _list(row.get("absorbs", []), source, field)),
        )
    return out


def parse_rules(doc: object, source: str, categories: Mapping[str, Category]) -> tuple[Rule, ...]:
    rules = []
    for i, row in enumerate(_list(doc, source, "rules")):
        field = f"rules[{i}]"
        row = _mapping(row, source, field)
        category = str(row.get("category"))
        if category not in categories:
            raise InputError(
                f"unknown category {echo(category)} (known: {', '.join(categories)})",
                source=source,
                field=f"{field}.category",
            )
        name, file = _pattern(row, "name", source, field), _pattern(row, "file", source, field)
        if name is None and file is None:
            raise InputError("a rule needs a name or a file pattern", source=source, field=field)
        runtime = row.get("runtime")
        rules.append(Rule(category, name, file, str(runtime) if runtime else None, source))
    return tuple(rules)


def parse_fixes(doc: object, source: str) -> dict[str, Fix]:
    """Fixes by entry name. An entry is one fix for the category of its name (or its own
    ``category:``), or a list of fixes for that category, each for its ``runtimes``."""
    out: dict[str, Fix] = {}
    for name, value in _mapping(doc, source, "fixes").items():
        if isinstance(value, list):
            for i, row in enumerate(value):
                out[f"{name}[{i}]"] = _fix(row, str(name), source, f"fixes.{name}[{i}]")
        else:
            out[str(name)] = _fix(value, str(name), source, f"fixes.{name}")
    return out


def _fix(raw: object, name: str, source: str, field: str) -> Fix:
    row = _mapping(raw, source, field)
    speedup = row.get("speedup")
    if speedup is not None and (
        isinstance(speedup, bool) or not isinstance(speedup, int | float) or speedup < 1
    ):
        raise InputError(
            "speedup must be a number >= 1, or null (no figure: the fix is not priced)",
            source=source,
            field=f"{field}.speedup",
        )
    runtimes = tuple(str(r) for r in _list(row.get("runtimes", []), source, f"{field}.runtimes"))
    for i, runtime in enumerate(runtimes):
        if runtime not in RUNTIMES:
            raise InputError(
                f"unknown runtime {echo(runtime)} (known: {', '.join(RUNTIMES)})",
                source=source,
                field=f"{field}.runtimes[{i}]",
            )
    return Fix(
        category=str(row.get("category", name)),
        optimization=str(row.get("optimization", "")),
        effort=_level(row, "effort", source, field),
        risk=_level(row, "risk", source, field),
        speedup=None if speedup is None else float(speedup),
        source=str(row.get("source", "")),
        confidence=_level(row, "confidence", source, field),
        example=str(row["example"]).rstrip() if row.get("example") else None,
        runtimes=runtimes,
    )


def parse_states(
    doc: object, source: str, categories: Mapping[str, Category]
) -> tuple[dict[str, ThreadState], tuple[StateRule, ...]]:
    """``thread_states.yaml``: the states and the frame rules that put a sample in one."""
    mapping = _mapping(doc, source, "")
    states: dict[str, ThreadState] = {}
    for name, raw in _mapping(mapping.get("states"), source, "states").items():
        field = f"states.{name}"
        row = _mapping(raw, source, field)
        category, bottleneck = row.get("category"), row.get("bottleneck")
        if category is not None and category not in categories:
            raise InputError(
                f"unknown category {echo(category)}", source=source, field=f"{field}.category"
            )
        if bottleneck is not None and bottleneck not in _TYPES:
            raise InputError(
                f"unknown bottleneck type (known: {', '.join(_TYPES)})",
                source=source,
                field=f"{field}.bottleneck",
            )
        states[str(name)] = ThreadState(
            name=str(name),
            label=str(row.get("label", name)),
            limits=bool(row.get("limits", True)),
            waiting=bool(row.get("waiting", False)),
            category=None if category is None else str(category),
            bottleneck=cast(BottleneckType | None, bottleneck),
        )
    rules = []
    for i, raw in enumerate(_list(mapping.get("rules"), source, "rules")):
        field = f"rules[{i}]"
        row = _mapping(raw, source, field)
        state = str(row.get("state"))
        if state not in states:
            raise InputError(
                f"unknown state {echo(state)} (known: {', '.join(states)})",
                source=source,
                field=f"{field}.state",
            )
        pattern, file = _pattern(row, "name", source, field), _pattern(row, "file", source, field)
        if pattern is None and file is None:
            raise InputError("a rule needs a name or a file pattern", source=source, field=field)
        runtime, caller = row.get("runtime"), row.get("called_from")
        for key, value in (("runtime", runtime), ("called_from", caller)):
            if value is not None and value not in _FRAME_RUNTIMES:
                raise InputError(
                    f"unknown frame kind {echo(value)} (known: {', '.join(_FRAME_RUNTIMES)})",
                    source=source,
                    field=f"{field}.{key}",
                )
        rules.append(
            StateRule(
                state,
                pattern,
                file,
                None if runtime is None else str(runtime),
                None if caller is None else str(caller),
            )
        )
    return states, tuple(rules)


def add_user_rules(settings: Settings, path: str | PathLike[str]) -> Settings:
    """Settings with a user's rules file on top: its rules first, its categories and fixes win."""
    from throughput_expert.sources.settings import read_yaml

    source = str(path)
    doc = read_yaml(path)
    categories = dict(settings.categories)
    categories.update(parse_categories(doc.get("categories", {}), source))
    rules = parse_rules(doc.get("rules", []), source, categories)
    fixes = dict(settings.fixes) | parse_fixes(doc.get("fixes", {}), source)
    return replace(
        settings,
        categories=categories,
        rules=rules + tuple(settings.rules),
        fixes=fixes,
        sources=(*settings.sources, source),
    )


_MAX_PATTERN = 1_000  # characters: a frame rule matches a name, not a document


def _pattern(row: Mapping[str, Any], key: str, source: str, field: str) -> re.Pattern[str] | None:
    text = row.get(key)
    if text is None:
        return None
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        raise InputError("expected a regular expression", source=source, field=f"{field}.{key}")
    if len(str(text)) > _MAX_PATTERN:
        raise InputError(
            f"a regular expression of {len(str(text)):,} characters (at most {_MAX_PATTERN:,})",
            source=source,
            field=f"{field}.{key}",
        )
    try:
        with warnings.catch_warnings():  # "possible nested set": a FutureWarning, not a line
            warnings.simplefilter("ignore")
            return re.compile(str(text))
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise InputError(
            f"bad regular expression: {echo(str(exc), 120)}", source=source, field=f"{field}.{key}"
        ) from None


def _level(row: Mapping[str, Any], key: str, source: str, field: str) -> Level:
    value = row.get(key)
    if value not in _LEVELS:
        raise InputError(
            f"expected one of {', '.join(_LEVELS)}", source=source, field=f"{field}.{key}"
        )
    return cast(Level, value)


def _mapping(value: object, source: str, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError("expected a mapping", source=source, field=field)
    return value


def _list(value: object, source: str, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError("expected a list", source=source, field=field)
    return value
