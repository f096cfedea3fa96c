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
    echo,
    gate,
    parse_bytes,
    parse_count,
    parse_duration,
    parse_fraction,
    parse_rate,
)
from throughput_expert.safe_text import terminal_safe
from throughput_expert.sources.yaml_safe import read_yaml_file

__all__ = ["MAX_BYTES", "MAX_COMPONENTS", "architecture_from_doc", "load_architecture"]

MAX_BYTES = 1 << 20
# Components bound the scaling plan's work (one plan, fan-out and queue check each): a system
# drawn as more than this many components is not one architecture file's.
MAX_COMPONENTS = 1_000
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
    if len(raw) > MAX_COMPONENTS:
        raise InputError(
            f"{len(raw):,} components: at most {MAX_COMPONENTS:,} in one architecture",
            source=source,
            field="components",
        )
    components = [_component(c, source, f"components[{i}]", folder) for i, c in enumerate(raw)]
    names = [c.name for c in components]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(
            f"component {echo(dup)} is defined twice", source=source, field="components"
        )
    edges = _edges(raw, names, source)
    rate = doc.get("entry_rate", doc.get("entry_rate_rps"))
    if rate is None:
        raise InputError(
            "the current entry rate is required (e.g. entry_rate: 2000 rps)",
            source=source,
            field="entry_rate",
        )
    for key in ("system", "cost_unit"):
        if isinstance(doc.get(key), dict | list):
            raise InputError("expected text", source=source, field=key)
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
    field = f"components.{_name(name)}"
    kind = doc.get("kind")
    if kind not in KINDS:
        raise InputError(
            f"unknown kind {echo(kind)} (known: {', '.join(KINDS)})",
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
        capacity_per_instance_rps=r.positive("capacity_per_instance", parse_rate),
        service_time_s=r.duration("service_time"),
        concurrency_per_instance=r.whole("concurrency") or 1,
        concurrency_given=r.whole("concurrency") is not None,
        stateless=r.flag("stateless"),
        partitionable=r.flag("partitionable") or bool(doc.get("partition_key")),
        partition_key=r.text("partition_key"),
        partitions=r.whole("partitions"),
        consumes=r.text("consumes"),
        sigma=_coefficient(scaling, "sigma", source, field),
        kappa=_coefficient(scaling, "kappa", source, field),
        sweep=str(folder / r.path("sweep")) if doc.get("sweep") else None,
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

    def positive(self, key: str, parse: Any) -> float | None:
        value = self.num(key, parse)
        if value is not None and value <= 0:
            raise InputError(
                "must be above 0 (an instance that carries nothing cannot be scaled out)",
                source=self.source,
                field=self._where(key),
            )
        return value

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
        if value is None:
            return None
        if isinstance(value, dict | list):
            raise InputError("expected text", source=self.source, field=self._where(key))
        return str(value)

    def path(self, key: str) -> str:
        value = self.doc.get(key)
        if not isinstance(value, str) or "\x00" in value:
            raise InputError("expected a file path", source=self.source, field=self._where(key))
        return value

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
    # σ and κ of the USL are fractions: σ the serial share, κ the cost of each pair's coherency
    # as a share of one request's work (κ > 1 would halve throughput at two servers already).
    return gate(value, "fraction", source=source, field=f"{field}.scaling.{key}")


def _edges(raw: list[Any], names: list[str], source: str) -> tuple[Edge, ...]:
    known = set(names)  # a callee looked up per edge: not a scan of the list each time
    edges = []
    for doc in raw:
        calls = doc.get("calls") or {}
        if not isinstance(calls, dict):
            raise InputError(
                "expected a mapping of callee: calls per call",
                source=source,
                field=f"components.{_name(doc['name'])}.calls",
            )
        for callee, n in calls.items():
            field = f"components.{_name(doc['name'])}.calls.{_name(str(callee))}"
            if not isinstance(callee, str) or callee not in known:
                raise InputError(f"unknown component {echo(callee)}", source=source, field=field)
            edges.append(Edge(doc["name"], str(callee), parse_count(n, source=source, field=field)))
    consumes = {}
    for doc in raw:
        queue = doc.get("consumes")
        if queue is None:
            continue
        field = f"components.{_name(doc['name'])}.consumes"
        if not isinstance(queue, str) or queue not in known:
            raise InputError(
                f"unknown component {_shown_name(queue)} (consumes names a queue among the "
                "components)",
                source=source,
                field=field,
            )
        consumes[str(doc["name"])] = queue
    _check_acyclic(edges, consumes, source)
    return tuple(edges)


def _name(name: str) -> str:
    """A component's name in a field path: escaped and cut (a name of megabytes is no path)."""
    return terminal_safe(name, 60)


def _shown_name(value: object) -> str:
    return repr(value[:40]) if isinstance(value, str) else f"of type {type(value).__name__}"


def _check_acyclic(edges: list[Edge], consumes: Mapping[str, str], source: str) -> None:
    """Refuse a cycle through calls and ``consumes`` (what a component's rate is derived from:
    its callers, else the queue it consumes), named ``a -> b -> a``. Iterative: a chain of
    thousands of components costs no recursion."""
    graph: dict[str, list[tuple[str, str]]] = {}
    for e in edges:
        graph.setdefault(e.caller, []).append((e.callee, "calls"))
    for consumer, queue in consumes.items():
        graph.setdefault(queue, []).append((consumer, "consumes"))
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        path, on_path = [root], {root: 0}
        stack = [iter(graph.get(root, []))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                finished = path.pop()
                on_path.pop(finished)
                done.add(finished)
                stack.pop()
                continue
            node, how = step
            if node in on_path:
                cycle = _cycle([*path[on_path[node] :], node])
                what = "a consumes cycle" if how == "consumes" else "a fan-out cycle"
                raise InputError(f"{what}: {cycle}", source=source, field=how)
            if node in done:
                continue
            on_path[node] = len(path)
            path.append(node)
            stack.append(iter(graph.get(node, [])))


def _cycle(names: list[str]) -> str:
    """``a -> b -> a``; a long cycle shows its first and last names and how many between."""
    if len(names) > 8:
        names = [*names[:4], f"... ({len(names) - 7} more)", *names[-3:]]
    return " -> ".join(names)
