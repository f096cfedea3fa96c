"""Chrome DevTools / Node ``--cpu-prof`` profiles, ``.cpuprofile`` (docs/formats.md §2.4).

A call tree of nodes (parents from ``children``); ``samples[i]`` is the leaf node of sample i and
``timeDeltas[i]`` the microseconds since the previous sample. ``(root)`` is dropped;
``(program)``, ``(idle)`` and ``(garbage collector)`` stay as frames.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, FrameKind, Profile
from throughput_expert.model.records import InputRef
from throughput_expert.sources.profiles import StackTable

__all__ = ["read_cpuprofile"]

ROOT = "(root)"
IDLE = "(idle)"
# V8 ticks every 1000 µs by default (node --cpu-prof-interval).
DEFAULT_NOTE = "V8 samples the JS thread on a wall clock; (idle) marks time with nothing to run"
MAX_DELTA_US = 365.25 * 86400 * 1e6  # a time between two samples: at most a year


def read_cpuprofile(doc: Mapping[str, object], source: str) -> Profile:
    """A ``Profile`` from a parsed ``.cpuprofile`` document."""
    tree = _Tree(_nodes(doc.get("nodes"), source), source)
    leaves, weights, period = _leaf_weights(doc, tree.nodes, source)
    for leaf, weight in zip(leaves, weights, strict=True):
        tree.table.add(tree.path(leaf), weight)
    return _profile(tree.table, doc, period, source)


def _nodes(raw: object, source: str) -> dict[int, Mapping[str, object]]:
    if not isinstance(raw, list):
        raise InputError("nodes must be a list", source=source, field="nodes")
    nodes: dict[int, Mapping[str, object]] = {}
    for i, node in enumerate(raw):
        if not isinstance(node, dict) or type(node.get("id")) is not int:
            raise InputError("a node needs an integer id", source=source, field=f"nodes[{i}]")
        if not isinstance(node.get("callFrame"), dict):
            raise InputError("a node needs a callFrame", source=source, field=f"nodes[{i}]")
        nodes[node["id"]] = node
    return nodes


class _Tree:
    """The call tree: each node's parent, and its root -> leaf frames (memoised)."""

    def __init__(self, nodes: Mapping[int, Mapping[str, object]], source: str) -> None:
        self.nodes = nodes
        self.source = source
        self.parents = _parents(nodes, source)
        self.paths: dict[int, tuple[int, ...]] = {}
        self.by_call: dict[tuple[object, ...], int | None] = {}
        self.table = StackTable()

    def path(self, leaf: int) -> tuple[int, ...]:
        chain: list[int] = []
        node_id: int | None = leaf
        while node_id is not None and node_id not in self.paths:
            chain.append(node_id)
            node_id = self.parents.get(node_id)
            if len(chain) > len(self.nodes):
                raise InputError("the call tree has a cycle", source=self.source, field="nodes")
        path = self.paths[node_id] if node_id is not None else ()
        for nid in reversed(chain):
            index = self._frame_index(self.nodes[nid])
            path = path if index is None else (*path, index)
            self.paths[nid] = path
        return path

    def _frame_index(self, node: Mapping[str, object]) -> int | None:
        """The frame table index of a node's function; nodes of one function share it."""
        call = node["callFrame"]
        assert isinstance(call, dict)
        key: tuple[object, ...] | None
        key = (call.get("functionName"), call.get("url"), call.get("lineNumber"))
        try:
            index = self.by_call.get(key, -1)
        except TypeError:  # an unhashable value (a list) in the call frame
            index, key = -1, None
        if index == -1:
            frame = _frame(call)
            index = None if frame is None else self.table.frame(frame)
            if key is not None:
                self.by_call[key] = index
        return index


def _parents(nodes: Mapping[int, Mapping[str, object]], source: str) -> dict[int, int]:
    parents: dict[int, int] = {}
    for node_id, node in nodes.items():
        children = node.get("children", [])
        if not isinstance(children, list):
            raise InputError("children must be a list", source=source, field=f"node {node_id}")
        for child in children:
            if type(child) is not int or child not in nodes:
                raise InputError(
                    f"child {child!r} is not a node", source=source, field=f"node {node_id}"
                )
            if child in parents or child == node_id:
                raise InputError(f"node {child} has two parents", source=source, field="nodes")
            parents[child] = node_id
    return parents


def _leaf_weights(
    doc: Mapping[str, object], nodes: Mapping[int, object], source: str
) -> tuple[list[int], list[float], float | None]:
    """Unique leaf node ids with their summed weight (vectorised: one sample is one int)."""
    samples, deltas = doc.get("samples"), doc.get("timeDeltas")
    if not isinstance(samples, list):
        raise InputError("samples must be a list", source=source, field="samples")
    with_deltas = isinstance(deltas, list) and len(deltas) > 0
    if with_deltas and len(deltas) != len(samples):  # type: ignore[arg-type]
        raise InputError("timeDeltas must be as long as samples", source=source, field="timeDeltas")
    ids = _int_array(samples, source, "samples")
    weights = _float_array(deltas, source) if with_deltas else np.ones(len(ids))
    unique, sums = _sum_by_id(ids, np.clip(weights, 0.0, None))
    missing = [i for i in unique.tolist() if i not in nodes]
    if missing:
        raise InputError(f"sample {missing[0]} is not a node", source=source, field="samples")
    period = float(np.median(weights)) / 1e6 if with_deltas else None
    return unique.tolist(), sums.tolist(), period


def _sum_by_id(ids: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique ids and their summed weights: a direct bincount when ids are small (node ids
    are), a sort otherwise."""
    if len(ids) and ids.min() >= 0 and ids.max() <= 4 * len(ids) + 1_000_000:
        sums = np.bincount(ids, weights=weights)
        present = np.flatnonzero(np.bincount(ids))
        return present, sums[present]
    unique, inverse = np.unique(ids, return_inverse=True)
    return unique, np.bincount(inverse, weights=weights, minlength=len(unique))


def _int_array(values: list[object], source: str, where: str) -> np.ndarray:
    try:
        array = _array(values, source, where)
    except InputError:
        array = np.array([0.5])  # say why below, from the values (the rare, failing path)
    if len(array) and array.dtype.kind not in "iu":
        if all(type(v) is int for v in values):
            raise InputError("holds an integer too large", source=source, field=where)
        raise InputError("must hold integers only", source=source, field=where)
    return array.astype(np.int64, copy=False)


def _array(values: object, source: str, where: str) -> np.ndarray:
    """A numpy array of plain numbers (bools, strings, nested lists or objects are refused)."""
    if not isinstance(values, list):
        raise InputError("must be a list of numbers", source=source, field=where)
    try:
        array = np.array(values)
    except (OverflowError, ValueError, TypeError):
        raise InputError("must hold numbers only", source=source, field=where) from None
    if len(array) and (array.ndim != 1 or array.dtype.kind not in "iuf"):
        raise InputError("must hold numbers only", source=source, field=where)
    return array


def _float_array(values: object, source: str) -> np.ndarray:
    array = _array(values, source, "timeDeltas").astype(np.float64, copy=False)
    if len(array) and not float(np.abs(array).max()) <= MAX_DELTA_US:  # NaN fails too
        raise InputError(
            "must hold finite microseconds within ±1 year (3.2e13)",
            source=source,
            field="timeDeltas",
        )
    return array


def _frame(call: Mapping[str, object]) -> Frame | None:
    name = call.get("functionName")
    name = name if isinstance(name, str) else ""
    if name == ROOT:
        return None
    url = call.get("url")
    url = url if isinstance(url, str) else ""
    line = call.get("lineNumber")
    kind: FrameKind = "js" if url else "unknown"
    # lineNumber is 0-based in V8; Frame.line is 1-based like every other format.
    line_no = line + 1 if type(line) is int and line >= 0 else None
    return Frame(name or "(anonymous)", url or None, line_no, kind)


def _profile(
    table: StackTable, doc: Mapping[str, object], period: float | None, source: str
) -> Profile:
    frames, stacks, weights, threads = table.columns()
    idle = any(f.name == IDLE for f in frames)
    start, end = doc.get("startTime"), doc.get("endTime")
    duration = None
    if type(start) in (int, float) and type(end) in (int, float) and end >= start:  # type: ignore[operator]
        duration = (float(end) - float(start)) / 1e6  # type: ignore[arg-type]
    return Profile(
        frames=frames,
        stacks=stacks,
        weights=weights,
        threads=threads,
        unit="samples" if period is None else "microseconds",
        measures="wall",
        format="cpuprofile",
        source=InputRef(source=source, kind="profile", detail=".cpuprofile"),
        idle_included=idle,
        exporter=None,
        sample_period_s=period,
        duration_s=duration,
        notes=(DEFAULT_NOTE,),
    )
