"""The packaged data is parsed once per process and handed out as a copy: a caller that changes
what it got (a library user, one MCP call) changes nothing for the next."""

from __future__ import annotations

from throughput_expert.sources.settings import load_settings


def test_a_change_to_loaded_settings_does_not_reach_the_next_load() -> None:
    first = load_settings()
    cpu = first.raw["saturation_targets"]["cpu"]
    first.raw["saturation_targets"]["cpu"] = 0.01
    first.raw["batching_operations"].clear()
    again = load_settings()
    assert again.raw["saturation_targets"]["cpu"] == cpu != 0.01
    assert again.raw["batching_operations"]
    assert again.target("cpu") == cpu
