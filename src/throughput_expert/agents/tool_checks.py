"""Limits an MCP tool adds to its API function: an agent's call is bounded more tightly than a
user's at a terminal. Each function takes the tool's arguments (files already inside the roots)
and the roots' ``Confine``, and returns the arguments to call the API with."""

from __future__ import annotations

from typing import Any

from throughput_expert.agents.confine import Confine
from throughput_expert.api import MAX_TOOL_LEVELS
from throughput_expert.errors import InputError, Parameter

__all__ = ["MAX_LEVEL_S", "scaling_plan", "sweep"]

MAX_LEVEL_S = 5.0  # seconds per level at most


def sweep(arguments: dict[str, Any], confine: Confine) -> dict[str, Any]:
    """At most 8 levels of at most 5 s, loopback targets only, a fixed request cap."""
    from throughput_expert.model.quantity import parse_duration

    url = arguments.get("url")
    if url is not None:
        _loopback_only(url)
    duration = arguments.get("duration", "2s")
    seconds = parse_duration(duration, source=Parameter("duration"), default_unit="s")
    if not 0 < seconds <= MAX_LEVEL_S:
        raise InputError(
            f"must be above 0 and at most {MAX_LEVEL_S:g} s per level over MCP",
            source=Parameter("duration"),
        )
    levels = arguments.get("concurrency")
    if isinstance(levels, list) and len(levels) > MAX_TOOL_LEVELS:
        raise InputError(f"at most {MAX_TOOL_LEVELS} levels", source=Parameter("concurrency"))
    budget: dict[
        str, int
    ] = {}  # an agent's auto search keeps its 8-reading budget (the CLI's default is 16)
    auto = isinstance(levels, str) and levels.strip().lower() == "auto"
    if auto and arguments.get("max_levels") is None:
        budget["max_levels"] = MAX_TOOL_LEVELS
    return {
        **arguments,
        **budget,
        "duration": f"{seconds}s",
        "warmup": f"{min(1.0, seconds / 2)}s",
        "max_requests": 1_000_000,
        "allow_remote": False,
    }


def _loopback_only(url: str) -> None:
    """Refuse a URL whose host is not loopback, in the tool's words: it has no allow_remote."""
    from urllib.parse import urlsplit

    from throughput_expert.measure.http_driver import check_loopback

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # not a URL: the API refuses it in its own words
        return
    if parts.scheme in ("http", "https") and parts.hostname:
        try:
            parts.hostname.encode("idna")  # as the resolver encodes it
        except UnicodeError:
            raise InputError(
                f"{parts.hostname!r} is not a host name", source=Parameter("url")
            ) from None
        check_loopback(
            parts.hostname,
            port or (443 if parts.scheme == "https" else 80),
            allow_remote=False,
            source=Parameter("url"),
            remedy="the sweep tool measures loopback targets only",
        )


def scaling_plan(arguments: dict[str, Any], confine: Confine) -> dict[str, Any]:
    """The architecture's component sweep files are read by the plan: inside the roots too,
    whether the architecture is a file or sent inline (its relative sweeps: from the first
    root)."""
    from throughput_expert.model.architecture import Architecture
    from throughput_expert.sources.architecture import load_architecture

    given = arguments["current_architecture"]
    arch = given if isinstance(given, Architecture) else load_architecture(given)
    for i, component in enumerate(arch.components):
        if component.sweep:
            confine.resolve(component.sweep, field=f"current_architecture: components[{i}].sweep")
    return {**arguments, "current_architecture": arch}
