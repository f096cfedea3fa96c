"""The sweep runner against real local HTTP servers with known shapes (short levels).

Each server is a ``ThreadingHTTPServer`` on a free loopback port, one thread per connection, so
the client's concurrency is the server's work in flight. Its behaviour is built from sleeps,
which hold no CPU: the curves come from the construction, not from the 2-core box.
"""

from __future__ import annotations

import io
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.support import http_server

from throughput_expert.errors import InputError, Interrupted
from throughput_expert.laws.usl import fit_usl
from throughput_expert.measure.drivers import CallableDriver, CommandDriver
from throughput_expert.measure.http_driver import UrlDriver
from throughput_expert.measure.runner import (
    highest_sustained_rps,
    interrupted_by,
    reraise_interruption,
    run_sweep,
    sustained,
)
from throughput_expert.model.progress import ProgressEvent
from throughput_expert.render.progress import progress_printer

Work = Callable[[], None]


@contextmanager
def serve(work: Work) -> Iterator[str]:
    """A keep-alive HTTP server on a free loopback port running ``work`` per request."""
    # A queue for every client connection at once, without SYN retries.
    with http_server(lambda _: work(), request_queue_size=256) as base:
        yield base + "/"


# Contention: every request sleeps P outside any lock (parallel work), then holds one shared lock
# for H(n) = B + K·n, n = requests inside the server when it takes the lock.
P, B, K = 0.020, 0.002, 0.0005


def contended() -> Work:
    lock, guard = threading.Lock(), threading.Lock()
    in_flight = [0]

    def work() -> None:
        with guard:
            in_flight[0] += 1
        time.sleep(P)
        with lock:
            time.sleep(B + K * in_flight[0])
        with guard:
            in_flight[0] -= 1

    return work


def plateau(workers: int, service_s: float) -> Work:
    slots = threading.Semaphore(workers)

    def work() -> None:
        with slots:
            time.sleep(service_s)

    return work


def test_contended_server_peak_is_where_the_construction_puts_it() -> None:
    # With n clients (closed loop), all n requests are in the server, so H = B + K·n. Below
    # saturation X = n / (P + H); once the lock is busy all the time, X = 1 / H, which falls as
    # n grows. The peak is where the two meet, n·H = P + H: K·n² + (B − K)·n − (P + B) = 0, i.e.
    # n* = 5.3 for P = 20 ms, B = 2 ms, K = 0.5 ms (X* ≈ 215/s), between levels 4 and 8; on
    # these levels the curve is 44, 87, 167, 167, 100, 56/s. The USL fitted to that exact curve
    # puts N* at 6.0. The fitted peak must lie within the bracket [4, 8] widened by a factor 1.5
    # each way for timing noise on a busy 2-core box (sleep overshoot, HTTP overhead): [2.7, 12].
    with serve(contended()) as url:
        sweep = run_sweep(
            UrlDriver(url), concurrency=[1, 2, 4, 8, 16, 32], duration_s=1.0, warmup_s=0.3
        )
    levels, rates = sweep.points()
    fit = fit_usl(levels, rates)
    assert fit.shape == "retrograde", (rates, fit)
    assert fit.peak_concurrency is not None
    assert 2.7 <= fit.peak_concurrency <= 12, (rates, fit.peak_concurrency)
    assert max(rates) == pytest.approx(215, rel=0.35)
    assert rates[-1] < 0.6 * max(rates)  # well past the peak the curve is falling
    assert sweep.mode == "closed" and sweep.closed_loop_percentiles
    assert all(lv.errors == 0 for lv in sweep.levels)


def test_plateau_server_reaches_workers_over_service_time_with_a_knee_at_workers() -> None:
    # W = 4 workers of S = 10 ms each: X(n) = min(n, W) / S, so 100, 200, 400, 400, 400/s on
    # levels 1, 2, 4, 8, 16; the knee (first level within 15 % of the maximum: on a loaded 2-core
    # machine n = W read 332/s against a best of 370/s, 10.3 % below, while n = W/2 stays near
    # half) is n = W, and
    # there is no peak: the top level keeps the maximum.
    workers, service_s = 4, 0.010
    with serve(plateau(workers, service_s)) as url:
        sweep = run_sweep(
            UrlDriver(url), concurrency=[1, 2, 4, 8, 16], duration_s=1.0, warmup_s=0.2
        )
    levels, rates = sweep.points()
    best = max(rates)
    assert best == pytest.approx(workers / service_s, rel=0.15), rates
    knee = next(n for n, x in zip(levels, rates, strict=True) if x >= 0.85 * best)
    assert knee == workers, rates
    assert rates[-1] >= 0.9 * best, rates  # a plateau, not a peak


def test_open_loop_measures_from_the_intended_start() -> None:
    # Capacity W / S = 2 / 10 ms = 200/s. Below it the achieved rate follows the offered one;
    # past it the backlog grows ~200 requests a second, and latency from the intended start grows
    # with it (~0.5 s and more), while a closed loop at the same 16 in flight sees only its own
    # queue: p99 ≈ 16 / 200/s = 80 ms. That gap is coordinated omission (docs/formats.md §3.9).
    with serve(plateau(2, 0.010)) as url:
        driver = UrlDriver(url)
        opened = run_sweep(
            driver, rates=[50, 100, 400], duration_s=1.5, warmup_s=0.3, open_workers=16
        )
        closed = run_sweep(driver, concurrency=[16], duration_s=1.5, warmup_s=0.3)
    low, mid, high = opened.levels
    assert opened.mode == "open" and not opened.closed_loop_percentiles
    assert low.throughput_rps == pytest.approx(50, rel=0.05)
    assert mid.throughput_rps == pytest.approx(100, rel=0.05)
    assert high.throughput_rps < 0.6 * 400 and not sustained(high)
    open_p99, closed_p99 = high.latency.p99_s, closed.levels[0].latency.p99_s
    assert open_p99 is not None and closed_p99 is not None
    assert open_p99 > 3 * closed_p99, (open_p99, closed_p99)
    assert highest_sustained_rps(opened) in (50, 100)
    assert any(note.startswith("highest sustained rate") for note in opened.notes)
    # With an SLO below the service time nothing is sustained.
    assert highest_sustained_rps(opened, slo_s=0.001) is None


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> str:
    """A workload module of its own (a fresh name: imported modules are cached)."""
    name = f"tpx_workload_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"{name}:work"


def test_ctrl_c_keeps_the_finished_levels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _module(tmp_path, monkeypatch, "def work():\n    pass\n")

    def interrupt(event: ProgressEvent) -> None:
        if event.kind == "level_start" and event.index == 3:
            raise KeyboardInterrupt

    sweep = run_sweep(
        CallableDriver(spec),
        concurrency=[1, 2, 4, 8],
        duration_s=0.3,
        warmup_s=0.0,
        on_progress=interrupt,
    )
    assert [lv.level for lv in sweep.levels] == [1, 2]
    assert any("interrupted by SIGINT after level 2" in note for note in sweep.notes)


def test_ctrl_c_inside_a_running_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _module(tmp_path, monkeypatch, "import time\ndef work():\n    time.sleep(0.001)\n")

    def interrupt(event: ProgressEvent) -> None:
        if event.kind == "tick" and event.index == 2:
            raise KeyboardInterrupt

    start = time.perf_counter()
    sweep = run_sweep(
        CallableDriver(spec),
        concurrency=[1, 2, 4],
        duration_s=2.0,
        warmup_s=0.0,
        on_progress=interrupt,
    )
    assert time.perf_counter() - start < 3.5  # level 1 (2 s), then a stop within a tick
    assert [lv.level for lv in sweep.levels] == [1]
    assert any("interrupted by SIGINT after level 1" in note for note in sweep.notes)


def test_sigterm_keeps_the_finished_levels_and_is_raised_again_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _module(tmp_path, monkeypatch, "def work():\n    pass\n")

    def terminate(event: ProgressEvent) -> None:
        if event.kind == "level_start" and event.index == 2:
            raise Interrupted(signal.SIGTERM)

    sweep = run_sweep(
        CallableDriver(spec), concurrency=[1, 2], duration_s=0.2, warmup_s=0.0,
        on_progress=terminate,
    )  # fmt: skip
    assert [lv.level for lv in sweep.levels] == [1]
    assert "interrupted by SIGTERM after level 1: the levels finished before it are kept" in (
        sweep.notes
    )
    assert interrupted_by() == signal.SIGTERM
    with pytest.raises(Interrupted) as raised:
        reraise_interruption()
    assert raised.value.signum == signal.SIGTERM
    reraise_interruption()  # once only
    run_sweep(CallableDriver(spec), concurrency=[1], duration_s=0.1, warmup_s=0.0)
    assert interrupted_by() is None


def test_error_threshold_stops_the_sweep() -> None:
    sweep = run_sweep(CommandDriver("exit 3"), concurrency=[1, 2], duration_s=0.3, warmup_s=0.0)
    assert sweep.levels == ()
    assert any("stopped at level 1" in n and "error threshold of 50%" in n for n in sweep.notes)


def test_errors_below_the_threshold_are_counted_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "import itertools\n_n = itertools.count()\ndef work():\n    if next(_n) % 4 == 0:\n"
    spec = _module(tmp_path, monkeypatch, body + "        raise RuntimeError('every 4th')\n")
    sweep = run_sweep(CallableDriver(spec), concurrency=[1, 2], duration_s=0.3, warmup_s=0.0)
    assert len(sweep.levels) == 2
    for lv in sweep.levels:
        assert lv.errors is not None and lv.requests is not None
        assert lv.errors / lv.requests == pytest.approx(0.25, abs=0.01)


def test_max_requests_bounds_a_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _module(tmp_path, monkeypatch, "def work():\n    pass\n")
    start = time.perf_counter()
    sweep = run_sweep(
        CallableDriver(spec),
        concurrency=[2],
        duration_s=30.0,
        warmup_s=0.0,
        max_requests=500,
    )
    assert time.perf_counter() - start < 5
    assert sweep.levels[0].requests == 500


def test_remote_url_is_refused_before_any_traffic() -> None:
    with pytest.raises(InputError, match=r"192\.0\.2\.1 is not a loopback address: pass allow_re"):
        run_sweep(UrlDriver("http://192.0.2.1:9/"), concurrency=[1], duration_s=0.1)


def test_settings_are_checked() -> None:
    driver = CommandDriver("true")
    with pytest.raises(InputError, match="not both"):
        run_sweep(driver, concurrency=[1], rates=[10.0])
    with pytest.raises(InputError, match="whole numbers"):
        run_sweep(driver, concurrency=[0])
    with pytest.raises(InputError, match=r"^duration: "):
        run_sweep(driver, concurrency=[1], duration_s=0)


def test_progress_events_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _module(tmp_path, monkeypatch, "def work():\n    pass\n")
    events: list[ProgressEvent] = []
    run_sweep(
        CallableDriver(spec),
        concurrency=[1, 2],
        duration_s=0.6,
        warmup_s=0.0,
        on_progress=events.append,
    )
    kinds = [e.kind for e in events]
    assert kinds[0] == "level_start" and kinds[-1] == "sweep_end"
    assert kinds.count("level_end") == 2 and "tick" in kinds
    assert events[-2].rate_rps > 0


def test_progress_printer_writes_plain_lines_off_a_terminal() -> None:
    stream = io.StringIO()
    show = progress_printer(stream)
    show(ProgressEvent("level_start", 1, 2, 4.0, "closed", planned_s=1.5))
    show(ProgressEvent("tick", 1, 2, 4.0, "closed", elapsed_s=0.5, rate_rps=10.0))
    show(ProgressEvent("level_end", 1, 2, 4.0, "closed", 1.5, 1.5, 300, 2, 200.0, p99_s=0.0123))
    show(ProgressEvent("sweep_end", 2, 2, 0.0, "closed", message="interrupted after level 1"))
    assert stream.getvalue().splitlines() == [
        "level 1/2: concurrency 4: started (1.5 s planned)",
        "level 1/2: concurrency 4: 200.0 rps, 300 ok, 2 errors, p99 12.30 ms, 1.5/1.5 s",
        "sweep finished: interrupted after level 1",
    ]


def test_progress_printer_is_live_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    show = progress_printer(stream)
    show(ProgressEvent("level_start", 1, 1, 8.0, "open", planned_s=1.0))
    show(ProgressEvent("tick", 1, 1, 8.0, "open", elapsed_s=0.5, rate_rps=7.9))
    show(ProgressEvent("level_end", 1, 1, 8.0, "open", 1.0, 1.0, 8, 0, 8.0))
    show(ProgressEvent("sweep_end", 1, 1, 0.0, "open"))
    assert "level 1/1: offered 8 rps: 8.0 rps, 8 ok, 0 errors" in stream.getvalue()
    assert "sweep finished" in stream.getvalue()
