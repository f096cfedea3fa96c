"""The command line: a dispatch table of small ``cmd_*`` functions over the public API.

Exit codes: 0 success, 2 bad input or unusable data (one line on stderr), 1 an internal bug.
``print`` and ``sys.exit`` live only in this module. Heavy modules are imported inside the
commands so that ``tpx --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, NoReturn

from throughput_expert.errors import InputError, ThroughputError

if TYPE_CHECKING:
    from throughput_expert.live import PrometheusOptions
    from throughput_expert.model import Report

__all__ = ["main"]

SYSTEM_TYPES = ("web-api", "message-processing", "database-writes", "stream-processing")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def cmd_analyze(args: argparse.Namespace) -> int:
    from throughput_expert import api

    report = api.analyze(
        args.metrics or (),
        current_rps=args.current_rps,
        target_rps=args.target_rps,
        system_type=args.system_type,
        service=args.service,
        interval=args.interval,
        defaults=args.defaults,
        prometheus=_prometheus(args),
        observe=args.observe,
    )
    return _emit(report, args)


def _prometheus(args: argparse.Namespace) -> PrometheusOptions | None:
    """The live Prometheus options from the flags (None without --prometheus)."""
    from throughput_expert.live import PrometheusOptions

    if not args.prometheus:
        return None
    return PrometheusOptions(
        url=args.prometheus,
        window=args.window,
        at=args.at,
        instance=args.instance,
        service_query=getattr(args, "service_query", None),
        latency_query=getattr(args, "latency_query", None),
        save=args.save,
        token_env=args.prometheus_token_env,
        token_file=args.prometheus_token_file,
        ca_file=args.prometheus_ca,
    )


def cmd_observe(args: argparse.Namespace) -> int:
    """``tpx observe``: sample this machine; save the metrics JSON that analyze reads."""
    from throughput_expert.live import observe_metrics
    from throughput_expert.sources.local_sampler import metrics_document

    metrics = observe_metrics(args.duration, args.interval, args.pid, args.save, _observing)
    sys.stderr.write("\n")
    if args.save:
        sys.stderr.write(f"tpx observe: wrote {args.save}\n")
    else:
        import json

        sys.stdout.write(json.dumps(metrics_document(metrics), indent=2) + "\n")
    return 0


def _observing(progress: object) -> None:
    """One updating line on a terminal: elapsed time and CPU so far."""
    if not sys.stderr.isatty():
        return
    elapsed = getattr(progress, "elapsed_s", 0.0)
    total = getattr(progress, "duration_s", 0.0)
    cpu = getattr(progress, "cpu_utilization", None)
    busy = f", CPU {cpu * 100:.0f} %" if cpu is not None else ""
    sys.stderr.write(f"\rtpx observe: {elapsed:.0f}/{total:.0f} s{busy}   ")
    sys.stderr.flush()


def cmd_find_bottleneck(args: argparse.Namespace) -> int:
    from throughput_expert import api

    report = api.find_bottleneck(
        args.profile,
        gil_profile=args.gil_profile,
        utilization=args.utilization,
        metrics=args.metrics or (),
        threads=args.threads,
        rules=args.rules,
        interval=args.interval,
        defaults=args.defaults,
        prometheus=_prometheus(args),
    )
    return _emit(report, args)


def cmd_optimize_concurrency(args: argparse.Namespace) -> int:
    from throughput_expert import api

    report = api.optimize_concurrency(
        args.workload_type,
        args.current_thread_pool,
        cpu_cores=args.cpu_cores,
        wait_time=args.wait_time,
        compute_time=args.compute_time,
        target_throughput=args.target_throughput,
        arrival_rate=args.arrival_rate,
        latency_slo=args.latency_slo,
        runtime=args.runtime,
        sweep=args.sweep,
        defaults=args.defaults,
    )
    return _emit(report, args)


def cmd_design_batching(args: argparse.Namespace) -> int:
    from throughput_expert import api

    report = api.design_batching(
        args.operation,
        target_throughput=args.target_throughput,
        current_latency=args.current_latency,
        fixed_overhead=args.fixed_overhead,
        per_item_cost=args.per_item_cost,
        max_latency=args.max_latency,
        arrival_rate=args.arrival_rate,
        concurrency=args.concurrency,
        measurements=args.measurements,
        measure=args.measure,
        measure_budget=args.measure_budget,
        on_progress=_progress,
        defaults=args.defaults,
    )
    return _emit(report, args)


def _progress(message: str) -> None:
    """Progress of a measurement, on stderr (the report goes to stdout)."""
    sys.stderr.write(f"tpx: {message}\n")
    sys.stderr.flush()


def cmd_scaling_plan(args: argparse.Namespace) -> int:
    from throughput_expert import api

    report = api.scaling_plan(
        args.current_architecture,
        target_rps=args.target_rps,
        defaults=args.defaults,
        prometheus=_prometheus(args),
    )
    return _emit(report, args)


def cmd_task(args: argparse.Namespace) -> int:
    """``tpx task INPUT.json``: the babysitter task worker; ``--watch DIR`` serves a run."""
    from throughput_expert.agents.task import run_task

    if args.watch:
        from throughput_expert.agents.watch import watch

        return watch(args.watch, once=args.once, log=_progress)
    if not args.input:
        raise InputError("give INPUT.json, or --watch DIR", source="tpx task")
    path, _ = run_task(args.input, args.output)
    sys.stderr.write(f"tpx task: wrote {path}\n")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``tpx report REPORT.json``: render a saved JSON report without recomputing."""
    from throughput_expert.render.report_file import render_saved

    fmt = args.format or ("text" if sys.stdout.isatty() and not args.output else "json")
    text = render_saved(args.report, fmt)
    if args.output:
        from throughput_expert.sources import write_atomically

        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """``tpx mcp``: the advisors as MCP tools over stdio."""
    from throughput_expert.agents.mcp_server import main as serve

    serve()
    return 0


def _no_flags(p: argparse.ArgumentParser) -> None:
    """A command without options of its own."""


def _report_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", metavar="REPORT.json", help="a report saved with --format json")


# `tpx demo NAME` runs the real command on a bundled example: (file, the command's flags).
DEMOS = {
    "analyze": ("examples/message-consumer.json", ["analyze", "--metrics", "{file}"]),
    "scaling-plan": (
        "examples/three-tier.yaml",
        ["scaling-plan", "--target-rps", "6000", "--current-architecture", "{file}"],
    ),
}


def cmd_sweep(args: argparse.Namespace) -> int:
    from throughput_expert import api
    from throughput_expert.measure.progress import progress_printer

    report = api.sweep(
        url=args.url,
        command=args.command,
        callable=args.callable,
        locustfile=args.locustfile,
        concurrency=_int_list(args.concurrency, "--concurrency"),
        rates=_rate_list(args.rates),
        duration=args.duration,
        warmup=args.warmup,
        max_requests=args.max_requests,
        method=args.method,
        body=args.body,
        processes=args.processes,
        workers=args.workers,
        slo=args.slo,
        error_threshold=args.error_threshold,
        allow_remote=args.allow_remote,
        save=args.save,
        from_files=args.from_files or (),
        on_progress=progress_printer(sys.stderr),
        defaults=args.defaults,
    )
    return _emit(report, args)


def _int_list(text: str | None, flag: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(
            f"expected whole numbers separated by commas, not {text[:40]!r}", source=flag
        ) from None


def _rate_list(text: str | None) -> list[float] | None:
    if text is None:
        return None
    from throughput_expert.model.quantity import parse_rate

    return [parse_rate(x.strip(), source="--rates") for x in text.split(",") if x.strip()]


def cmd_demo(args: argparse.Namespace) -> int:
    """``tpx demo [NAME]``: the real command on a bundled example (no canned output)."""
    name, (example, argv) = args.which, DEMOS[args.which]
    with resources.as_file(resources.files("throughput_expert").joinpath(example)) as path:
        command = [a.format(file=path) for a in argv]
        sys.stderr.write(f"tpx demo: tpx {' '.join(command)}\n")
        common = [
            f"--{k}={getattr(args, k)}"
            for k in ("format", "output", "defaults")
            if getattr(args, k)
        ]
        inner = build_parser().parse_args([*command, *common])
        assert name == inner.command
        code: int = inner.handler(inner)
        return code


def _emit(report: Report, args: argparse.Namespace) -> int:
    from throughput_expert.render import renderer_for

    fmt = args.format or ("text" if sys.stdout.isatty() and not args.output else "json")
    text = renderer_for(fmt).render(report)
    if args.output:
        from throughput_expert.sources import write_atomically

        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=("json", "text", "html"),
        help="output format (default: text on a terminal, json otherwise)",
    )
    p.add_argument("--output", metavar="PATH", help="write the report here (default: stdout)")
    p.add_argument(
        "--defaults",
        metavar="FILE",
        help="YAML/JSON overrides of saturation targets, thresholds, playbook",
    )


def _prometheus_flags(p: argparse.ArgumentParser, *, service_queries: bool) -> None:
    g = p.add_argument_group("a live Prometheus (or Thanos, Mimir)")
    g.add_argument("--prometheus", metavar="URL", help="ask this server (http://host:9090)")
    g.add_argument("--window", default="5m", help="range of rate() and friends (default 5m)")
    g.add_argument("--at", metavar="TIME", help="evaluation time: unix seconds or ISO 8601")
    g.add_argument("--instance", metavar="LABEL", help="the instance label to select")
    if service_queries:
        g.add_argument("--service-query", metavar="PROMQL", help="PromQL for the service's rps")
        g.add_argument(
            "--latency-query", metavar="PROMQL", help="PromQL for its mean latency in seconds"
        )
    g.add_argument("--save", metavar="PATH", help="write the export that --metrics reads back")
    g.add_argument(
        "--prometheus-token-env", metavar="NAME", help="bearer token from this environment variable"
    )
    g.add_argument("--prometheus-token-file", metavar="PATH", help="bearer token from a file")
    g.add_argument("--prometheus-ca", metavar="FILE", help="a CA bundle to verify the server")


def _observe_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration", default="30s", help="how long to sample (default 30s)")
    p.add_argument("--interval", default="1s", help="time between samples (default 1s)")
    p.add_argument("--pid", type=int, help="also report this process tree")
    p.add_argument("--save", metavar="PATH", help="write the metrics JSON here")


def _analyze_flags(p: argparse.ArgumentParser) -> None:
    _prometheus_flags(p, service_queries=True)
    p.add_argument("--observe", metavar="T", help='sample this machine for T ("30s") and analyze')
    p.add_argument(
        "--metrics",
        metavar="FILE",
        action="append",
        help="metrics JSON, Prometheus API response or export, or a text-exposition "
        "scrape (repeat for several files or scrapes)",
    )
    p.add_argument("--current-rps", metavar="N", help='today\'s rate, e.g. "10K" or "5000 rps"')
    p.add_argument("--target-rps", metavar="N", help='the rate to reach, e.g. "50K"')
    p.add_argument("--system-type", choices=SYSTEM_TYPES, help="rate against the seed benchmarks")
    p.add_argument("--service", metavar="NAME", help="the service's name (selects its metrics)")
    p.add_argument(
        "--interval", metavar="T", help='time between scrapes without timestamps ("15s")'
    )


def _find_bottleneck_flags(p: argparse.ArgumentParser) -> None:
    _prometheus_flags(p, service_queries=False)
    p.add_argument(
        "--profile",
        metavar="FILE",
        action="append",
        required=True,
        help="speedscope JSON, collapsed stacks, .cpuprofile or pprof (repeat to merge)",
    )
    p.add_argument(
        "--gil-profile",
        metavar="FILE",
        help="a py-spy --gil recording of the same run as an --idle --profile",
    )
    p.add_argument("--utilization", metavar="FILE", help="the host's metrics (tpx metrics JSON)")
    p.add_argument(
        "--metrics",
        metavar="FILE",
        action="append",
        help="any analyze input for the host's view (repeatable)",
    )
    p.add_argument("--threads", action="store_true", help="add a per-thread breakdown")
    p.add_argument(
        "--rules", metavar="FILE", help="extra category rules (YAML, categories.yaml shape)"
    )
    p.add_argument(
        "--interval", metavar="T", help="time between --metrics scrapes without timestamps"
    )


def _concurrency_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workload-type", choices=("cpu", "io", "mixed"), required=True)
    p.add_argument("--current-thread-pool", metavar="N", required=True, help="threads today")
    p.add_argument("--cpu-cores", metavar="N", type=int, help="cores (default: this machine's)")
    p.add_argument("--wait-time", metavar="T", help='time a request waits on I/O, e.g. "100ms"')
    p.add_argument("--compute-time", metavar="T", help='CPU time per request, e.g. "10ms"')
    p.add_argument("--target-throughput", metavar="X", help='rate to reach, e.g. "2K"')
    p.add_argument("--arrival-rate", metavar="X", help="offered rate for SLO sizing (Erlang C)")
    p.add_argument("--latency-slo", metavar="SLO", help='"200ms" (mean) or "p99=200ms"')
    p.add_argument("--runtime", choices=("python", "jvm", "go", "node", "native"))
    p.add_argument("--sweep", metavar="FILE", help="a sweep file: fit the USL to it")


def _batching_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--operation",
        required=True,
        help="database-insert, api-call, message-publish, file-write, or any name",
    )
    p.add_argument("--target-throughput", metavar="X", required=True, help='e.g. "10000"')
    p.add_argument("--current-latency", metavar="T", help='one item today, e.g. "5ms"')
    p.add_argument("--fixed-overhead", metavar="T", help="cost per call (c0)")
    p.add_argument("--per-item-cost", metavar="T", help="cost per item (c1)")
    p.add_argument("--max-latency", metavar="T", help="budget for the latency batching adds")
    p.add_argument(
        "--arrival-rate", metavar="X", help="items per second arriving (default: target)"
    )
    p.add_argument("--concurrency", metavar="N", type=int, default=1, help="batches in flight")
    p.add_argument("--measurements", metavar="FILE", help="CSV batch_size,latency_ms")
    p.add_argument(
        "--measure",
        metavar="DSN",
        help="time trial inserts: postgresql://... or sqlite:///path (a temporary table)",
    )
    p.add_argument("--measure-budget", metavar="T", default="25s", help="time limit of --measure")


def _scaling_flags(p: argparse.ArgumentParser) -> None:
    _prometheus_flags(p, service_queries=False)
    p.add_argument("--target-rps", metavar="X", required=True, help="the entry rate to reach")
    p.add_argument(
        "--current-architecture",
        metavar="FILE",
        required=True,
        help="the architecture YAML (see examples/three-tier.yaml)",
    )


def _task_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", nargs="?", metavar="INPUT.json", help="the task's input.json")
    p.add_argument(
        "--output",
        metavar="RESULT.json",
        help="where to write (default: io.outputJsonPath, else result.json beside it)",
    )
    p.add_argument(
        "--watch",
        metavar="DIR",
        help="serve every DIR/tasks/*/input.json for this agent that has no result",
    )
    p.add_argument("--once", action="store_true", help="with --watch: serve what is there, exit")


def _sweep_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("what to drive (one of them), or --from")
    g.add_argument("--url", help="HTTP/1.1 keep-alive requests to this URL (loopback only)")
    g.add_argument("--command", help="a shell command, one process per operation")
    g.add_argument("--callable", metavar="MODULE:FUNCTION", help="a Python function, in threads")
    g.add_argument("--locustfile", metavar="FILE", help="Locust headless, one run per level")
    g.add_argument(
        "--from",
        dest="from_files",
        metavar="FILE",
        action="append",
        help="read load-test results instead: k6, Locust CSV, wrk/wrk2, JMeter JTL, "
        "Gatling simulation.log, vegeta JSON (repeatable)",
    )
    p.add_argument("--concurrency", metavar="LIST", help='closed loop levels, e.g. "1,2,4,8,16,32"')
    p.add_argument("--rates", metavar="LIST", help='open loop offered rates, e.g. "100,200,400"')
    p.add_argument("--duration", default="10s", help="time per level (default 10s)")
    p.add_argument("--warmup", default="2s", help="warm-up per level (default 2s)")
    p.add_argument("--max-requests", type=int, metavar="N", help="cap on requests per level")
    p.add_argument("--method", default="GET", help="HTTP method for --url")
    p.add_argument("--body", metavar="FILE", help="request body file for --url")
    p.add_argument("--processes", action="store_true", help="--callable in processes")
    p.add_argument(
        "--workers", type=int, default=0, help="--locustfile: run Locust distributed with N workers"
    )
    p.add_argument("--slo", metavar="T", help="p99 a sustained open-loop rate must meet")
    p.add_argument(
        "--error-threshold",
        type=float,
        default=0.5,
        help="stop when a level's error share passes this (default 0.5)",
    )
    p.add_argument(
        "--allow-remote", action="store_true", help="allow a target that is not on loopback"
    )
    p.add_argument("--save", metavar="PATH", help="write the sweep file (JSON, FORMATS §5.1)")


def _demo_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "which",
        nargs="?",
        choices=tuple(DEMOS),
        default="analyze",
        metavar="NAME",
        help=f"one of {', '.join(DEMOS)} (default: analyze)",
    )


Command = tuple[
    str, str, Callable[[argparse.Namespace], int], Callable[[argparse.ArgumentParser], None]
]

COMMANDS: tuple[Command, ...] = (
    (
        "analyze",
        "from metrics to a bottleneck verdict, headroom and advice",
        cmd_analyze,
        _analyze_flags,
    ),
    (
        "find-bottleneck",
        "read CPU profiles: where the time goes, the bottleneck and its fixes",
        cmd_find_bottleneck,
        _find_bottleneck_flags,
    ),
    (
        "optimize-concurrency",
        "size thread pools: seed formulas, Little's law, Erlang C, the USL on a sweep",
        cmd_optimize_concurrency,
        _concurrency_flags,
    ),
    (
        "design-batching",
        "batch size, linger and expected throughput from the cost model T(b) = c0 + c1·b",
        cmd_design_batching,
        _batching_flags,
    ),
    (
        "scaling-plan",
        "from today's architecture (YAML) to a target rate, component by component",
        cmd_scaling_plan,
        _scaling_flags,
    ),
    (
        "task",
        "the babysitter task worker: tasks/<id>/input.json in, result.json out",
        cmd_task,
        _task_flags,
    ),
    (
        "report",
        "render a saved JSON report as json, text or html, without recomputing",
        cmd_report,
        _report_flags,
    ),
    (
        "mcp",
        "serve the advisors as MCP tools over stdio (Model Context Protocol)",
        cmd_mcp,
        _no_flags,
    ),
    (
        "sweep",
        "measure saturation: drive a workload at rising load and fit the USL (or --from)",
        cmd_sweep,
        _sweep_flags,
    ),
    (
        "observe",
        "sample this machine (psutil): CPU by mode, run queue, memory, disk, network, PSI",
        cmd_observe,
        _observe_flags,
    ),
    (
        "demo",
        "run a command on a bundled example: analyze (the seed's 10K -> 50K msg/s consumer, "
        "the default) or scaling-plan (a three-tier system to 6,000 rps)",
        cmd_demo,
        _demo_flags,
    ),
)


_ORDER = (
    "analyze",
    "find-bottleneck",
    "optimize-concurrency",
    "design-batching",
    "scaling-plan",
    "sweep",
    "observe",
    "report",
    "task",
    "mcp",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tpx",
        description="Throughput engineering advice from measurements: "
        "every number comes from a measurement or a law, and says which.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    for name, help_text, handler, flags in sorted(COMMANDS, key=lambda c: _ORDER.index(c[0])):
        p = sub.add_parser(name, help=help_text, description=help_text)
        flags(p)
        if name not in ("task", "mcp", "observe"):  # these write data, not rendered reports
            _common(p)
        p.set_defaults(handler=handler)
    return parser


def _version() -> str:
    from throughput_expert import __version__

    return f"tpx {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except ThroughputError as exc:
        sys.stderr.write(exc.one_line() + "\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("tpx: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so in one line, traceback on request
        if os.environ.get("TPX_DEBUG"):
            raise
        sys.stderr.write(
            f"tpx: internal error: {type(exc).__name__}: {exc} "
            "(a bug; rerun with TPX_DEBUG=1 for the traceback)\n"
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
