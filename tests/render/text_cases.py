"""The real reports every command's text view is checked on (width, golden snapshots, colour).

Each is built from a file relative to the checkout's root, so call them after
``monkeypatch.chdir(ROOT)``: the text (which names and folds its input paths) is then the same
wherever the repository is cloned. Imported as ``from tests.render.text_cases import ...``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from throughput_expert import api
from throughput_expert.model import Report

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = Path("src/throughput_expert/examples")
CORPUS = Path("tests/fixtures/corpus")


def _task() -> Report:
    """The babysitter task example's merged report (written to a scratch folder, read back)."""
    from throughput_expert.agents.task import run_task
    from throughput_expert.model.report_json import report_from_dict

    with tempfile.TemporaryDirectory() as scratch:
        _, result = run_task(
            Path("examples/babysitter/task.json"), str(Path(scratch) / "result.json")
        )
    return report_from_dict(result)


REPORTS: dict[str, Callable[[], Report]] = {
    "demo": lambda: api.analyze([BUNDLED / "message-consumer.json"]),
    "analyze": lambda: api.analyze([Path("examples/metrics.json")], target_rps=5000),
    "scaling-plan": lambda: api.scaling_plan(BUNDLED / "three-tier.yaml", target_rps=6000),
    "scaling-plan-seed": lambda: api.scaling_plan(
        Path("examples/architecture.yaml"), target_rps=50_000
    ),
    "find-bottleneck": lambda: api.find_bottleneck(
        [CORPUS / "python/lock_contention.idle.native.speedscope.json"], threads=True
    ),
    "find-bottleneck-jvm": lambda: api.find_bottleneck(
        [CORPUS / "jvm/lock_contention.jstack.txt"], threads=True
    ),
    "optimize-concurrency": lambda: api.optimize_concurrency(
        "io", 4, cpu_cores=2, sweep=Path("examples/sweep.json")
    ),
    "optimize-concurrency-erlang": lambda: api.optimize_concurrency(
        "mixed", 8, cpu_cores=4, wait_time="20ms", compute_time="5ms", target_throughput=900
    ),
    "design-batching": lambda: api.design_batching(
        "database-insert", target_throughput=50_000, measurements=Path("examples/batch-trial.csv")
    ),
    "design-batching-model": lambda: api.design_batching(
        "database-insert", target_throughput=50_000, fixed_overhead="2ms", per_item_cost="20us"
    ),
    "sweep": lambda: api.sweep(from_files=[Path("examples/sweep.json")]),
    "task": _task,
}
