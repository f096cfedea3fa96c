"""Loads the defaults data (``advisors/data/*.yaml``, and the Prometheus queries in
``sources/data/prometheus_queries.yaml``) and a user's ``--defaults FILE`` over it.

A user file holds only the keys it changes; mappings merge key by key, lists replace. A user
file may also carry ``plays:`` with new playbook entries (same ``id`` replaces an entry).

A key the packaged data does not have is refused, at any depth, naming the closest known key
(docs/formats.md §5.6): a misspelled key would otherwise change nothing, silently. The known keys
are the packaged data's own; sections whose entries a user may add (``batching_operations``, the
playbook's entries) are open by name, but each entry's keys are fixed. A batching operation the
user adds takes the keys it leaves out from the ``default`` operation (its ``source``, when it
sets its own ``fixed_share``, names the user's file).

Every value is read from the merged data without a fallback of its own: a user file can change
a key, never remove one, so a key missing here is missing from the packaged data (``Settings.
threshold`` and ``Settings.setting`` say which).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from importlib import resources
from math import inf
from os import PathLike
from typing import Any, cast, get_args

from throughput_expert.errors import InputError
from throughput_expert.model import RESOURCES, BottleneckType, Level, Resource
from throughput_expert.model.quantity import check_keys, did_you_mean, echo, gate, parse_fraction
from throughput_expert.model.settings import (
    SIGNAL_TRIGGERS,
    Benchmark,
    Horizon,
    MissingSetting,
    Play,
    Quantify,
    Settings,
)
from throughput_expert.model.system import ChangeKind
from throughput_expert.sources.rules import (
    parse_categories,
    parse_fixes,
    parse_rules,
    parse_states,
)
from throughput_expert.sources.signals import SIGNAL_NAMES
from throughput_expert.sources.yaml_safe import load_yaml, read_yaml_file

__all__ = ["MAX_SETTINGS_BYTES", "load_settings", "read_yaml"]

# A --defaults or --rules file holds overrides: all the packaged data together is under 40 KB,
# so 256 KiB leaves six times that, and bounds PyYAML's pure-Python parse (about 10 us a token)
# to a second or two on hostile input, where 1 MiB would take ten.
MAX_SETTINGS_BYTES = 256 << 10
MAX_POINTS = 10_000  # points of a computed curve: far past what a plot shows

_PLAYBOOK = "throughput_expert/advisors/data/playbook.yaml"
_PLAY_KEYS = tuple(f.name for f in fields(Play))


def load_settings(user_file: str | PathLike[str] | None = None) -> Settings:
    """The packaged defaults, overridden by ``user_file`` when given."""
    raw = _packaged("defaults.yaml")
    raw["batching_operations"] = _packaged("batching.yaml")["operations"]
    raw["prometheus_queries"] = _packaged("prometheus_queries.yaml", "sources")
    triggers = _triggers(raw)
    plays = _plays(_packaged("playbook.yaml").get("plays", []), _PLAYBOOK, triggers)
    sources = ["throughput_expert/advisors/data/defaults.yaml"]
    if user_file is not None:
        source = str(user_file)
        user = read_yaml(user_file)
        _check_shape(user, {**_shape(raw), "plays": None}, source, "")
        extra = _plays(user.pop("plays", []), source, triggers)
        ids = {p.id for p in extra}
        plays = tuple(p for p in plays if p.id not in ids) + extra
        packaged_operations = set(raw["batching_operations"])
        raw = _deep_merge(raw, user)
        raw["batching_operations"] = _completed_operations(
            raw["batching_operations"], packaged_operations, source
        )
        sources.append(source)
    settings = _settings(raw, plays, str(user_file or "defaults"), tuple(sources))
    return _with_profile_rules(settings)


@dataclass(frozen=True)
class _Entries:
    """The shape of an open section: entries of any name, each shaped like ``entry``."""

    entry: Mapping[str, Any]


def _shape(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What a user file may hold: the packaged data itself, with three widenings. Saturation
    targets may be written ``cpu_pct`` (docs/formats.md §5.3); a PromQL entry may name any signal
    (under ``node``, ``service`` or flat, as ``queries_from_mapping`` reads them); batching
    operations are open by name, each with the keys the packaged operations have."""
    shape = dict(raw)
    targets = raw["saturation_targets"]
    shape["saturation_targets"] = {**targets, **{f"{k}_pct": v for k, v in targets.items()}}
    queries = raw["prometheus_queries"]
    names = [n for group in queries.values() for n in group] + list(SIGNAL_NAMES)
    signals = dict.fromkeys(names, "")
    shape["prometheus_queries"] = {**dict.fromkeys(queries, signals), **signals}
    operations = raw["batching_operations"]
    shape["batching_operations"] = _Entries(
        {k: v for op in operations.values() for k, v in op.items()}
    )
    return shape


def _check_shape(doc: object, shape: object, source: str, field: str) -> None:
    """Refuse a key ``shape`` does not have, and a mapping where a value belongs or the
    reverse, naming the field path (``None`` in ``shape``: not checked here)."""
    if isinstance(shape, _Entries):
        entries = _section(doc, source, field)
        for name, entry in entries.items():
            _check_shape(entry, shape.entry, source, f"{field}.{name}")
    elif isinstance(shape, Mapping):
        section = _section(doc, source, field)
        check_keys(section, shape, source, f"{field}." if field else "")
        for key, value in section.items():
            _check_shape(value, shape[key], source, f"{field}.{key}" if field else str(key))
    elif shape is not None and isinstance(doc, Mapping):
        raise InputError("expected a value, not a mapping", source=source, field=field)


def _section(doc: object, source: str, field: str) -> Mapping[Any, object]:
    if not isinstance(doc, Mapping):
        raise InputError("expected a mapping", source=source, field=field)
    return doc


def _triggers(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """What a play's ``when`` may name: the signals analyze computes, ``bottleneck:TYPE``, and
    ``system:TYPE`` for the system types the benchmarks rate."""
    bottlenecks = (f"bottleneck:{t}" for t in get_args(BottleneckType))
    systems = (f"system:{name}" for name in raw["benchmarks"])
    return (*SIGNAL_TRIGGERS, *bottlenecks, *systems)


def _plays(docs: object, source: str, triggers: tuple[str, ...]) -> tuple[Play, ...]:
    if not isinstance(docs, list):
        raise InputError("expected a list of plays", source=source, field="plays")
    return tuple(_play(p, i, source, triggers) for i, p in enumerate(docs))


def _with_profile_rules(settings: Settings) -> Settings:
    source = "throughput_expert/advisors/data/categories.yaml"
    doc = _packaged("categories.yaml")
    categories = parse_categories(doc["categories"], source)
    rules = parse_rules(doc["rules"], source, categories)
    fixes = parse_fixes(
        _packaged("fixes.yaml")["fixes"], "throughput_expert/advisors/data/fixes.yaml"
    )
    states, state_rules = parse_states(
        _packaged("thread_states.yaml"),
        "throughput_expert/advisors/data/thread_states.yaml",
        categories,
    )
    return replace(
        settings,
        categories=categories,
        rules=rules,
        fixes=fixes,
        states=states,
        state_rules=state_rules,
    )


_PARSED: dict[tuple[str, str], dict[str, Any]] = {}


def _packaged(name: str, stage: str = "advisors") -> dict[str, Any]:
    """A packaged data file: the advisors' data, or (``stage="sources"``) what only sources read.

    Parsed once per process (the MCP server and library callers load settings on every call:
    ~9 ms of YAML each time), and handed out as a deep copy (~0.6 ms), so that no caller's
    change to it reaches the next."""
    key = (name, stage)
    doc = _PARSED.get(key)
    if doc is None:
        folder = resources.files(f"throughput_expert.{stage}").joinpath("data")
        text = folder.joinpath(name).read_text("utf-8")
        loaded = _load_packaged(text, f"throughput_expert/{stage}/data/{name}")
        doc = _PARSED[key] = cast(dict[str, Any], loaded)
    return copy.deepcopy(doc)


def _load_packaged(text: str, source: str) -> object:
    """The package's own YAML (trusted, ours): libyaml's C safe loader when PyYAML has it (about
    a tenth of the pure-Python loader's time: it is read on every run), else the guarded one used
    for users' files."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return load_yaml(text, source)
    return yaml.load(text, Loader=loader)  # CSafeLoader: plain data only


def read_yaml(path: str | PathLike[str]) -> dict[str, Any]:
    """A user's YAML (or JSON) mapping: plain data, no anchors or aliases, at most
    ``MAX_SETTINGS_BYTES``, with one-line errors."""
    doc = read_yaml_file(path, limit=MAX_SETTINGS_BYTES)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError("expected a mapping", source=str(path))
    return doc


def _completed_operations(
    merged: Mapping[str, Any], packaged: set[str], source: str
) -> dict[str, Any]:
    """The batching operations, each one a user file adds with every key: the keys it leaves
    out come from ``default``; its ``source``, when it sets its own ``fixed_share``, is the
    file."""
    out = dict(merged)
    default = merged["default"]
    for name, entry in merged.items():
        if name in packaged or not isinstance(entry, Mapping):
            continue
        own = {"source": f"given in {source}"} if "fixed_share" in entry else {}
        out[name] = {**default, **own, **entry}
    return out


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _settings(
    raw: dict[str, Any], plays: tuple[Play, ...], source: str, sources: tuple[str, ...]
) -> Settings:
    def number(section: str, key: str, low: float = 0.0, high: float = inf) -> float:
        value = _key(_mapping(raw, section, source), section, key)
        return _number(value, f"{section}.{key}", source, low=low, high=high)

    raw = {**raw, "thread_pools": _thread_pools(_mapping(raw, "thread_pools", source), source)}
    return Settings(
        saturation_targets=_targets(_mapping(raw, "saturation_targets", source), source),
        thresholds=_numbers(_mapping(raw, "thresholds", source), "thresholds", source),
        benchmarks=_benchmarks(_mapping(raw, "benchmarks", source), source),
        plays=plays,
        latency_curve_points=int(number("latency_curve", "points", low=2, high=MAX_POINTS)),
        latency_curve_max_utilization=number("latency_curve", "max_utilization", low=0.1),
        raw=raw,
        sources=sources,
    )


# The numeric gate's kind of each thread_pools setting (model.quantity.RANGES); the advisors read
# them through Settings.setting, so they are checked here, once.
_POOL_KINDS = {
    "io_multiplier_when_unknown": "workers",
    "async_wait_compute_ratio": "ratio",
    "async_pool_threshold": "workers",
}


def _thread_pools(doc: Mapping[str, Any], source: str) -> dict[str, float]:
    out = {}
    for key, value in doc.items():
        field = f"thread_pools.{key}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError("expected a number", source=source, field=field)
        out[str(key)] = gate(value, _POOL_KINDS.get(str(key), "count"), source=source, field=field)
    return out


def _key(section: Mapping[str, Any], name: str, key: str) -> object:
    """``section[key]``, ``section`` being the data's ``name``: a user file merges over the
    packaged data, so a key missing here is missing from the packaged data."""
    if key not in section:
        raise MissingSetting(f"{name}.{key}" if name else key)
    return section[key]


def _mapping(raw: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = _key(raw, "", key)
    if not isinstance(value, Mapping):
        raise InputError("expected a mapping", source=source, field=key)
    return value


def _number(value: object, field: str, source: str, low: float = 0.0, high: float = inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value < inf:
        raise InputError(f"expected a finite number >= {low:g}", source=source, field=field)
    # the numeric gate's widest range first (an int of 400 digits has no float to show): no
    # setting is a number beyond 64 bits, and one that multiplies a rate must not reach inf
    number = gate(value, "count", source=source, field=field)
    if number > high:
        raise InputError(
            f"{number:g} is more than {high:g} (a curve's points size its work)",
            source=source,
            field=field,
        )
    return number


def _numbers(doc: Mapping[str, Any], prefix: str, source: str) -> dict[str, float]:
    return {str(k): _number(v, f"{prefix}.{k}", source) for k, v in doc.items()}


def _targets(doc: Mapping[str, Any], source: str) -> dict[Resource, float]:
    out: dict[Resource, float] = {}
    for key, value in doc.items():
        resource = str(key).removesuffix("_pct")
        if resource not in RESOURCES:
            raise InputError(
                f"unknown resource (known: {', '.join(RESOURCES)})",
                source=source,
                field=f"saturation_targets.{key}",
            )
        field = f"saturation_targets.{key}"
        target = parse_fraction(value, key=str(key), source=source, field=field)
        if target <= 0:
            raise InputError("a saturation target must be above 0", source=source, field=field)
        out[resource] = target
    return out


def _benchmarks(doc: Mapping[str, Any], source: str) -> dict[str, Benchmark]:
    out: dict[str, Benchmark] = {}
    for name, row in doc.items():
        field = f"benchmarks.{name}"
        if not isinstance(row, Mapping):
            raise InputError("expected a mapping", source=source, field=field)
        out[str(name)] = Benchmark(
            unit=str(_key(row, field, "unit")),
            per_core=bool(_key(row, field, "per_core")),
            good=_number(_key(row, field, "good"), f"{field}.good", source),
            excellent=_number(_key(row, field, "excellent"), f"{field}.excellent", source),
        )
    return out


def _play(doc: object, index: int, source: str, triggers: tuple[str, ...]) -> Play:
    field = f"plays[{index}]"
    if not isinstance(doc, Mapping):
        raise InputError("expected a mapping", source=source, field=field)
    check_keys(doc, _PLAY_KEYS, source, f"{field}.")
    when = doc.get("when", [])
    if not isinstance(when, list) or not when:
        raise InputError(
            "'when' must be a non-empty list of triggers", source=source, field=f"{field}.when"
        )
    for i, trigger in enumerate(when):
        if str(trigger) not in triggers:
            raise InputError(
                f"unknown trigger {echo(trigger)}{did_you_mean(str(trigger), triggers)}",
                source=source,
                field=f"{field}.when[{i}]",
            )
    return Play(
        id=str(doc.get("id", f"play-{index}")),
        when=tuple(str(w) for w in when),
        optimization=_text(doc, "optimization", field, source),
        horizon=cast(Horizon, _choice(doc, "horizon", get_args(Horizon), field, source)),
        effort=cast(Level, _choice(doc, "effort", get_args(Level), field, source)),
        risk=cast(Level, _choice(doc, "risk", get_args(Level), field, source)),
        quantify=cast(Quantify, _choice(doc, "quantify", get_args(Quantify), field, source)),
        rationale=_text(doc, "rationale", field, source),
        example=str(doc["example"]).rstrip() if doc.get("example") else None,
        change=_change(doc, field, source),
    )


def _change(doc: Mapping[str, Any], field: str, source: str) -> ChangeKind | None:
    """A ``quantify: model`` play names the change it makes to the system model; others none."""
    if doc.get("quantify") != "model":
        if doc.get("change") is not None:
            raise InputError(
                "only a play with quantify: model makes a change", source=source, field=field
            )
        return None
    return cast(ChangeKind, _choice(doc, "change", get_args(ChangeKind), field, source))


def _text(doc: Mapping[str, Any], key: str, field: str, source: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError("expected text", source=source, field=f"{field}.{key}")
    return value.strip()


def _choice(
    doc: Mapping[str, Any], key: str, allowed: tuple[str, ...], field: str, source: str
) -> str:
    value = doc.get(key)
    if value not in allowed:
        raise InputError(
            f"expected one of {', '.join(allowed)}", source=source, field=f"{field}.{key}"
        )
    return str(value)
