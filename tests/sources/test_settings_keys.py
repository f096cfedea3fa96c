"""A ``--defaults`` file refuses keys the packaged data does not have (issue 13): a misspelled
key used to change nothing, silently (exit 0, the same report). Now it is one ``InputError``
naming the file and the key path, with the closest known key, worded as the metrics JSON does."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import json_values, only_line, run_tpx

from throughput_expert.advisors.analyze import advisor as analyze
from throughput_expert.advisors.resources import _SIGNALS
from throughput_expert.errors import InputError
from throughput_expert.model.settings import SIGNAL_TRIGGERS, Settings
from throughput_expert.sources.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEMO = "src/throughput_expert/examples/message-consumer.json"

PLAY = (
    "{id: my-play, when: [run_queue], optimization: o, rationale: r, horizon: quick, "
    "effort: low, risk: low, quantify: none}"
)


def refused(tmp_path: Path, text: str) -> str:
    path = tmp_path / "my.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_settings(path)
    assert caught.value.source == str(path)
    line = str(caught.value)
    assert "\n" not in line
    return line.removeprefix(f"{path}: ")


# --- misspelled keys, top level and in every closed section ----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "saturation_target: {cpu: 0.5}\n",
            "saturation_target: unknown key (did you mean 'saturation_targets'?)",
        ),
        ("threshold: {iowait: 0.2}\n", "threshold: unknown key (did you mean 'thresholds'?)"),
        ("play: []\n", "play: unknown key (did you mean 'plays'?)"),
        (
            "batching_operation: {}\n",
            "batching_operation: unknown key (did you mean 'batching_operations'?)",
        ),
    ],
)
def test_a_misspelled_top_level_key_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert refused(tmp_path, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "saturation_targets: {cpux: 0.5}",
            "saturation_targets.cpux: unknown key (did you mean 'cpu'?)",
        ),
        (
            "saturation_targets: {memory_pc: 50}",
            "saturation_targets.memory_pc: unknown key (did you mean 'memory_pct'?)",
        ),
        ("thresholds: {iowiat: 0.2}", "thresholds.iowiat: unknown key (did you mean 'iowait'?)"),
        (
            "benchmarks: {webapi: {good: 1}}",
            "benchmarks.webapi: unknown key (did you mean 'web-api'?)",
        ),
        (
            "benchmarks: {web-api: {god: 1}}",
            "benchmarks.web-api.god: unknown key (did you mean 'good'?)",
        ),
        (
            "latency_curve: {pionts: 30}",
            "latency_curve.pionts: unknown key (did you mean 'points'?)",
        ),
        ("latency_curve: {point: 3}", "latency_curve.point: unknown key (did you mean 'points'?)"),
        (
            "thread_pools: {io_multiplier: 3}",
            "thread_pools.io_multiplier: unknown key (did you mean 'io_multiplier_when_unknown'?)",
        ),
        ("runtimes: {pyton: {gil: true}}", "runtimes.pyton: unknown key (did you mean 'python'?)"),
        (
            "runtimes: {python: {gill: true}}",
            "runtimes.python.gill: unknown key (did you mean 'gil'?)",
        ),
        (
            "batching_operations: {my-op: {fixed_shar: 0.5}}",
            "batching_operations.my-op.fixed_shar: unknown key (did you mean 'fixed_share'?)",
        ),
        (
            "prometheus_queries: {nod: {}}",
            "prometheus_queries.nod: unknown key (did you mean 'node'?)",
        ),
        (
            "prometheus_queries: {node: {cpu_utilisation: x}}",
            "prometheus_queries.node.cpu_utilisation: unknown key"
            " (did you mean 'cpu_utilization'?)",
        ),
        (
            "plays: [" + PLAY.replace("rationale", "rationle") + "]",
            "plays[0].rationle: unknown key (did you mean 'rationale'?)",
        ),
        (
            "plays: [" + PLAY + ", " + PLAY.replace("run_queue", "run_queu") + "]",
            "plays[1].when[0]: unknown trigger 'run_queu' (did you mean 'run_queue'?)",
        ),
        (
            "plays: [" + PLAY.replace("run_queue", "bottleneck:cpus") + "]",
            "plays[0].when[0]: unknown trigger 'bottleneck:cpus' (did you mean 'bottleneck:cpu'?)",
        ),
    ],
)
def test_a_misspelled_nested_key_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert refused(tmp_path, text + "\n") == expected


def test_a_key_nothing_resembles_lists_the_known_ones(tmp_path: Path) -> None:
    line = refused(tmp_path, "latency_curve: {zzz: 1}\n")
    assert line == "latency_curve.zzz: unknown key (known: points, max_utilization)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thresholds: null", "thresholds: expected a mapping"),
        ("prometheus_queries: {node: 'up'}", "prometheus_queries.node: expected a mapping"),
        (
            "thread_pools: {async_pool_threshold: {a: 1}}",
            "thread_pools.async_pool_threshold: expected a value, not a mapping",
        ),
        ("batching_operations: {my-op: 0.5}", "batching_operations.my-op: expected a mapping"),
        ("latency_curve: {points: .inf}", "latency_curve.points: expected a finite number >= 2"),
    ],
)
def test_a_section_of_the_wrong_shape_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert refused(tmp_path, text + "\n") == expected


# --- correct overrides still work -----------------------------------------------------------


def test_correct_overrides_still_apply(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    replacing = PLAY.replace("my-play", "cpu-algorithm").replace("run_queue", "cpu_steal")
    path.write_text(
        "saturation_targets: {cpu: '50%', memory_pct: 60}\n"
        "thresholds: {iowait: 0.2}\n"
        "benchmarks: {web-api: {good: 5}}\n"
        "latency_curve: {points: 10}\n"
        "runtimes: {python: {gil: false}}\n"
        "batching_operations: {my-op: {fixed_share: 0.7, confidence: low}}\n"
        "prometheus_queries: {service: {service_latency_p95_s: 'q95'}, service_rps: 'qx'}\n"
        f"plays: [{PLAY}, {replacing}]\n"
    )
    s = load_settings(path)
    assert s.saturation_targets["cpu"] == 0.5
    assert s.saturation_targets["memory"] == pytest.approx(0.6)
    assert s.thresholds["iowait"] == 0.2
    assert s.benchmarks["web-api"].good == 5 and s.benchmarks["web-api"].excellent == 10000
    assert s.latency_curve_points == 10
    assert s.raw["runtimes"]["python"]["gil"] is False
    assert s.raw["batching_operations"]["my-op"]["fixed_share"] == 0.7
    assert s.raw["prometheus_queries"]["service"]["service_latency_p95_s"] == "q95"
    assert s.raw["prometheus_queries"]["service_rps"] == "qx"
    by_id = {p.id: p for p in s.plays}
    assert by_id["my-play"].when == ("run_queue",)
    assert by_id["cpu-algorithm"].when == ("cpu_steal",)  # same id: replaced
    assert len(s.plays) == len(load_settings().plays) + 1


def test_every_trigger_the_advisors_compute_may_be_named() -> None:
    """``SIGNAL_TRIGGERS`` is the vocabulary of ``when``: it must hold every trigger analyze
    computes, or a play on it would be refused."""
    computed = {trigger for _, _, trigger in _SIGNALS}
    computed |= set(re.findall(r'out\.add\("([a-z_]+)"\)', inspect.getsource(analyze._triggers)))
    assert len(computed) > 10
    assert computed == set(SIGNAL_TRIGGERS)
    packaged = {t for p in load_settings().plays for t in p.when}
    assert {t for t in packaged if ":" not in t} <= set(SIGNAL_TRIGGERS)


# --- the command line ------------------------------------------------------------------------


def test_the_cli_refuses_a_misspelled_key_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text("saturation_target:\n  cpu: 0.5\n")
    run = run_tpx("analyze", "--metrics", DEMO, "--defaults", str(path), cwd=ROOT)
    assert run.returncode == 2, run.stderr
    assert only_line(run.stderr) == (
        f"{path}: saturation_target: unknown key (did you mean 'saturation_targets'?)"
    )
    assert run.stdout == ""


def test_the_cli_refuses_a_misspelled_nested_key_and_takes_a_correct_one(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text("saturation_targets:\n  cpux: 0.5\n")
    run = run_tpx("analyze", "--metrics", DEMO, "--defaults", str(path), cwd=ROOT)
    assert run.returncode == 2, run.stderr
    assert only_line(run.stderr) == (
        f"{path}: saturation_targets.cpux: unknown key (did you mean 'cpu'?)"
    )
    path.write_text("saturation_targets:\n  cpu: 0.5\n")
    run = run_tpx("analyze", "--metrics", DEMO, "--defaults", str(path), cwd=ROOT)
    assert run.returncode == 0, run.stderr


# --- any mapping: Settings or one InputError -------------------------------------------------

_PACKAGED = load_settings()
_KNOWN = sorted(
    {*_PACKAGED.raw, "plays", *_PACKAGED.thresholds, "cpu", "cpu_pct", "web-api", "good"}
    | {"python", "gil", "node", "service", "default", "fixed_share", "points", "when", "id"}
)
_KEYS = st.sampled_from(_KNOWN) | st.text(max_size=12) | st.integers(-2, 2) | st.none()
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["50%", "run_queue", "quick", "low", "none", math.inf])
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


# A known section with known (or nearly known) keys and any values, to reach past the top level.
_SECTIONS = st.sampled_from(sorted(_PACKAGED.raw)).flatmap(
    lambda name: st.fixed_dictionaries(
        {
            name: st.dictionaries(
                st.sampled_from(sorted(map(str, _PACKAGED.raw[name]))) | st.text(max_size=6),
                _VALUES,
                max_size=3,
            )
        }
    )
)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.dictionaries(_KEYS, _VALUES, max_size=4)
    | _SECTIONS
    | json_values(_LEAVES, key_size=8, max_leaves=8)
)
def test_any_mapping_gives_settings_or_one_input_error(
    tmp_path_factory: pytest.TempPathFactory, doc: object
) -> None:
    path = tmp_path_factory.mktemp("keys") / "any.yaml"
    path.write_text(yaml.dump(doc, Dumper=_NoAliases))
    try:
        result = load_settings(path)
    except InputError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(result, Settings)


def test_a_curve_of_too_many_points_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("latency_curve:\n  points: 1000000000\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"latency_curve.points: 1e\+09 is more than 10000"):
        load_settings(path)
