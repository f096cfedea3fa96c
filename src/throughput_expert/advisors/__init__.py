"""Advisors: one module per expert task, one call shape.

Every advisor module exposes ``advise(inputs, settings) -> Report`` where ``inputs`` is the
advisor's own frozen dataclass of model records (``AnalyzeInputs`` for ``analyze``) and
``settings`` the loaded defaults (``throughput_expert.sources.settings.load_settings``). Advisors
compute with the laws and never do I/O; every number they put in a Report is backed by an
``Evidence`` entry (law, inputs, result) or listed under ``assumptions``.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from throughput_expert.model import Report
from throughput_expert.model.settings import Settings

__all__ = ["Advisor"]

_In_contra = TypeVar("_In_contra", contravariant=True)


class Advisor(Protocol[_In_contra]):
    """The call shape every advisor module satisfies."""

    def __call__(self, inputs: _In_contra, settings: Settings) -> Report: ...
