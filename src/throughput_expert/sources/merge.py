"""Merging several metrics records of one system: the first file that has a value wins.

Two files that disagree on a number by more than ``CONFLICT_TOLERANCE`` (``model.quantity.
disagree``) leave a note that names both values and which was used, so the report can show the
contradiction instead of hiding it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any, TypeVar

from throughput_expert.model import Latency, Resource, Saturation, ServiceMetrics
from throughput_expert.model.quantity import disagree

__all__ = ["CONFLICT_TOLERANCE", "merge_metrics"]

# The packaged default of ``thresholds.conflict_tolerance`` (advisors/data/defaults.yaml): files
# are merged while they are read, before any settings (and a user's --defaults) are loaded, so
# merging uses the packaged number; tests/model/test_settings_keys_used.py keeps the two equal.
CONFLICT_TOLERANCE = 0.10
_Flat = TypeVar("_Flat", Latency, Saturation)
_NESTED = ("latency", "saturation", "utilization", "cpu_by_mode", "inputs", "notes")


def merge_metrics(records: Sequence[ServiceMetrics]) -> ServiceMetrics:
    """One record from several, in order of precedence."""
    merged = records[0]
    for other in records[1:]:
        merged = _merge_two(merged, other)
    return merged


def _merge_two(a: ServiceMetrics, b: ServiceMetrics) -> ServiceMetrics:
    notes = list(a.notes) + list(b.notes)
    changes: dict[str, Any] = {}
    for f in fields(ServiceMetrics):
        if f.name in _NESTED:
            continue
        changes[f.name] = _pick(f.name, getattr(a, f.name), getattr(b, f.name), notes)
    changes["latency"] = _merge_flat(a.latency, b.latency, "latency", notes)
    changes["saturation"] = _merge_flat(a.saturation, b.saturation, "saturation", notes)
    utilization: dict[Resource, float] = dict(b.utilization)
    for resource, value in a.utilization.items():
        _pick(f"utilization.{resource}", value, b.utilization.get(resource), notes)
        utilization[resource] = value
    changes["utilization"] = utilization
    changes["cpu_by_mode"] = dict(a.cpu_by_mode) or dict(b.cpu_by_mode)
    changes["inputs"] = a.inputs + b.inputs
    changes["notes"] = tuple(notes)
    return replace(a, **changes)


def _merge_flat(a: _Flat, b: _Flat, prefix: str, notes: list[str]) -> _Flat:
    values = {
        f.name: _pick(f"{prefix}.{f.name}", getattr(a, f.name), getattr(b, f.name), notes)
        for f in fields(a)
    }
    return type(a)(**values)


def _pick(name: str, a: Any, b: Any, notes: list[str]) -> Any:
    if a is None:
        return b
    numbers = isinstance(a, float | int) and isinstance(b, float | int)
    if numbers and not isinstance(a, bool) and disagree(float(a), float(b), CONFLICT_TOLERANCE):
        notes.append(
            f"conflict: {name} is {a:g} in one input and {b:g} in another; "
            f"used {a:g} (the first input that has it)"
        )
    return a
