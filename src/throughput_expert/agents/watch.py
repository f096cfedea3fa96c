"""``tpx task --watch DIR``: serve every ``DIR/tasks/*/input.json`` addressed to this agent that
has no result yet, until stopped (Ctrl-C), so a process run can use ``tpx`` as its worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from throughput_expert.agents.task import AGENT_NAME, read_task, result_path, run_task
from throughput_expert.errors import ThroughputError

__all__ = ["pending", "watch"]


def pending(folder: Path) -> list[Path]:
    """Task inputs for this agent whose result does not exist yet."""
    out = []
    for path in sorted(folder.glob("tasks/*/input.json")):
        try:
            task = read_task(path)
        except ThroughputError:
            continue  # reported when it is served
        if task.agent_name not in (None, AGENT_NAME):
            continue
        if not result_path(task, None).exists():
            out.append(path)
    return out


def watch(
    folder: str, *, once: bool = False, poll_s: float = 1.0, log: Callable[[str], None] = print
) -> int:
    root = Path(folder)
    failed: set[Path] = set()
    try:
        while True:
            for path in pending(root):
                if path in failed:
                    continue
                try:
                    written, _ = run_task(path)
                    log(f"served {path} -> {written}")
                except ThroughputError as exc:
                    failed.add(path)
                    log(f"cannot serve {path}: {exc.one_line()}")
            if once:
                return 0
            time.sleep(poll_s)
    except KeyboardInterrupt:
        return 0
