"""Every defaults key the code reads is in the packaged data (``advisors/data/*.yaml``).

Defaults live only in that data: code reads a key without a fallback of its own
(``Settings.threshold``, ``Settings.target``, ``Settings.setting``, a plain subscript), so a
missing key would raise ``MissingSetting`` at run time. This module finds, with ``ast``, every key
the source reads and checks the packaged data defines it, so a missing default is caught here, and
refuses any ``.get(key, fallback)`` on the settings, the one way a code fallback could hide it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

import throughput_expert
from throughput_expert.advisors.resources import _SIGNALS
from throughput_expert.api import RUNTIMES
from throughput_expert.model import RESOURCES
from throughput_expert.model.settings import Benchmark, MissingSetting
from throughput_expert.sources.merge import CONFLICT_TOLERANCE
from throughput_expert.sources.settings import load_settings

SRC = Path(throughput_expert.__file__).parent
PACKAGED = load_settings()
RAW = PACKAGED.raw

# Attributes of ``Settings`` that hold the data itself: reading them with ``.get(key, x)`` would
# be a fallback of the code's own.
DATA = {"thresholds", "saturation_targets", "raw"}
# Where ``.get`` on the data is allowed: the accessors themselves (they raise ``MissingSetting``
# when the key is absent), and one known read of the Prometheus queries (always packaged) in
# ``live.py``; listed so that any new one fails.
ALLOWED_GETS = {"model/settings.py"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), ast.parse(path.read_text("utf-8"))


MODULES = dict(_modules())


def _calls(method: str) -> Iterator[tuple[str, ast.Call]]:
    """Every call ``<something>.<method>(...)`` in the package."""
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == method
            ):
                yield name, node


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _where(name: str, node: ast.AST) -> str:
    return f"{name}:{getattr(node, 'lineno', '?')}"


def test_every_threshold_read_is_packaged() -> None:
    dynamic, missing, read = [], [], set()
    for name, call in _calls("threshold"):
        key = _literal(call.args[0]) if call.args else None
        if key is None:
            dynamic.append(name)
        elif key not in PACKAGED.thresholds:
            missing.append(f"{_where(name, call)}: thresholds.{key}")
        else:
            read.add(key)
    for name, tree in MODULES.items():  # settings.thresholds["key"] (a plain subscript)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "thresholds"
                and (key := _literal(node.slice)) is not None
            ):
                read.add(key)
                if key not in PACKAGED.thresholds:
                    missing.append(f"{_where(name, node)}: thresholds.{key}")
    assert not missing, missing
    assert read >= {"conflict_tolerance", "busy_utilization", "profile_min_share"}
    # the one key computed at run time: each saturation signal's name is its threshold's key
    assert set(dynamic) <= {"advisors/resources.py"}, dynamic
    assert {signal for signal, _, _ in _SIGNALS} <= set(PACKAGED.thresholds)


def test_every_section_key_read_is_packaged() -> None:
    missing, seen = [], 0
    for name, call in _calls("setting"):
        section, key = (_literal(a) for a in call.args[:2])
        assert section is not None and key is not None, f"{_where(name, call)}: a literal key"
        seen += 1
        if key not in RAW.get(section, {}):
            missing.append(f"{_where(name, call)}: {section}.{key}")
    # sources/settings.py reads the data with _mapping(raw, "section"), number("section",
    # "key") and _key(mapping, "section", "key")
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if name != "sources/settings.py":
                continue
            if node.func.id == "_mapping" and (top := _literal(node.args[1])) is not None:
                seen += 1
                if top not in RAW:
                    missing.append(f"{_where(name, node)}: {top}")
                continue
            if node.func.id == "number":
                section, key = (_literal(a) for a in node.args[:2])
            elif node.func.id == "_key" and len(node.args) == 3:
                section, key = _literal(node.args[1]), _literal(node.args[2])
                if section is None and key is not None:  # a benchmark row: checked below
                    continue
            else:
                continue
            if section and key:
                seen += 1
                if key not in RAW.get(section, {}):
                    missing.append(f"{_where(name, node)}: {section}.{key}")
    assert not missing, missing
    assert seen >= 5


def test_every_target_read_is_packaged() -> None:
    for name, call in _calls("target"):
        key = _literal(call.args[0]) if call.args else None
        assert key is None or key in PACKAGED.saturation_targets, _where(name, call)
    # targets are read by resource name at run time: every resource has one
    assert set(RESOURCES) <= set(PACKAGED.saturation_targets)


def test_entries_read_by_name_have_every_key_the_code_reads() -> None:
    """``runtime["io"]`` (concurrency) and ``op["source"]`` (batching) read an entry chosen at
    run time: every packaged entry must have every key read."""
    read: dict[str, set[str]] = {"runtime": set(), "op": set()}
    for name, tree in MODULES.items():
        if not name.startswith("advisors/"):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name)
                and node.value.id in read
                and (key := _literal(node.slice)) is not None
            ):
                read[node.value.id].add(key)
    assert read["runtime"] >= {"cpu", "io", "gil"}
    assert read["op"] >= {"fixed_share", "source", "confidence", "cheaper_method"}
    assert set(RUNTIMES) <= set(RAW["runtimes"])
    for runtime, entry in RAW["runtimes"].items():
        assert read["runtime"] <= set(entry), runtime
    assert "default" in RAW["batching_operations"]
    for operation, entry in RAW["batching_operations"].items():
        assert read["op"] <= set(entry), operation
    keys = {f.name for f in fields(Benchmark)}
    for benchmark, row in RAW["benchmarks"].items():
        assert keys <= set(row), benchmark


def test_no_code_fallback_on_the_settings() -> None:
    found = []
    for name, call in _calls("get"):
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        if (
            isinstance(receiver, ast.Attribute)
            and receiver.attr in DATA
            and name not in ALLOWED_GETS
        ):
            found.append(f"{_where(name, call)}: .{receiver.attr}.get(...)")
    assert not found, f"read the key without a fallback (Settings.threshold/setting): {found}"


def test_a_missing_key_names_itself() -> None:
    with pytest.raises(MissingSetting) as err:
        PACKAGED.threshold("no_such_threshold")
    assert "thresholds.no_such_threshold" in str(err.value)
    with pytest.raises(MissingSetting) as err:
        PACKAGED.setting("thread_pools", "no_such_key")
    assert "thread_pools.no_such_key" in str(err.value)


def test_merging_uses_the_packaged_conflict_tolerance() -> None:
    # sources/merge.py runs before the settings are loaded: its constant is the packaged number
    assert PACKAGED.threshold("conflict_tolerance") == CONFLICT_TOLERANCE


def test_a_user_file_still_overrides_what_the_code_reads(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "thresholds: {busy_utilization: 0.3}\n"
        "thread_pools: {async_pool_threshold: 50}\n"
        "latency_curve: {points: 12}\n"
        "saturation_targets: {memory: 0.9}\n"
    )
    mine = load_settings(path)
    assert mine.threshold("busy_utilization") == 0.3
    assert mine.threshold("conflict_tolerance") == PACKAGED.threshold("conflict_tolerance")
    assert mine.setting("thread_pools", "async_pool_threshold") == 50
    assert mine.setting("thread_pools", "io_multiplier_when_unknown") == 10
    assert mine.latency_curve_points == 12
    assert mine.target("memory") == 0.9


def test_an_added_batching_operation_takes_what_it_leaves_out_from_default(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(
        "batching_operations:\n"
        "  my-op: {fixed_share: 0.7}\n"
        "  other-op: {cheaper_method: a bulk call}\n"
    )
    mine = load_settings(path)
    default = RAW["batching_operations"]["default"]
    op = mine.batching_operation("my-op")
    assert op["fixed_share"] == 0.7
    assert op["source"] == f"given in {path}"
    assert (op["confidence"], op["cheaper_method"]) == (
        default["confidence"],
        default["cheaper_method"],
    )
    other = mine.batching_operation("other-op")
    assert other["cheaper_method"] == "a bulk call"
    assert (other["fixed_share"], other["source"]) == (default["fixed_share"], default["source"])
    assert mine.batching_operation("never-heard-of") == mine.batching_operation("default")
