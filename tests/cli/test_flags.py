from __future__ import annotations

from throughput_expert.cli import DEMOS
from throughput_expert.cli_flags import DEMO_NAMES


def test_every_demo_has_its_flag_choice() -> None:
    assert set(DEMOS) == set(DEMO_NAMES)
