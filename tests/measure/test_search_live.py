"""The peak search driving a real server: the contended HTTP server of ``test_runner`` (n* = 5.3,
X* ≈ 215/s; 204/s at 5, 200/s at 6; 44, 128, 154, 65/s at 1, 3, 9, 27 by its construction)."""

from __future__ import annotations

from tests.measure.test_runner import contended, serve

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.usl_report import choose_level, measured_peak, usl_report
from throughput_expert.measure.http_driver import UrlDriver
from throughput_expert.measure.runner import run_sweep
from throughput_expert.measure.search import PeakSearch


def test_peak_search_brackets_the_contended_servers_peak_and_recommends_inside() -> None:
    # 1, then 3 read twice (the noise is unknown until a level is read again), 9, 27 (a fall of
    # 2.4x: significant), then inside the bracket (3, 27). The level recommended (the smallest
    # not significantly below the best) lies within the construction's [4, 8] widened by one.
    with serve(contended()) as url:
        sweep = run_sweep(
            UrlDriver(url), concurrency=PeakSearch(max_levels=8), duration_s=1.0, warmup_s=0.3
        )
    order = [lv.level for lv in sweep.levels]
    rates = [round(lv.throughput_rps) for lv in sweep.levels]
    assert order[:3] == [1, 3, 3] and 27 in order and max(order) == 27, (order, rates)
    ledger = Ledger()
    choice = choose_level(sweep, usl_report(sweep, ledger).analysis, measured_peak(sweep, ledger))
    assert choice.level is not None and 4 <= choice.level <= 9, (order, rates, choice)
    assert sweep.notes[0] == "level 1 at concurrency 1: the first level"
    assert len(order) <= 8
