"""Shared pieces of the HTML renderer: escaping, values shown by the unit in their key, lookups.

The JSON form carries the unit in the key (``_rps``, ``_ms``, ``_pct``, ``_bytes``, ``_s``); the
page shows each number in its human form through ``model.units``, the one place units are
formatted. Nothing here computes a finding: it only picks a formatter for a value.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from throughput_expert.model.units import fmt_bytes, fmt_count, fmt_duration, fmt_pct, fmt_rate

__all__ = [
    "Figure",
    "bottleneck_figure",
    "dig",
    "esc",
    "evidence_links",
    "has_unit",
    "label",
    "value_html",
]

Figure = tuple[str, str, str]  # a key figure of the page: label, value, note (plain text)


def esc(text: object) -> str:
    """Text made safe for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def label(key: str) -> str:
    """A JSON key as a heading: ``max_rps_at_target`` -> "Max rps at target"."""
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def dig(doc: Any, *path: str) -> Any:
    """``doc[path[0]][path[1]]...``, or None where any step is missing."""
    for key in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(key)
    return doc


_BY_SUFFIX: tuple[tuple[str, Callable[[float], str]], ...] = (
    ("_rps", fmt_rate),
    ("_ms", lambda v: fmt_duration(v / 1e3)),
    ("_pct", lambda v: fmt_pct(v / 100)),
    ("_bytes", fmt_bytes),
    ("_s", fmt_duration),
)


def has_unit(key: str) -> bool:
    """Whether the key names a unit (``_rps``, ``_ms``, ``_pct``, ``_bytes``, ``_s``)."""
    return any(key.endswith(suffix) for suffix, _ in _BY_SUFFIX)


def value_html(key: str, value: Any) -> str:
    """One scalar (or a list of scalars) as escaped HTML, in the unit its key names."""
    if value is None:
        return '<span class="na">n/a</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in ("evidence_ids", "evidence_id"):
        return evidence_links(value if isinstance(value, list) else [value])
    if isinstance(value, int | float):
        return esc(_number(key, value))
    if isinstance(value, list):
        return esc(
            ", ".join(_number(key, v) if isinstance(v, int | float) else str(v) for v in value)
        )
    return esc(value)


def _number(key: str, value: float) -> str:
    for suffix, fmt in _BY_SUFFIX:
        if key.endswith(suffix):
            return fmt(value)
    if isinstance(value, int):
        return str(value)
    return fmt_count(value) if abs(value) >= 1000 else f"{value:.4g}"


def evidence_links(ids: list[Any]) -> str:
    """Links to the evidence entries (a closed ``<details>`` opens on the link)."""
    return ", ".join(f'<a href="#ev-{esc(i)}">{esc(i)}</a>' for i in ids)


def bottleneck_figure(kind: str | None, place: str | None, component: str | None) -> Figure:
    """The page's "Bottleneck" card: its type, where it is when that says more, the component."""
    what = kind or "none found"
    if place and place != what:
        what += f" ({place})"
    return "Bottleneck", what, f"in {component}" if component else ""
