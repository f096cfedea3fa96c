"""The architecture file (YAML; schema ``schemas/architecture.schema.json``, example in
``examples/three-tier.yaml``): safe-loaded, size-capped, aliases refused, unknown keys refused.

Fan-out: a component's ``calls_per_request`` (calls per entry request), or derived from the
``calls`` edges of its callers (entry components, called by nobody, default to 1). When both are
given and disagree by more than the settings' ``thresholds.conflict_tolerance`` (10 %), the report
says so. A cycle of calls is an input error.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any, cast

from throughput_expert.errors import InputError
from throughput_expert.model import InputRef, Resource
from throughput_expert.model.architecture import KINDS, Architecture, Component, Edge
from throughput_expert.model.quantity import (
    check_keys,
    parse_bytes,
    parse_count,
    parse_duration,
    parse_fraction,
    parse_rate,
)
from throughput_expert.sources.yaml_safe import read_yaml_file

__all__ = ["MAX_BYTES", "architecture_from_doc", "load_architecture"]

MAX_BYTES = 1 << 20
_TOP = ("system", "entry_rate", "entry_rate_rps", "cost_unit", "components", "$schema")
_COMPONENT = (
    "name",
    "kind",
    "instances",
    "max_instances",
    "cores",
    "memory",
    "calls_per_request",
    "read_share",
    "utilization",
    "memory_grows_with_rate",
    "capacity_per_instance",
    "service_time",
    "concurrency",
    "stateless",
    "partitionable",
    "partition_key",
    "partitions",
    "consumes",
    "scaling",
    "sweep",
    "unit_cost",
    "acceptable_delay",
    "calls",
    "prometheus",
    "notes",
)
_RESOURCES: tuple[Resource, ...] = ("cpu", "memory", "disk_io", "network")


def load_architecture(path: str | PathLike[str]) -> Architecture:
    source = str(path)
    doc = read_yaml_file(path, limit=MAX_BYTES)
    if not isinstance(doc, dict):
        raise InputError("expected a mapping with system, entry_rate and components", source=source)
    return architecture_from_doc(doc, source, Path(source).parent)


def architecture_from_doc(doc: Mapping[str, Any], source: str, folder: Path) -> Architecture:
    """An architecture from its parsed form (a mapping, as in the YAML file)."""
    check_keys(doc, _TOP, source, "")
    raw = doc.get("components")
    if not isinstance(raw, list) or not raw:
        raise InputError(
            "expected a non-empty list of components", source=source, field="components"
        )
    components = [_component(c, source, f"components[{i}]", folder) for i, c in enumerate(raw)]
    names = [c.name for c in components]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"component {dup!r} is defined twice", source=source, field="components")
    edges = _edges(raw, names, source)
    rate = doc.get("entry_rate", doc.get("entry_rate_rps"))
    if rate is None:
        raise InputError(
            "the current entry rate is required (e.g. entry_rate: 2000 rps)",
            source=source,
            field="entry_rate",
        )
    return Architecture(
        system=str(doc.get("system", Path(source).stem)),
        entry_rate_rps=parse_rate(rate, source=source, field="entry_rate"),
        components=tuple(components),
        edges=edges,
        cost_unit=str(doc.get("cost_unit", "per hour")),
        source=InputRef(source, "architecture", f"{len(components)} components"),
    )


def _component(doc: object, source: str, field: str, folder: Path) -> Component:
    if not isinstance(doc, dict):
        raise InputError("expected a mapping", source=source, field=field)
    check_keys(doc, _COMPONENT, source, f"{field}.")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise InputError("every component needs a name", source=source, field=f"{field}.name")
    field = f"components.{name}"
    kind = doc.get("kind")
    if kind not in KINDS:
        raise InputError(
            f"unknown kind {kind!r} (known: {', '.join(KINDS)})",
            source=source,
            field=f"{field}.kind",
        )
    r = _Reader(doc, source, field)
    scaling = r.mapping("scaling")
    return Component(
        name=name,
        kind=kind,
        instances=r.whole("instances") or 1,
        max_instances=r.whole("max_instances"),
        cores=r.num("cores", parse_count),
        memory_bytes=r.num("memory", parse_bytes),
        fanout=r.num("calls_per_request", parse_count),
        read_share=r.fraction("read_share"),
        utilization=_utilization(r),
        memory_grows_with_rate=r.flag("memory_grows_with_rate") or False,
        capacity_per_instance_rps=r.num("capacity_per_instance", parse_rate),
        service_time_s=r.duration("service_time"),
        concurrency_per_instance=r.whole("concurrency") or 1,
        stateless=r.flag("stateless"),
        partitionable=r.flag("partitionable") or bool(doc.get("partition_key")),
        partition_key=r.text("partition_key"),
        partitions=r.whole("partitions"),
        consumes=r.text("consumes"),
        sigma=_coefficient(scaling, "sigma", source, field),
        kappa=_coefficient(scaling, "kappa", source, field),
        sweep=str(folder / doc["sweep"]) if doc.get("sweep") else None,
        unit_cost=r.num("unit_cost", parse_count),
        acceptable_delay_s=r.duration("acceptable_delay"),
        prometheus={str(k): str(v) for k, v in r.mapping("prometheus").items()},
    )


class _Reader:
    def __init__(self, doc: Mapping[str, Any], source: str, field: str) -> None:
        self.doc, self.source, self.field = doc, source, field

    def _where(self, key: str) -> str:
        return f"{self.field}.{key}"

    def num(self, key: str, parse: Any) -> float | None:
        value = self.doc.get(key)
        return (
            None
            if value is None
            else cast(float, parse(value, source=self.source, field=self._where(key)))
        )

    def whole(self, key: str) -> int | None:
        value = self.num(key, parse_count)
        if value is None:
            return None
        if value != int(value) or value < 1:
            raise InputError(
                f"expected a whole number >= 1, got {value:g}",
                source=self.source,
                field=self._where(key),
            )
        return int(value)

    def duration(self, key: str) -> float | None:
        value = self.doc.get(key)
        if value is None:
            return None
        return parse_duration(value, source=self.source, field=self._where(key), default_unit="ms")

    def fraction(self, key: str) -> float | None:
        value = self.doc.get(key)
        if value is None:
            return None
        return parse_fraction(value, key=key, source=self.source, field=self._where(key))

    def flag(self, key: str) -> bool | None:
        value = self.doc.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise InputError("expected true or false", source=self.source, field=self._where(key))

    def text(self, key: str) -> str | None:
        value = self.doc.get(key)
        return None if value is None else str(value)

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self.doc.get(key) or {}
        if not isinstance(value, dict):
            raise InputError("expected a mapping", source=self.source, field=self._where(key))
        return value


def _utilization(r: _Reader) -> dict[Resource, float]:
    doc = r.mapping("utilization")
    allowed = _RESOURCES + tuple(f"{x}_pct" for x in _RESOURCES)
    check_keys(doc, allowed, r.source, f"{r.field}.utilization.")
    out: dict[Resource, float] = {}
    for key, value in doc.items():
        resource = cast(Resource, str(key).removesuffix("_pct"))
        out[resource] = parse_fraction(
            value, key=str(key), source=r.source, field=f"{r.field}.utilization.{key}"
        )
    return out


def _coefficient(doc: Mapping[str, Any], key: str, source: str, field: str) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError("expected a number >= 0", source=source, field=f"{field}.scaling.{key}")
    if key == "sigma" and value > 1:
        raise InputError("sigma is at most 1", source=source, field=f"{field}.scaling.sigma")
    return float(value)


def _edges(raw: list[Any], names: list[str], source: str) -> tuple[Edge, ...]:
    edges = []
    for doc in raw:
        calls = doc.get("calls") or {}
        if not isinstance(calls, dict):
            raise InputError(
                "expected a mapping of callee: calls per call",
                source=source,
                field=f"components.{doc['name']}.calls",
            )
        for callee, n in calls.items():
            field = f"components.{doc['name']}.calls.{callee}"
            if callee not in names:
                raise InputError(f"unknown component {callee!r}", source=source, field=field)
            edges.append(Edge(doc["name"], str(callee), parse_count(n, source=source, field=field)))
    _check_acyclic(edges, source)
    return tuple(edges)


def _check_acyclic(edges: list[Edge], source: str) -> None:
    graph: dict[str, list[str]] = {}
    for e in edges:
        graph.setdefault(e.caller, []).append(e.callee)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 1:
            cycle = " -> ".join([*path[path.index(node) :], node])
            raise InputError(f"a fan-out cycle: {cycle}", source=source, field="calls")
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph.get(node, []):
            visit(nxt, [*path, node])
        state[node] = 2

    for node in list(graph):
        visit(node, [])
