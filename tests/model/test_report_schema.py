"""The JSON Schema of every command's report is generated from its typed record and shipped in
``schemas/``; the shipped files must be the generated ones (regenerate with
``python3 -m throughput_expert.model.report_schema``)."""

from __future__ import annotations

from importlib import resources

import jsonschema
import pytest

from throughput_expert import registry
from throughput_expert.model.report_schema import report_schema, schema_text

NAMES = [u.name for u in registry.units()]


@pytest.mark.parametrize("name", NAMES)
def test_shipped_schema_is_current(name: str) -> None:
    shipped = resources.files("throughput_expert").joinpath(f"schemas/report-{name}.schema.json")
    assert shipped.is_file(), f"run python3 -m throughput_expert.model.report_schema ({name})"
    assert shipped.read_text(encoding="utf-8") == schema_text(name), (
        f"schemas/report-{name}.schema.json is stale: "
        "run python3 -m throughput_expert.model.report_schema"
    )


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_a_valid_2020_12_schema(name: str) -> None:
    schema = report_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    analysis = schema["properties"]["analysis"]
    assert analysis["type"] == "object" and analysis["additionalProperties"] is False


def test_unknown_command_has_no_schema() -> None:
    with pytest.raises(KeyError):
        report_schema("no-such-command")
