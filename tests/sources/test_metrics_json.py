from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.sources.metrics_json import load_metrics_document

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "throughput_expert"
SCHEMA = json.loads((PACKAGE / "schemas" / "metrics.schema.json").read_text())


def load(doc: Any) -> Any:
    return load_metrics_document(doc, source="m.json")


def test_human_quantities_and_the_percent_rule() -> None:
    m = load(
        {
            "throughput_rps": "10,000 msgs/sec",
            "latency_ms": {"mean": 5, "p99": "1.2s"},
            "utilization": {"cpu": "45%", "memory_pct": 60, "disk_io": 0.8},
            "saturation": {"iowait_pct": 12, "run_queue": 6, "psi_io": "3%"},
            "cores": 4,
        }
    )
    assert m.throughput_rps == 10_000
    assert m.latency.mean_s == pytest.approx(0.005)
    assert m.latency.p99_s == pytest.approx(1.2)
    assert m.utilization == {"cpu": 0.45, "memory": 0.60, "disk_io": 0.8}
    assert m.saturation.iowait == pytest.approx(0.12)
    assert m.saturation.run_queue_per_core == pytest.approx(1.5)  # 6 runnable / 4 cores
    assert m.saturation.psi_io == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        ({"utilization": {"cpu": 45}}, "utilization.cpu", '"45%"'),
        ({"utilization": {"cpu": "120%"}}, "utilization.cpu", "above 100"),
        ({"throughput_rps": -5}, "throughput_rps", ""),
        ({"utilisation": {}}, "utilisation", "did you mean 'utilization'"),
        ({"saturation": {"run_queue": 3}}, "saturation.run_queue", "needs 'cores'"),
        ({"workers": 2.5}, "workers", "whole number"),
        ({"system_type": "toaster"}, "system_type", "unknown system type"),
        ({"utilization": {"cpu": 0.5, "cpu_pct": 50}}, "cpu_pct", "twice"),
        ({"latency_ms": []}, "latency_ms", "expected an object"),
    ],
)
def test_bad_fields_name_the_field(doc: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        load(doc)
    assert err.value.field == field
    assert words in err.value.message
    assert err.value.one_line().startswith("m.json: ")


def test_the_bundled_example_and_schema_agree() -> None:
    doc = json.loads((PACKAGE / "examples" / "message-consumer.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    assert load(doc).workers == 1


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_keys = st.sampled_from(
    ["throughput_rps", "utilization", "saturation", "latency_ms", "cores", "workers", "x"]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=4) | _values)
def test_hostile_documents_raise_only_input_errors(doc: Any) -> None:
    with contextlib.suppress(InputError):
        load(doc)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["cpu", "memory", "disk_io", "network", "cpu_pct", "disk_io_pct"]),
        st.one_of(st.floats(), st.integers(), st.text(max_size=8)),
    )
)
def test_hostile_utilization_is_read_or_refused_cleanly(util: dict[str, Any]) -> None:
    try:
        m = load({"utilization": util})
    except InputError:
        return
    assert all(0.0 <= v <= 1.0 for v in m.utilization.values())


def test_instances_and_their_bound() -> None:
    m = load({"throughput_rps": 900, "workers": 1, "instances": 1, "max_instances": 1})
    assert (m.instances, m.max_instances) == (1, 1)
    jsonschema.validate({"instances": 2, "max_instances": "4"}, SCHEMA)
    with pytest.raises(InputError) as err:
        load({"instances": 3, "max_instances": 2})
    assert (
        err.value.one_line()
        == "m.json: instances: 3 instances today is more than max_instances (2)"
    )
    with pytest.raises(InputError, match="max_instances: expected a whole number"):
        load({"max_instances": 1.5})
