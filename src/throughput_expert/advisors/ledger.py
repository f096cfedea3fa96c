"""The ledger an advisor fills while it works: evidence, assumptions, findings.

Each number an advisor reports is recorded here with the law that produced it, so the Report can
show where it came from; ids are stable slugs (``ceiling-disk_io``) that recommendations cite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from throughput_expert.model import Assumption, Evidence

__all__ = ["Ledger"]


class Ledger:
    def __init__(self) -> None:
        self.evidence: list[Evidence] = []
        self.assumptions: list[Assumption] = []
        self.findings: list[dict[str, Any]] = []
        self._ids: set[str] = set()

    def prove(self, id: str, claim: str, law: str, inputs: Mapping[str, Any], result: Any) -> str:
        """Record a claim with its law, inputs and result; returns its id."""
        if id in self._ids:
            return id
        self._ids.add(id)
        self.evidence.append(Evidence(id, claim, law, dict(inputs), result))
        return id

    def assume(self, what: str, value: Any, why: str) -> None:
        if all(a.what != what for a in self.assumptions):
            self.assumptions.append(Assumption(what, value, why))

    def find(self, what: str, values: Mapping[str, Any], used: str) -> None:
        """A contradiction or oddity in the inputs, shown with both values and the choice."""
        self.findings.append({"what": what, "values": dict(values), "used": used})
