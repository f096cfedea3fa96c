"""Renderers present a Report; they never compute. One small base, one class per format."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from throughput_expert import registry
from throughput_expert.model import Report
from throughput_expert.model.record import load

__all__ = ["Renderer", "analysis_record"]


def analysis_record(doc: Mapping[str, Any], source: str = "report") -> Any:
    """The command's typed analysis record, loaded from the report's JSON form (so a fresh
    report and a saved one render alike); None for a command without one (``task``)."""
    found = registry.unit(str(doc.get("command")))
    if found is None:
        return None
    return load(registry.resolve(found.record), doc.get("analysis"), source=source)


class Renderer(abc.ABC):
    """Turns a Report into the text of one output format."""

    #: the ``--format`` name
    name: str = ""

    @abc.abstractmethod
    def render(self, report: Report) -> str:
        """The whole rendered document, ending with a newline."""
