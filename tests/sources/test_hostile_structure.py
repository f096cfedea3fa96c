"""Hostile structure and numbers at the boundary (issue 19): each class the fuzz campaign found
ends in one ``InputError`` line naming the file, the field and what is allowed, or in an answer;
never a RecursionError, an OverflowError, a warning on stderr or a loop sized by the input."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from throughput_expert.errors import InputError
from throughput_expert.sources.architecture import MAX_COMPONENTS, load_architecture
from throughput_expert.sources.batch_measurements import load_call_costs
from throughput_expert.sources.loadtests import import_results
from throughput_expert.sources.rules import add_user_rules
from throughput_expert.sources.settings import load_settings
from throughput_expert.sources.sweep import MAX_LEVELS, load_sweep
from throughput_expert.sources.yaml_safe import load_yaml

ROOT = Path(__file__).resolve().parents[2]
WRK = ROOT / "tests" / "sources" / "loadtests" / "fixtures" / "wrk-4.1.0-c4.txt"


def _line(error: pytest.ExceptionInfo[InputError]) -> str:
    line = str(error.value)
    assert "\n" not in line and "\r" not in line
    return line


def _arch(tmp_path: Path, components: str, name: str = "a.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"system: s\nentry_rate: 100 rps\ncomponents:\n{components}")
    return path


# --- architecture: cycles, chains, counts, shapes ------------------------------------------------


def test_a_consumes_cycle_is_named(tmp_path: Path) -> None:
    path = _arch(
        tmp_path,
        "  - {name: a, kind: worker, consumes: b}\n  - {name: b, kind: queue, consumes: a}\n",
    )
    with pytest.raises(InputError) as caught:
        load_architecture(path)
    assert _line(caught) == f"{path}: consumes: a consumes cycle: b -> a -> b"


def test_a_calls_cycle_is_named(tmp_path: Path) -> None:
    path = _arch(
        tmp_path,
        "  - {name: a, kind: service, calls: {b: 1}}\n"
        "  - {name: b, kind: service, calls: {a: 2}}\n",
    )
    with pytest.raises(InputError) as caught:
        load_architecture(path)
    assert _line(caught) == f"{path}: calls: a fan-out cycle: a -> b -> a"


def test_consumes_must_name_a_component(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"components\.a\.consumes: expected text"):
        load_architecture(_arch(tmp_path, "  - {name: a, kind: worker, consumes: [b]}\n"))
    with pytest.raises(InputError, match=r"components\.a\.consumes: unknown component 'q'"):
        load_architecture(_arch(tmp_path, "  - {name: a, kind: worker, consumes: q}\n", "q.yaml"))


def test_a_chain_of_the_most_components_reads_without_recursion(tmp_path: Path) -> None:
    rows = "".join(
        f"  - {{name: c{i}, kind: service, calls: {{c{i + 1}: 1}}}}\n"
        for i in range(MAX_COMPONENTS - 1)
    )
    path = _arch(tmp_path, rows + f"  - {{name: c{MAX_COMPONENTS - 1}, kind: service}}\n")
    arch = load_architecture(path)
    assert len(arch.components) == MAX_COMPONENTS
    long_cycle = rows + f"  - {{name: c{MAX_COMPONENTS - 1}, kind: service, calls: {{c0: 1}}}}\n"
    with pytest.raises(InputError) as caught:
        load_architecture(_arch(tmp_path, long_cycle, "cycle.yaml"))
    line = _line(caught)
    assert "a fan-out cycle: c0 -> c1 -> c2 -> c3 -> ... (" in line and line.endswith(" -> c0")
    assert len(line) < 300


def test_more_components_than_the_limit_are_refused(tmp_path: Path) -> None:
    rows = "".join(f"  - {{name: c{i}, kind: service}}\n" for i in range(MAX_COMPONENTS + 1))
    with pytest.raises(InputError, match=f"{MAX_COMPONENTS + 1:,} components: at most"):
        load_architecture(_arch(tmp_path, rows))


@pytest.mark.parametrize(
    ("component", "words"),
    [
        ("{name: a, kind: service, capacity_per_instance: 0}", "capacity_per_instance: must be"),
        ("{name: a, kind: service, capacity_per_instance: 1e300}", "allowed: 0 to 1e+12 /s"),
        (
            "{name: a, kind: service, scaling: {kappa: 1.0e+308}}",
            "scaling.kappa: 1e+308 is above the range (allowed: 0 to 1)",
        ),
        ("{name: a, kind: service, sweep: [x]}", "components.a.sweep: expected a file path"),
        ("{name: a, kind: service, partition_key: {a: 1}}", "partition_key: expected text"),
        ("{name: a, kind: service, service_time: 1e300}", "allowed: 0 to 31,557,600 s"),
        ("{name: a, kind: service, cores: 1e308}", "allowed: 0 to 9.22e+18"),
        ("{name: a, kind: service, instances: 99999999999}", "more than any one service runs"),
        ("{name: " + "x" * 5000 + ", kind: nope}", "unknown kind 'nope'"),
    ],
)
def test_a_value_of_the_wrong_size_or_shape_is_one_line(
    tmp_path: Path, component: str, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_architecture(_arch(tmp_path, f"  - {component}\n"))
    line = _line(caught)
    assert words in line
    assert len(line) < 400


# --- YAML ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\ufffe"])
def test_yaml_with_a_control_character_is_one_line(char: str) -> None:
    with pytest.raises(InputError) as caught:
        load_yaml(f"system: a{char}b\n", "f.yaml")
    assert _line(caught).startswith("f.yaml: not YAML text: character 0x")


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, "{a: " * 10_000 + "1" + "}" * 10_000]
)
def test_deep_yaml_is_refused_at_its_depth(text: str) -> None:
    with pytest.raises(InputError, match="nested deeper than 64 levels"):
        load_yaml(text, "f.yaml")


@pytest.mark.parametrize(
    ("row", "count", "words"),
    [
        (  # many small components: the values to build are counted first
            "  - {name: c%d, kind: service, instances: 2, cores: 4, utilization: {cpu: 40%%}}\n",
            8_000,
            "more than 50,000 values",
        ),
        (  # fewer, with long names: the components are
            "  - {name: c%d" + "x" * 200 + ", kind: service, utilization: {cpu: 40%%}}\n",
            3_000,
            "3,000 components: at most 1,000 in one architecture",
        ),
    ],
)
def test_a_large_architecture_is_refused_by_its_limits(
    tmp_path: Path, row: str, count: int, words: str
) -> None:
    """600 KB or more of components: refused with the limit named (in well under a second)."""
    text = "".join(row % i for i in range(count))
    assert len(text) > 600_000
    with pytest.raises(InputError, match=words):
        load_architecture(_arch(tmp_path, text))


# --- settings and rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "thread_pools: {async_pool_threshold: [1, 2]}",
            "thread_pools.async_pool_threshold: expected",
        ),
        ("thread_pools: {async_wait_compute_ratio: " + "9" * 400 + "}", "is too large"),
        ("thread_pools: {io_multiplier_when_unknown: 1.0e+308}", "more than any one service runs"),
        ("thresholds: {disk_queue: 1.0e+308}", "thresholds.disk_queue: 1e+308 is above the range"),
        ("thresholds: {disk_queue: " + "9" * 5000 + "}", "a value YAML cannot read"),
        ("latency_curve: {points: " + "9" * 400 + "}", "an integer of 1329 bits is too large"),
        ("latency_curve: {points: 100000000}", "1e+08 is more than 10000"),
    ],
)
def test_settings_of_the_wrong_shape_or_size_are_one_line(
    tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / "defaults.yaml"
    path.write_text(text + "\n")
    with pytest.raises(InputError) as caught:
        load_settings(path)
    assert words in _line(caught)


def test_a_rule_pattern_that_python_warns_about_is_read_without_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {category: compute, name: '[[a]'}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        add_user_rules(load_settings(), path)


def test_a_rule_pattern_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {category: compute, name: [a, b]}\n")
    with pytest.raises(InputError, match="expected a regular expression"):
        add_user_rules(load_settings(), path)


# --- numbers in load tests, sweeps and batch trials ----------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("  3148 requests in", "  " + "9" * 5000 + " requests in", "a number of 5,000 characters"),
        ("  3148 requests in", "  " + "9" * 400 + " requests in", "a number of 400 characters"),
        ("Requests/sec:   1573.74", "Requests/sec:   1e400", "not a count: '1e400'"),
    ],
)
def test_a_wrk_number_beyond_its_range_is_one_line(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    text = WRK.read_text()
    assert old in text
    path = tmp_path / "wrk.txt"
    path.write_text(text.replace(old, new))
    with pytest.raises(InputError) as caught:
        import_results([path])
    assert words in _line(caught)


def test_a_sweep_of_more_levels_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    rows = "".join(f"{i},{i * 10}\n" for i in range(1, MAX_LEVELS + 2))
    path.write_text("concurrency,throughput_rps\n" + rows)
    with pytest.raises(InputError, match=f"more than {MAX_LEVELS:,} levels: at most"):
        load_sweep(path)


def test_a_sweep_csv_is_read_no_further_than_one_level_past_the_limit(tmp_path: Path) -> None:
    # 1,000 levels and then a row no reader could take: refused for its count, not read to it
    # (262,144 rows took a second of CPU before the count was checked)
    path = tmp_path / "s.csv"
    rows = "".join(f"{i},{i * 10}\n" for i in range(1, MAX_LEVELS + 2))
    path.write_text("concurrency,throughput_rps\n" + rows + '"unterminated\n' + "x\n" * 100_000)
    with pytest.raises(InputError, match=f"more than {MAX_LEVELS:,} levels"):
        load_sweep(path)


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("1,1e308", 'line 3: latency_ms: "1e308" is above the range (allowed: 0 to 31,557,600 s'),
        ("1e300,5", 'line 3: batch_size: "1e300" is above the range (allowed: 1 to 16,777,216'),
        ("1," + "9" * 5000, "line 3: latency_ms: a number of 5,000 characters"),
        ("1,nan", "line 3: latency_ms: expected a finite number"),
    ],
)
def test_a_batch_trial_number_beyond_its_range_is_one_line(
    tmp_path: Path, row: str, words: str
) -> None:
    path = tmp_path / "b.csv"
    path.write_text(f"batch_size,latency_ms\n1,2\n{row}\n4,3\n")
    with pytest.raises(InputError) as caught:
        load_call_costs(path)
    assert words in _line(caught)


# --- metrics JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ('"cores": 1e308', "cores: 1e+308 is"),
        ('"throughput_rps": 1e300', "throughput_rps: 1e+300 is above the range (allowed: 0 to"),
        ('"throughput_rps": 1e400', "1e400 is beyond float range"),
        ('"throughput_rps": ' + "9" * 5000, "a 5000-digit integer is beyond"),
        (
            '"latency_ms": {"p50": 1e13}',
            "latency_ms.p50: 10000000000000.0 is above the range (allowed: 0 to 31,557,600 s",
        ),
        ('"latency_ms": {"p50": 10, "p99": 5}', "latency_ms.p99: p99 (5 ms) is below p50 (10 ms)"),
        ('"latency_ms": {"mean": 10, "max": 5}', "latency_ms.mean: mean (10 ms) is above max"),
        ('"system_type": "' + "x" * 5000 + '"', "unknown system type 'xxxx"),
    ],
)
def test_metrics_beyond_their_range_or_order_are_one_line(
    tmp_path: Path, fields: str, words: str
) -> None:
    from throughput_expert.sources.metrics import load_metrics

    path = tmp_path / "m.json"
    path.write_text('{"format": "tpx-metrics", "version": 1, ' + fields + "}")
    with pytest.raises(InputError) as caught:
        load_metrics([path])
    line = _line(caught)
    assert words in line
    assert len(line) < 400
