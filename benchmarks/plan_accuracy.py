"""Plan accuracy: does `tpx analyze`'s plan hold on a real pipeline on this machine?

A producer, a bounded queue and N consumer processes write items (a few hundred bytes each) to
the local PostgreSQL, one commit per batch, into a durable table (``benchmarks/_pipeline/``).
The script measures the starting configuration (1 consumer, batch 1) at full load while
`tpx observe` samples the machine, writes the pipeline's own facts as a tpx metrics JSON, asks
`tpx analyze --metrics pipeline.json --metrics host.json --target-rps T` for a plan, applies its
steps one by one (batch -> items per commit, workers -> consumer processes; anything else needs
another machine and stops it), and compares each step's predicted capacity with the throughput
achieved at full load (median of 3 windows after a warm-up). For the last applied step it offers
the step's ceiling open loop and compares the binding station's utilization with the plan's.
It ends with what each station costs per item at each configuration, measured and as the model
has it, to show where the model departs from the machine.

Between the start and the analysis it runs a **batch trial**, the way an engineer would before
asking for a plan: 1 consumer at full load at a few batch sizes (1, 2, 5, 13, 50, 200, 1000: up
to where the per-item cost outweighs the per-call one, b > c0/c1, else a cost mostly paid per call
shows no slope to fit), two passes over the sizes (a burst of other work on a shared machine hits
one pass, not both; up to six passes until the latency and the CPU fit a line), each a short
warm-up and two windows. Each window gives the means over its calls (a call = one batch: its
statement and its commit): the time the consumer waited for the call, the CPU time the consumer
and PostgreSQL (every process of the cluster but other programs' sessions) spent per call, and the
data device's busy time per call (/proc/diskstats io_ticks). The CSV ``batch_size,latency_ms,
cpu_ms,disk_ms`` has one row per size: each column's median over that size's windows. A column
the tool's line fit would refuse is left out (and said). It is passed to ``tpx analyze
--batch-trials``; ``--no-trial`` leaves it out (the tool then takes its per-call shares from its
batching table).

Needs a PostgreSQL: `TPX_POSTGRES_DSN` (scripts/services start writes it to .services/env), e.g.
    bash scripts/services start && . .services/env && python benchmarks/plan_accuracy.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from _pipeline import probes
from _pipeline.pipeline import Config, Pipeline, create_table, drop_table, other_clients

TPX = [sys.executable, "-m", "throughput_expert.cli"]
ARCHITECTURE = "1 consumer, PostgreSQL sink"
WORKER_TARGET = 0.70  # the tool's thresholds.pool_busy_target default (advisors/data)
SATURATED = 0.85  # a resource this busy at full load is taken as the one that limits
QUIET = 0.20  # host CPU busy under which the machine counts as quiet


@dataclass
class Options:
    factor: float
    runs: int
    window_s: float
    warmup_s: float
    observe_s: float
    diagnose: bool
    keep: str | None
    quiet_s: float
    own_cpu: bool
    trial: bool = True
    trial_sizes: tuple[int, ...] = (1, 2, 5, 13, 50, 200, 1000)
    trial_warmup_s: float = 0.3
    trial_windows: int = 2
    trial_window_s: float = 0.4
    trial_passes: int = 2


@dataclass
class Measured:
    """One configuration at full load: its windows and their medians."""

    config: Config
    windows: list[probes.Window]
    host: dict[str, Any] | None = None
    """`tpx observe`'s metrics JSON over one of the windows, when it ran."""

    @property
    def rate(self) -> float:
        return statistics.median(w.rate for w in self.windows)

    def median(self, get: Callable[[probes.Window], float]) -> float:
        return statistics.median(get(w) for w in self.windows)


@dataclass
class Run:
    dsn: str
    table: str
    device: str
    opts: Options
    workdir: str
    next_id: int = 0
    seen: dict[tuple[int, int], Measured] = field(default_factory=dict)

    @contextmanager
    def pipeline(self, config: Config) -> Iterator[tuple[Pipeline, list[int]]]:
        self.next_id += 10**12  # ids never collide between sessions (primary key)
        budget = self.opts.warmup_s + max(self.opts.runs * self.opts.window_s, 30) + 30
        with Pipeline(self.dsn, self.table, config, self.next_id, budget) as p:
            ours = p.backend_pids()
            yield p, probes.postgres_pids(ours[0], other_clients(self.dsn, ours))

    def sample(self, p: Pipeline, pg: list[int]) -> probes.Sample:
        return probes.sample(p, pg, time.monotonic())

    def full_load(self, workers: int, batch: int, windows: int | None = None) -> Measured:
        """``windows`` back-to-back windows after a warm-up (cached per configuration)."""
        key = (workers, batch)
        if key in self.seen and windows is None:
            return self.seen[key]
        config = Config(workers, batch)
        out = []
        wait_quiet(self, self.opts.quiet_s / 3)
        with self.pipeline(config) as (p, pg):
            time.sleep(self.opts.warmup_s)
            a = self.sample(p, pg)
            for _ in range(windows or self.opts.runs):
                time.sleep(self.opts.window_s)
                b = self.sample(p, pg)
                out.append(probes.window(a, b, self.device, workers))
                a = b
            if not p.alive():
                raise RuntimeError(f"a consumer died during {config}")
        m = Measured(config, out)
        if windows is None:
            self.seen[key] = m
        return m

    def observed(self, config: Config, save: str) -> Measured:
        """One window of ``observe_s`` during which `tpx observe` samples the machine."""
        with self.pipeline(config) as (p, pg):
            time.sleep(self.opts.warmup_s)
            samples: list[probes.Sample] = []
            done = threading.Event()

            def record() -> None:
                while not done.is_set():
                    samples.append(self.sample(p, pg))
                    done.wait(0.1)

            thread = threading.Thread(target=record, daemon=True)
            thread.start()
            proc = subprocess.run(
                [*TPX, "observe", "--duration", f"{self.opts.observe_s:g}s", "--save", save],
                capture_output=True,
                text=True,
                timeout=self.opts.observe_s + 60,
            )
            end = time.monotonic()
            done.set()
            thread.join()
            if proc.returncode != 0:
                raise RuntimeError(f"tpx observe failed: {proc.stderr.strip()}")
        # tpx observe's window: its last `observe_s` seconds before it exited (its start-up and
        # the save take a few hundred ms, outside the window)
        start = end - self.opts.observe_s - 0.05
        a = min(samples, key=lambda s: abs(s.t - start))
        b = min(samples, key=lambda s: abs(s.t - (end - 0.05)))
        with open(save, encoding="utf-8") as fh:
            host = json.load(fh)
        return Measured(config, [probes.window(a, b, self.device, config.workers)], host)

    def trial_pass(self) -> list[TrialRow]:
        """One pass over the trial sizes, 1 consumer at full load: at each a warm-up, then
        ``trial_windows`` windows; one row per window."""
        o = self.opts
        rows: list[TrialRow] = []
        for size in o.trial_sizes:
            with self.pipeline(Config(1, size)) as (p, pg):
                time.sleep(o.trial_warmup_s)
                a = self.sample(p, pg)
                for _ in range(o.trial_windows):
                    time.sleep(o.trial_window_s)
                    b = self.sample(p, pg)
                    w = probes.window(a, b, self.device, 1)
                    a = b
                    if w.calls == 0:
                        continue
                    served = w.proc_cpu_s["consumers"] + w.proc_cpu_s["postgres"]
                    rows.append(
                        TrialRow(
                            batch=size,
                            calls=w.calls,
                            items=w.items,
                            latency_s=(w.statement_s + w.commit_s) / w.calls,
                            cpu_s=served / w.calls,
                            disk_s=w.disk_util * w.seconds / w.calls,
                            rate=w.rate,
                            others=others_share(w),
                            runqueue_s=w.runqueue_s / w.calls,
                        )
                    )
                if not p.alive():
                    raise RuntimeError(f"the consumer died during the trial at batch {size}")
        return rows


def per_size(rows: list[TrialRow]) -> list[TrialRow]:
    """One row per size over all its windows: each quantity summed over the windows, divided by
    their calls (a window slowed by other work has fewer calls, so it weighs less; the CPU's
    10 ms and io_ticks' 4 ms granularity matter less over the sum); ``others``, the median."""
    out = []
    for size in sorted({r.batch for r in rows}):
        at = [r for r in rows if r.batch == size]
        calls = sum(r.calls for r in at)

        def per_call(get: Callable[[TrialRow], float], at: list[TrialRow] = at) -> float:
            return sum(get(r) * r.calls for r in at) / sum(r.calls for r in at)

        out.append(
            TrialRow(
                batch=size,
                calls=calls,
                items=sum(r.items for r in at),
                latency_s=per_call(lambda r: r.latency_s),
                cpu_s=per_call(lambda r: r.cpu_s),
                disk_s=per_call(lambda r: r.disk_s),
                rate=statistics.median(r.rate for r in at),
                others=statistics.median(r.others for r in at),
                runqueue_s=per_call(lambda r: r.runqueue_s),
                windows=len(at),
            )
        )
    return out


@dataclass(frozen=True)
class TrialRow:
    """One window of the batch trial: the means over its calls."""

    batch: int
    calls: int
    items: int
    latency_s: float
    """The consumer's time in the statement and the commit, per call."""
    cpu_s: float
    """CPU seconds of the consumer and PostgreSQL (its processes but other sessions), per call."""
    disk_s: float
    """The data device's busy seconds (io_ticks), per call."""
    rate: float
    others: float
    """Share of the machine's CPU other processes used in the window."""
    runqueue_s: float = 0.0
    """The consumer's and its backend's time waiting for a CPU, per call."""
    windows: int = 1

    @property
    def mean_batch(self) -> float:
        return self.items / self.calls


TRIAL_COLUMNS = ("latency_ms", "cpu_ms", "disk_ms")


def trial_columns(rows: list[TrialRow]) -> dict[str, list[float]]:
    """Each CSV column's values in ms. The batch size is the configured one: the queue is never
    empty at full load (items / calls may be off by one call read mid-update: the counters are
    two words)."""
    return {
        "latency_ms": [r.latency_s * 1e3 for r in rows],
        "cpu_ms": [r.cpu_s * 1e3 for r in rows],
        "disk_ms": [r.disk_s * 1e3 for r in rows],
    }


def write_trial_csv(path: str, rows: list[TrialRow], columns: list[str]) -> None:
    values = trial_columns(rows)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(["batch_size", *columns]) + "\n")
        for i, r in enumerate(rows):
            cells = [str(r.batch), *(f"{values[c][i]:.6g}" for c in columns)]
            fh.write(",".join(cells) + "\n")


def fit_columns(rows: list[TrialRow]) -> dict[str, Any]:
    """Each column's line T(b) = c0 + c1·b judged as `tpx analyze --batch-trials` judges it
    (``laws/batching.fit_call_cost``, kept when its relative error is at most the settings'
    ``thresholds.trial_max_relative_error``): the fit, or the reason it is refused (a string).
    Not R²: a line that is nearly flat (the cost paid per call) explains little of the variation
    between sizes yet fits within a few per cent, and the tool keeps it."""
    from throughput_expert.errors import ThroughputError
    from throughput_expert.laws.batching import fit_call_cost
    from throughput_expert.sources.settings import load_settings

    limit = load_settings().threshold("trial_max_relative_error")
    values = trial_columns(rows)
    sizes = [float(r.batch) for r in rows]
    out: dict[str, Any] = {}
    for column in TRIAL_COLUMNS:
        if min(values[column]) <= 0:
            out[column] = "zero at some size (nothing counted in its windows)"
            continue
        try:
            fit = fit_call_cost(sizes, [v / 1e3 for v in values[column]])
        except ThroughputError as exc:
            out[column] = f"refused by the tool's fit ({exc})"
            continue
        if fit.relative_error > limit:
            out[column] = (
                f"refused by the tool: {fit.relative_error:.0%} from the best line T(b) = "
                f"{us(fit.c0_s)} + {us(fit.c1_s)}·b, over thresholds.trial_max_relative_error "
                f"{limit:.0%}"
            )
            continue
        out[column] = fit
    return out


def batch_trial(run: Run) -> tuple[list[TrialRow], list[TrialRow]]:
    """Passes over the sizes until the latency and CPU columns each fit a line (at least
    ``trial_passes``, at most three times that): the windows, and one row per size."""
    o = run.opts
    windows: list[TrialRow] = []
    for n in range(1, 3 * o.trial_passes + 1):
        windows += run.trial_pass()
        if n < o.trial_passes:
            continue
        fits = fit_columns(per_size(windows))
        bad = [c for c in ("latency_ms", "cpu_ms") if isinstance(fits[c], str)]
        if not bad:
            break
        if n < 3 * o.trial_passes:
            print(f"  after {n} pass(es) {', '.join(bad)} fit no line: one more pass")
    return windows, per_size(windows)


def show_trial(windows: list[TrialRow], rows: list[TrialRow]) -> list[str]:
    """Print the trial (the CSV's rows, one per size) and the line each column fits; the columns
    the tool's fit takes (the ones to pass to it; none without latency_ms)."""
    from throughput_expert.errors import FitError
    from throughput_expert.laws.batching import fit_cost_model

    print(
        "  batch windows | items/s | per call: latency (windows' range)  CPU (consumer+postgres)"
        "  disk busy  waiting for a CPU | per item: latency   CPU   disk | other processes' CPU"
    )
    for r in rows:
        lat = [w.latency_s for w in windows if w.batch == r.batch]
        b = r.mean_batch
        print(
            f"  {r.batch:5d} {r.windows:7d} | {r.rate:7,.0f} | {us(r.latency_s):>18} "
            f"({min(lat) * 1e3:.2f}-{max(lat) * 1e3:.2f} ms) {us(r.cpu_s):>13} "
            f"{us(r.disk_s):>10} {us(r.runqueue_s):>17} | {us(r.latency_s / b):>17} "
            f"{us(r.cpu_s / b):>5} {us(r.disk_s / b):>6} | {pct(r.others)}"
        )
    keep = []
    for column, fit in fit_columns(rows).items():
        if isinstance(fit, str):
            print(f"  {column}: {fit}; left out of the CSV")
            continue
        keep.append(column)
        print(
            f"  {column}: T(b) = {us(fit.c0_s)} + {us(fit.c1_s)}·b (relative error "
            f"{fit.relative_error:.1%}): "
            f"per-call share at batch 1 {fit.c0_s / (fit.c0_s + fit.c1_s):.3f}"
        )
    # for the diagnosis, not the CSV: the call's time less its time waiting for a CPU
    net = [r.latency_s - r.runqueue_s for r in rows]
    waits = ", ".join(f"{r.runqueue_s / r.latency_s:.0%}" for r in rows)
    try:
        fit = fit_cost_model([float(r.batch) for r in rows], net)
        line = (
            f"T(b) = {us(fit.c0_s)} + {us(fit.c1_s)}·b (R² {fit.r_squared:.3f}), per-call share "
            f"at batch 1 {fit.c0_s / (fit.c0_s + fit.c1_s):.3f}"
        )
    except (FitError, ValueError) as exc:
        line = f"no line ({str(exc).splitlines()[0][:120]})"
    print(
        f"  (not in the CSV) latency less the time waiting for a CPU ({waits} of each size's "
        f"latency): {line}"
    )
    if "latency_ms" not in keep:
        print("  without latency_ms the tool takes no trial: analyzed without it")
        return []
    return keep


# --- printing helpers -------------------------------------------------------------------


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs" if seconds < 1e-4 else f"{seconds * 1e6:,.0f} µs"


def pct(fraction: float) -> str:
    return f"{fraction * 100:.1f} %"


def costs(w: probes.Window) -> str:
    """What one item cost at this window: CPU by process group, disk busy, worker time."""
    ours = sum(w.proc_cpu_s.values())
    host_cpu = w.cpu_util * w.seconds * (os.cpu_count() or 1)
    return (
        f"CPU per item {us(w.cpu_per_item_s)} "
        f"(consumers {us(w.per_item(w.proc_cpu_s['consumers']))}"
        f", postgres {us(w.per_item(w.proc_cpu_s['postgres']))}, producer "
        f"{us(w.per_item(w.proc_cpu_s['producer']))}, other processes "
        f"{us(w.per_item(max(host_cpu - ours, 0.0)))}); disk busy per item "
        f"{us(w.disk_per_item_s)}; worker time per item {us(w.workers * w.seconds / w.items)} "
        f"(statement {us(w.per_item(w.statement_s))}, commit "
        f"{us(w.per_item(w.commit_s))}; consumer and backend waiting for a CPU "
        f"{us(w.per_item(w.runqueue_s))}); {w.disk_writes / max(w.calls, 1):.2f} disk writes "
        f"per commit"
    )


def own_cpu(w: probes.Window) -> float:
    """The pipeline's and PostgreSQL's CPU, a fraction of all cores."""
    return sum(w.proc_cpu_s.values()) / (w.seconds * (os.cpu_count() or 1))


def others_share(w: probes.Window) -> float:
    """Share of the machine's CPU that processes other than the pipeline's and PostgreSQL's used."""
    return max(w.cpu_util - own_cpu(w), 0.0)


# --- the tool ---------------------------------------------------------------------------


def analyze(
    run: Run, pipeline_json: str, host_json: str, target: float, trial_csv: str | None
) -> dict[str, Any]:
    cmd = [*TPX, "analyze", "--metrics", pipeline_json, "--metrics", host_json]
    cmd += ["--target-rps", f"{target:.0f}", "--format", "json"]
    if trial_csv is not None:
        cmd += ["--batch-trials", trial_csv]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"tpx analyze failed: {proc.stderr.strip()}")
    report: dict[str, Any] = json.loads(proc.stdout)
    if run.opts.keep:
        with open(os.path.join(run.opts.keep, "report.json"), "w", encoding="utf-8") as fh:
            fh.write(proc.stdout)
    return report


def write_pipeline_json(
    path: str, rate: float, seconds: float, max_instances: bool, cpu: float | None
) -> None:
    doc: dict[str, Any] = {
        "format": "tpx-metrics",
        "version": 1,
        "service": "plan-accuracy-pipeline",
        "architecture": ARCHITECTURE,
        "system_type": "message-processing",
        "interval_s": round(seconds, 3),
        "throughput_rps": round(rate, 1),
        "workers": 1,
        "batch_size": 1,
        "cores": os.cpu_count() or 1,
    }
    if max_instances:
        doc |= {"instances": 1, "max_instances": 1}
    if cpu is not None:
        doc["utilization"] = {"cpu": round(cpu, 4)}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)


def read_plan(report: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    envelope = report.get("implementation_plan")
    if isinstance(envelope, Mapping) and envelope.get("steps"):
        return "implementation_plan", envelope
    plan = report.get("analysis", {}).get("plan")
    if not isinstance(plan, Mapping):
        raise RuntimeError(
            "the report has no plan (neither implementation_plan.steps nor analysis.plan)"
        )
    return "analysis.plan", plan


def assumption(report: Mapping[str, Any], what: str) -> Any:
    for a in report.get("assumptions", []):
        if a.get("what") == what:
            return a.get("value")
    return None


# --- the model, as documented, for the diagnosis --------------------------------------------


@dataclass(frozen=True)
class Shares:
    """Each station's share of its demand at batch 1 paid per call, as the tool took it."""

    cpu: float
    disk: float
    worker: float
    source: str

    def __str__(self) -> str:
        return (
            f"per-call shares cpu {self.cpu:.3g}, disk {self.disk:.3g}, worker {self.worker:.3g}"
            f" ({self.source})"
        )


def shares_of(report: Mapping[str, Any]) -> Shares:
    """From the report's assumptions: measured per station (``--batch-trials``: "cpu's share
    paid per call" ...), else the batching table's one share for the disk and the worker."""
    measured = {
        n: assumption(report, f"{n}'s share paid per call") for n in ("cpu", "disk_io", "worker")
    }
    if any(v is not None for v in measured.values()):
        return Shares(
            float(measured["cpu"] or 0.0),
            float(measured["disk_io"] or 0.0),
            float(measured["worker"] or 0.0),
            "measured by the batch trial",
        )
    table = float(assumption(report, "share of a database-insert paid per call") or 0.0)
    return Shares(0.0, table, table, "the batching table; none for the CPU")


def demand_of(report: Mapping[str, Any], station: str) -> float | None:
    """The demand per item the tool used (its evidence: D = U·m / X)."""
    for e in report.get("evidence", []):
        if e.get("id") == f"demand-{station}":
            i = e.get("inputs", {})
            try:
                return float(i["utilization"]) * float(i["servers"]) / float(i["throughput_rps"])
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                return None
    return None


@dataclass(frozen=True)
class ModelToday:
    """The start model as `advisors/system/build.py` documents it: demands per item from the
    service-demand law, the worker's time per item from Little's law, each with its share paid
    per call (T(b)/b = c1 + c0/b)."""

    cpu: float
    disk: float
    item_time: float
    shares: Shares
    cores: int

    def at(self, batch: int) -> tuple[float, float, float]:
        """CPU, disk and worker time per item at ``batch``."""

        def f(share: float) -> float:
            return (1 - share) + share / batch

        s = self.shares
        return self.cpu * f(s.cpu), self.disk * f(s.disk), self.item_time * f(s.worker)

    def capacity(self, workers: int, batch: int) -> float:
        cpu, disk, item = self.at(batch)
        return min(workers / item, self.cores / cpu, 1 / disk if disk > 0 else math.inf)


def fitted_share(d1: float, db: float, b: int) -> float:
    """The per-call share at batch 1 from per-item costs at batch 1 and b: d(b) = c1 + c0/b."""
    c0 = (d1 - db) / (1 - 1 / b)
    return c0 / d1 if d1 > 0 else float("nan")


# --- the run ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--factor", type=float, default=4.0, help="target = factor x start rate")
    parser.add_argument("--runs", type=int, default=3, help="windows per configuration")
    parser.add_argument("--window", type=float, default=6.0, help="seconds per window")
    parser.add_argument("--quick", action="store_true", help="shorter windows, no extra probes")
    parser.add_argument("--keep", metavar="DIR", help="keep pipeline.json, host.json, report.json")
    parser.add_argument(
        "--own-cpu",
        action="store_true",
        help="write the pipeline's own CPU (consumers, producer, PostgreSQL) into pipeline.json, "
        "which the merge prefers to the host's (for a machine other work shares)",
    )
    parser.add_argument(
        "--no-trial",
        action="store_true",
        help="no batch trial: tpx analyze takes the per-call shares from its batching table",
    )
    parser.add_argument(
        "--trial-sizes",
        default="1,2,5,13,50,200,1000",
        help="the batch trial's sizes, comma-separated (default 1,2,5,13,50,200,1000)",
    )
    args = parser.parse_args()
    trial = not args.no_trial
    try:
        sizes = tuple(int(x) for x in args.trial_sizes.split(","))
    except ValueError:
        parser.error("--trial-sizes: expected whole numbers separated by commas")
    if len(set(sizes)) < 2 or min(sizes) < 1:
        parser.error("--trial-sizes: at least two different sizes, each at least 1")
    opts = Options(
        args.factor,
        args.runs,
        args.window,
        3.0,
        10.0,
        True,
        args.keep,
        12.0,
        args.own_cpu,
        trial,
        sizes,
    )
    if args.quick:
        opts = Options(
            args.factor,
            3,
            3.0,
            1.5,
            6.0,
            False,
            args.keep,
            5.0,
            args.own_cpu,
            trial,
            sizes,
            trial_passes=1,
        )
    dsn = os.environ.get("TPX_POSTGRES_DSN")
    if not dsn:
        print(
            "TPX_POSTGRES_DSN is not set: run `bash scripts/services start && "
            ". .services/env` first",
            file=sys.stderr,
        )
        return 2
    try:
        import psycopg

        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
            sync = conn.execute("SHOW synchronous_commit").fetchone()
            fsync = conn.execute("SHOW fsync").fetchone()
    except Exception as exc:  # any failure to reach it: one line, exit 2
        print(
            f"cannot reach PostgreSQL at TPX_POSTGRES_DSN: {exc}".splitlines()[0], file=sys.stderr
        )
        return 2
    datadir = str(row[0]) if row else ""
    found = probes.device_of(datadir) if datadir else None
    if found is None:
        print(f"cannot tell which block device holds {datadir!r}", file=sys.stderr)
        return 2
    part, disk = found
    print(
        f"PostgreSQL data directory {datadir} is on {part}"
        + (f" (a partition of {disk})" if part != disk else "")
        + f"; synchronous_commit {sync[0] if sync else '?'}, fsync {fsync[0] if fsync else '?'}"
    )
    workdir = opts.keep or tempfile.mkdtemp(prefix="tpx-plan-accuracy-")
    if opts.keep:
        os.makedirs(opts.keep, exist_ok=True)
    table = f"tpx_plan_accuracy_{os.getpid()}"
    run = Run(dsn, table, part, opts, workdir)
    create_table(dsn, table)
    try:
        return measure_and_compare(run)
    except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as exc:
        print(f"plan_accuracy: could not run: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    finally:
        drop_table(dsn, table)
        if not opts.keep:
            for name in ("pipeline.json", "host.json", "host-limited.json", "trial.csv"):
                path = os.path.join(workdir, name)
                if os.path.exists(path):
                    os.remove(path)
            os.rmdir(workdir)


def wait_quiet(run: Run, seconds: float) -> tuple[float, float]:
    """Wait (up to ``seconds``) for a second with the CPU under 20 % busy: the machine may be
    shared, and `tpx observe` counts every process's CPU as the pipeline's. The last second's
    host CPU and disk busy."""
    until = time.monotonic() + seconds
    while True:
        a_cpu, a_disk = probes.host_cpu(), probes.disks()
        time.sleep(1)
        b_cpu, b_disk = probes.host_cpu(), probes.disks()
        cpu = (b_cpu[0] - a_cpu[0]) / (b_cpu[1] - a_cpu[1])
        busy = b_disk[run.device][0] - a_disk[run.device][0]
        if cpu < QUIET or time.monotonic() >= until:
            return cpu, busy


def idle_baseline(run: Run) -> None:
    cpu, busy = wait_quiet(run, run.opts.quiet_s)
    print(
        f"idle (no pipeline, 1 s): host CPU {pct(cpu)}, {run.device} busy {pct(busy)}"
        + (
            " (the machine is not quiet: other processes' CPU counts as the pipeline's)"
            if cpu >= QUIET
            else ""
        )
    )


def measure_and_compare(run: Run) -> int:
    opts = run.opts
    idle_baseline(run)
    # 1. the start: 1 consumer, batch 1, full load, while tpx observe samples the machine
    host_json = os.path.join(run.workdir, "host.json")
    start = run.observed(Config(1, 1), host_json)
    w = start.windows[0]
    util = start.host.get("utilization", {}) if start.host else {}
    print(
        f"\nstart: 1 consumer, batch 1, full load, {w.seconds:.1f} s: {w.rate:,.0f} items/s "
        f"({w.mean_batch:.1f} items per commit)"
    )
    cores = start.host.get("cores") if start.host else None
    print(
        f"  tpx observe: cpu {pct(util.get('cpu', float('nan')))} of {cores} cores, "
        f"disk_io {pct(util.get('disk_io', float('nan')))} (busiest disk); /proc over the same "
        f"window: CPU {pct(w.cpu_util)}, {run.device} busy {pct(w.disk_util)} "
        f"({w.disk_writes / w.seconds:,.0f} writes/s, "
        f"{w.disk_sectors * 512 / w.seconds / 1e6:.1f} MB/s written)"
    )
    print(f"  {costs(w)}")
    print(f"  other processes used {pct(others_share(w))} of the machine's CPU in that window")
    missing = [k for k in ("cpu", "disk_io") if k not in util]
    if missing:
        print(f"  host.json lacks what the model needs: {', '.join(missing)}")
    # 2. the batch trial: 1 consumer, a few batch sizes
    trial_csv: str | None = None
    if opts.trial:
        o = opts
        print(
            f"\nbatch trial: 1 consumer, full load, batch {', '.join(map(str, o.trial_sizes))}: "
            f"{o.trial_passes} pass(es) over the sizes (up to {3 * o.trial_passes} until the "
            f"latency and the CPU fit a line), each {o.trial_warmup_s:g} s warm-up, then "
            f"{o.trial_windows} windows of {o.trial_window_s:g} s; one CSV row per size: each "
            "quantity summed over its windows / their calls"
        )
        windows, rows = batch_trial(run)
        columns = show_trial(windows, rows)
        if columns:
            trial_csv = os.path.join(run.workdir, "trial.csv")
            write_trial_csv(trial_csv, rows, columns)
            print(f"  -> {trial_csv if opts.keep else 'trial.csv'} ({len(rows)} rows: {columns})")
    # 3. the pipeline's own facts, merged with the host's by tpx analyze
    pipeline_json = os.path.join(run.workdir, "pipeline.json")
    target = opts.factor * w.rate
    report = None
    for with_bound in (True, False):
        own = own_cpu(w) if opts.own_cpu else None
        write_pipeline_json(pipeline_json, w.rate, w.seconds, with_bound, own)
        try:
            report = analyze(run, pipeline_json, host_json, target, trial_csv)
            break
        except RuntimeError as exc:
            if with_bound and "instances" in str(exc):
                print(f"  (max_instances refused, retried without it: {exc})")
                continue
            raise
    assert report is not None
    inputs = "; ".join(f"{i['source'].rsplit('/', 1)[-1]}: {i['detail']}" for i in report["inputs"])
    print(f"\ntpx analyze merged: {inputs}")
    demands = {
        e["id"]: e for e in report.get("evidence", []) if e.get("id", "").startswith("demand-")
    }
    for name, e in demands.items():
        print(f"  model {name}: {e['claim']} (inputs {json.dumps(e['inputs'])})")
    shares = shares_of(report)
    print(f"  {shares}")
    for a in report.get("assumptions", []):
        if str(a.get("what", "")).endswith("share paid per call"):
            print(f"    {a['what']}: {a['value']}: {a.get('why', '')}")
    targets = assumption(report, "saturation targets") or {}
    where, plan = read_plan(report)
    steps = list(plan.get("steps", []))
    print(
        f"\nplan ({where}) for {target:,.0f} items/s ({opts.factor:g}x): ceiling today "
        f"{plan.get('ceiling_today_rps', float('nan')):,.0f}"
        + (
            f", capacity today {plan['capacity_today_rps']:,.0f}"
            if "capacity_today_rps" in plan
            else ""
        )
        + f"; reaches target: {plan.get('reaches_target')}; cap {plan.get('cap')}; "
        f"lift {plan.get('lift')}"
    )
    for i, s in enumerate(steps, 1):
        cap = f", capacity {s['capacity_rps']:,.0f}" if "capacity_rps" in s else ""
        used = ", ".join(f"{k} {v:.1f} %" for k, v in s.get("utilization_pct", {}).items())
        print(
            f"  step {i}: {s['what']} ({s['change']}={s['value']}): ceiling "
            f"{s['ceiling_rps']:,.0f} bound by {s['binding']}{cap}; at {s['rate_rps']:,.0f}: "
            f"{used}"
        )
    if not any("capacity_rps" in s for s in steps):
        print(
            "  (no capacity_rps in the steps: each step's ceiling_rps is compared with the rate "
            "achieved at full load scaled to the binding limit's saturation target)"
        )
    # 4. apply the steps
    workers, batch = 1, 1
    results: list[tuple[dict[str, Any], Measured]] = []
    stopped_at: dict[str, Any] | None = None
    print(
        "\napplying the steps (full load: "
        f"{opts.runs} windows of {opts.window_s:g} s after {opts.warmup_s:g} s warm-up)"
    )
    for i, s in enumerate(steps, 1):
        if s["change"] == "batch":
            batch = int(s["value"])
        elif s["change"] == "workers":
            workers = int(s["value"])
        else:
            print(f"  step {i}: {s['what']}: not applied (needs another machine); stop here")
            stopped_at = s
            break
        m = run.full_load(workers, batch)
        results.append((s, m))
        mw = m.windows
        util_cpu = m.median(lambda x: x.cpu_util)
        util_disk = m.median(lambda x: x.disk_util)
        busy = m.median(lambda x: x.worker_db_share)
        if "capacity_rps" in s:
            predicted, what = float(s["capacity_rps"]), "capacity"
            achieved = m.rate
        else:
            # the rate at which the binding limit would sit at its target (utilization law)
            binding = s["binding"]
            at = {"cpu": util_cpu, "disk_io": util_disk}.get(binding, 1.0)
            goal = float(targets.get(binding, WORKER_TARGET))
            predicted, what = float(s["ceiling_rps"]), f"ceiling ({binding} at {goal:.0%})"
            achieved = m.rate * goal / at if at > 0 else float("nan")
        ratio = achieved / predicted
        runs = ", ".join(f"{x.rate:,.0f}" for x in mw)
        print(
            f"  step {i}: {s['what']} -> {workers} consumer(s), batch {batch}: predicted {what} "
            f"{predicted:,.0f}, achieved {achieved:,.0f} items/s (full load {m.rate:,.0f}; "
            f"windows {runs}), achieved/predicted {ratio:.2f}, goal within 20 %: "
            f"{'met' if abs(ratio - 1) <= 0.20 else 'not met'}"
        )
        print(
            f"    at full load: CPU {pct(util_cpu)}, {run.device} busy {pct(util_disk)}, "
            f"consumers in the database {pct(busy)} of their time, "
            f"{m.median(lambda x: x.mean_batch):.1f} items per commit; other processes "
            f"{pct(m.median(others_share))} of the CPU"
        )
        print(f"    {costs(mw[len(mw) // 2])}")
    # 5. the last applied step, open loop at its ceiling
    if results:
        limited(run, *results[-1])
    elif steps:
        print("  no step could be applied on this machine")
    else:
        print("  the plan has no steps")
    # 6. the verdict on the target or the plan's stated cap
    verdict(run, plan, target, results, stopped_at, start)
    if opts.diagnose or results:
        diagnose(run, start, results, report, shares)
    return 0


def limited(run: Run, step: dict[str, Any], m: Measured) -> None:
    rate = float(step["ceiling_rps"])
    at_rate = float(step["rate_rps"])
    config = Config(m.config.workers, m.config.batch, rate)
    save = os.path.join(run.workdir, "host-limited.json")
    got = run.observed(config, save)
    w = got.windows[0]
    util = got.host.get("utilization", {}) if got.host else {}
    print(
        f"\nopen loop at the last applied step's ceiling, {rate:,.0f} items/s ({config}): "
        f"achieved {w.rate:,.0f} items/s, {w.mean_batch:.1f} items per commit"
    )
    scale = rate / at_rate if at_rate > 0 else 1.0
    # the workers' busy share: the consumers' time in the statement and the commit
    measured = {
        "cpu": util.get("cpu"),
        "disk_io": util.get("disk_io"),
        "workers": w.worker_db_share,
    }
    for name, predicted in step.get("utilization_pct", {}).items():
        p = predicted * scale / 100
        got_u = measured.get(name)
        mark = " (binding)" if name == step["binding"] else ""
        source = "consumers in the database" if name == "workers" else "tpx observe"
        shown = f"{source} {pct(got_u)}" if got_u is not None else "not measured"
        if name == "cpu":
            shown += f" (pipeline and PostgreSQL {pct(own_cpu(w))})"
        ratio = f", measured/predicted {got_u / p:.2f}" if got_u is not None and p > 0 else ""
        print(f"  {name}{mark}: predicted {pct(p)}, {shown}{ratio}")
    print(f"  other processes used {pct(others_share(w))} of the CPU; {costs(w)}")


def verdict(
    run: Run,
    plan: Mapping[str, Any],
    target: float,
    results: list[tuple[dict[str, Any], Measured]],
    stopped_at: dict[str, Any] | None,
    start: Measured,
) -> None:
    last = results[-1][1] if results else None
    rate = last.rate if last else start.rate
    print()
    if rate >= target:
        print(
            f"target {target:,.0f} items/s: reached at full load ({rate:,.0f}) with the "
            "applied steps" + (f", without step '{stopped_at['what']}'" if stopped_at else "")
        )
    else:
        print(f"target {target:,.0f} items/s: not reached at full load ({rate:,.0f})")
    if last is None:
        return
    cpu = last.median(lambda x: x.cpu_util)
    disk = last.median(lambda x: x.disk_util)
    saturated = [n for n, u in (("cpu", cpu), ("disk_io", disk)) if u >= SATURATED]
    limit = saturated[0] if saturated else "workers"
    said = plan.get("cap") or (results[-1][0]["binding"])
    kind = "cap" if plan.get("cap") else "binding limit of the last applied step"
    others = last.median(others_share)
    if limit == "cpu" and others >= QUIET:
        # the CPU was full, but of other work: that says nothing about the pipeline's demand
        found = "undetermined: the CPU was busy with other processes"
    else:
        found = "confirmed" if said == limit else "not confirmed"
    print(
        f"plan's {kind}: {said}; at full load CPU {pct(cpu)} (pipeline and PostgreSQL "
        f"{pct(last.median(own_cpu))}, other processes {pct(others)}), {run.device} busy "
        f"{pct(disk)}, consumers in the database "
        f"{pct(last.median(lambda x: x.worker_db_share))} of their time -> the limit is {limit} "
        f"({found})" + (f"; plan's lift: {plan.get('lift')}" if plan.get("lift") else "")
    )


def diagnose(
    run: Run,
    start: Measured,
    results: list[tuple[dict[str, Any], Measured]],
    report: Mapping[str, Any],
    shares: Shares,
) -> None:
    """Per-item costs measured at each configuration next to the model's."""
    s = start.windows[0]
    util = (start.host or {}).get("utilization", {})
    cores = os.cpu_count() or 1
    fallback_cpu = (own_cpu(s) if run.opts.own_cpu else util.get("cpu", s.cpu_util)) * cores
    model = ModelToday(
        cpu=demand_of(report, "cpu") or fallback_cpu / s.rate,
        disk=demand_of(report, "disk_io") or util.get("disk_io", s.disk_util) / s.rate,
        item_time=1 / s.rate,
        shares=shares,
        cores=cores,
    )
    configs: list[tuple[int, int]] = [(m.config.workers, m.config.batch) for _, m in results]
    batches = sorted({b for _, b in configs if b > 1}) or [20]
    extra = [(1, b) for b in batches] if run.opts.diagnose else []
    if run.opts.diagnose:
        extra += [(2, 1), (4, 1)]
        if max(batches) > 1:
            extra.append((2, max(batches)))
    todo = [c for c in dict.fromkeys([*configs, *extra]) if c != (1, 1)]
    fed = "the pipeline's own" if run.opts.own_cpu else "the host's"
    print(
        f"\nper item, measured (full load) vs the model (start demands, {fed} CPU; {shares}); "
        "call = the consumer's time in one statement + commit; CPU wait = the consumers' and "
        "backends' time runnable but waiting for a core; others = other processes' share of the "
        "CPU"
    )
    rows: list[tuple[int, int, probes.Window, float]] = [(1, 1, s, s.rate)]
    for workers, batch in todo:
        m = run.full_load(workers, batch, None if (workers, batch) in configs else 1)
        rows.append((workers, batch, m.windows[len(m.windows) // 2], m.rate))
    print(
        "  workers batch | items/s  model cap | host CPU/item  ours/item  model | disk/item  model"
        " | R/item  model | call ms  CPU wait ms/call  disk ms/commit  writes/commit | others"
    )
    for workers, batch, w, rate in rows:
        cpu, disk, item = model.at(batch)
        ours = sum(w.proc_cpu_s.values())
        calls = max(w.calls, 1)
        print(
            f"  {workers:7d} {batch:5d} | {rate:8,.0f} {model.capacity(workers, batch):9,.0f} | "
            f"{w.cpu_per_item_s * 1e6:13.1f} {w.per_item(ours) * 1e6:10.1f} {cpu * 1e6:6.1f} | "
            f"{w.disk_per_item_s * 1e6:9.1f} {disk * 1e6:6.1f} | "
            f"{workers / rate * 1e6:6.1f} {item * 1e6:6.1f} | "
            f"{(w.statement_s + w.commit_s) / calls * 1e3:7.3f} "
            f"{w.runqueue_s / calls * 1e3:17.3f} "
            f"{w.disk_util * w.seconds / calls * 1e3:15.3f} "
            f"{w.disk_writes / calls:14.2f} | {pct(others_share(w))}"
        )
    # the per-call shares the machine shows, from batch 1 and the largest batch at 1 worker
    one = {b: w for wk, b, w, _ in rows if wk == 1}
    big = max(one)
    if big > 1:
        w1, wb = one[1], one[big]
        print(f"  per-call share at batch 1, fitted from batch 1 and {big} (1 worker, full load):")
        getters: list[tuple[str, Callable[[probes.Window], float], float]] = [
            ("host CPU", lambda w: w.cpu_per_item_s, shares.cpu),
            ("consumer CPU", lambda w: w.per_item(w.proc_cpu_s["consumers"]), shares.cpu),
            ("postgres CPU", lambda w: w.per_item(w.proc_cpu_s["postgres"]), shares.cpu),
            ("disk busy", lambda w: w.disk_per_item_s, shares.disk),
            ("worker time", lambda w: w.seconds / w.items, shares.worker),
        ]
        for name, get, model_share in getters:
            d1, db = get(w1), get(wb)
            print(
                f"    {name}: {us(d1)} -> {us(db)} per item: share {fitted_share(d1, db, big):.3f}"
                f" (model {model_share:.3g})"
            )


if __name__ == "__main__":
    sys.exit(main())
