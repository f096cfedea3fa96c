"""The README stays true: its metrics example is accepted and the schema agrees with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from throughput_expert import analyze

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "src/throughput_expert/schemas/metrics.schema.json").read_text())


def test_readme_metrics_example_is_valid_and_analyzes(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```json\n(.*?)```", readme, re.S)
    assert block is not None
    doc = json.loads(block.group(1))
    jsonschema.validate(doc, SCHEMA)
    path = tmp_path / "m.json"
    path.write_text(block.group(1))
    report = analyze([path]).to_dict()
    assert report["analysis"]["bottleneck"]["type"] == "cpu"
    assert report["analysis"]["headroom"]["ceiling_rps"] == 1750.0  # 2,000 x 0.70 / 0.80
