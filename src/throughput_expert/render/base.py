"""Renderers present a Report; they never compute. One small base, one class per format."""

from __future__ import annotations

import abc

from throughput_expert.model import Report

__all__ = ["Renderer"]


class Renderer(abc.ABC):
    """Turns a Report into the text of one output format."""

    #: the ``--format`` name
    name: str = ""

    @abc.abstractmethod
    def render(self, report: Report) -> str:
        """The whole rendered document, ending with a newline."""
