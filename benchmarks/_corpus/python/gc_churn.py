"""Allocation churn: each request builds thousands of short-lived container objects with
reference cycles, so the cyclic GC runs again and again (gc.get_stats shows the collections).

Known bottleneck by construction: GC and allocation (memory), in build_tree. Runs for about
6 s (argv[1] overrides) and stops by itself.
"""

from __future__ import annotations

import gc
import sys
import time


class Node:
    __slots__ = ("children", "parent", "value")

    def __init__(self, parent: Node | None, value: int) -> None:
        self.parent = parent
        self.children: list[Node] = []
        self.value = value


def build_tree(n: int) -> Node:
    root = Node(None, 0)
    level = [root]
    for i in range(n):
        node = Node(level[i % len(level)], i)
        node.parent.children.append(node)  # type: ignore[union-attr]
        level.append(node)
    return root


def main() -> None:
    gc.set_threshold(200, 5, 5)  # a busy service's young generation fills this fast
    until = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 6.0)
    while time.monotonic() < until:
        build_tree(3000)
    print(sum(s["collections"] for s in gc.get_stats()), file=sys.stderr)


if __name__ == "__main__":
    main()
