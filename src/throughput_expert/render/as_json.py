"""The JSON renderer: the Report's versioned JSON form, the contract every front door shares."""

from __future__ import annotations

import json
import re

from throughput_expert.model import Report
from throughput_expert.render.base import Renderer

__all__ = ["JSONRenderer", "json_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(data: object) -> str:
    """``data`` as indented JSON, non-ASCII text as is; a lone surrogate (``"\\ud800"``, valid in
    JSON but not encodable as UTF-8) is written as its JSON escape, so the text always encodes and
    reads back to the same string."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # only inside strings: JSON's syntax is ASCII
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text + "\n"


class JSONRenderer(Renderer):
    name = "json"

    def render(self, report: Report) -> str:
        return json_text(report.to_dict())
