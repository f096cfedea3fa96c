"""Renderers: JSON, terminal text (and HTML later), on one base class."""

from __future__ import annotations

from throughput_expert.errors import InputError, Parameter
from throughput_expert.render.base import Renderer

__all__ = ["FORMATS", "Renderer", "renderer_for"]

FORMATS = ("json", "text", "html")


def renderer_for(name: str, width: int | None = None, color: bool = False) -> Renderer:
    """The renderer for a ``--format`` name; ``width``: the text's columns (default 80);
    ``color``: ANSI colours in text (the caller decides: a terminal, no ``NO_COLOR``)."""
    if name == "json":
        from throughput_expert.render.as_json import JSONRenderer

        return JSONRenderer()
    if name == "text":
        from throughput_expert.render.as_text import TextRenderer

        return TextRenderer(width, color)
    if name == "html":
        from throughput_expert.render.as_html import HTMLRenderer

        return HTMLRenderer()
    raise InputError(
        f"unknown format {name!r} (known: {', '.join(FORMATS)})", source=Parameter("format")
    )
