"""Every command's text view fits the width it is given (issue 17): at 80 and 120 columns no line
is longer, and the wider view uses the room (the width is not ignored)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from throughput_expert import api
from throughput_expert.model import Report
from throughput_expert.render import renderer_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src/throughput_expert/examples"
CORPUS = ROOT / "tests/fixtures/corpus"


def _sweep(tmp: Path) -> Report:
    path = tmp / "sweep.csv"
    rows = {1: 64.9, 18: 995.9, 36: 1652.4, 72: 1853.2, 108: 1828.9, 144: 1775.0, 216: 1702.2}
    path.write_text("concurrency,throughput_rps\n" + "".join(f"{n},{x}\n" for n, x in rows.items()))
    return api.sweep(from_files=[path])


REPORTS: dict[str, Callable[[Path], Report]] = {
    "analyze": lambda _: api.analyze([EXAMPLES / "message-consumer.json"]),
    "scaling-plan": lambda _: api.scaling_plan(EXAMPLES / "three-tier.yaml", target_rps=6000),
    "find-bottleneck": lambda _: api.find_bottleneck(
        [CORPUS / "python/lock_contention.idle.native.speedscope.json"], threads=True
    ),
    "find-bottleneck-jvm": lambda _: api.find_bottleneck(
        [CORPUS / "jvm/lock_contention.jstack.txt"], threads=True
    ),
    "optimize-concurrency": lambda _: api.optimize_concurrency(
        "mixed", 8, cpu_cores=4, wait_time="20ms", compute_time="5ms", target_throughput=900
    ),
    "design-batching": lambda _: api.design_batching(
        "database-insert", target_throughput=50_000, fixed_overhead="2ms", per_item_cost="20us"
    ),
    "sweep": _sweep,
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_text_fits_the_width(name: str, tmp_path: Path) -> None:
    report = REPORTS[name](tmp_path)
    longest = {}
    for columns in (80, 120):
        lines = renderer_for("text", columns).render(report).splitlines()
        over = [ln for ln in lines if len(ln) > columns]
        assert over == [], (columns, over[:3])
        longest[columns] = max(len(ln) for ln in lines)
    assert longest[120] > 80  # the wider view is wider: the width is honoured, not fixed
