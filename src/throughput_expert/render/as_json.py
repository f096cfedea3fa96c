"""The JSON renderer: the Report's versioned JSON form, the contract every front door shares."""

from __future__ import annotations

import json

from throughput_expert.model import Report
from throughput_expert.render.base import Renderer

__all__ = ["JSONRenderer"]


class JSONRenderer(Renderer):
    name = "json"

    def render(self, report: Report) -> str:
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
