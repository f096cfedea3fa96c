"""The command line's flags: one function per command, plus the common ones.

Kept apart from ``cli.py`` so that the dispatch table stays short; every flag's value is passed
as it is to the public API, which parses human quantities.
"""

from __future__ import annotations

import argparse

__all__ = [
    "analyze_flags",
    "batching_flags",
    "common",
    "concurrency_flags",
    "demo_flags",
    "find_bottleneck_flags",
    "follow_symlinks_flag",
    "mcp_flags",
    "no_flags",
    "observe_flags",
    "prometheus_flags",
    "report_flags",
    "scaling_flags",
    "sweep_flags",
    "task_flags",
]

DEMO_NAMES = ("analyze", "scaling-plan")  # the keys of cli.DEMOS
SYSTEM_TYPES = ("web-api", "message-processing", "database-writes", "stream-processing")


def no_flags(p: argparse.ArgumentParser) -> None:
    """A command without options of its own."""


def report_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", metavar="REPORT.json", help="a report saved with --format json")


def common(p: argparse.ArgumentParser) -> None:
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
    follow_symlinks_flag(p)


def follow_symlinks_flag(p: argparse.ArgumentParser) -> None:
    """``--follow-symlinks``, on every command that writes a file (``--output``, ``--save``)."""
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="an output path that is a symbolic link: replace the file it points to and keep "
        "the link (default: refuse it)",
    )


def prometheus_flags(p: argparse.ArgumentParser, *, service_queries: bool) -> None:
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


def observe_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration", default="30s", help="how long to sample (default 30s)")
    p.add_argument("--interval", default="1s", help="time between samples (default 1s)")
    p.add_argument("--pid", type=int, help="also report this process tree")
    p.add_argument("--save", metavar="PATH", help="write the metrics JSON here")
    follow_symlinks_flag(p)


def analyze_flags(p: argparse.ArgumentParser) -> None:
    prometheus_flags(p, service_queries=True)
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


def find_bottleneck_flags(p: argparse.ArgumentParser) -> None:
    prometheus_flags(p, service_queries=False)
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


def concurrency_flags(p: argparse.ArgumentParser) -> None:
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


def batching_flags(p: argparse.ArgumentParser) -> None:
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


def scaling_flags(p: argparse.ArgumentParser) -> None:
    prometheus_flags(p, service_queries=False)
    p.add_argument("--target-rps", metavar="X", required=True, help="the entry rate to reach")
    p.add_argument(
        "--current-architecture",
        metavar="FILE",
        required=True,
        help="the architecture YAML (see examples/three-tier.yaml)",
    )


def task_flags(p: argparse.ArgumentParser) -> None:
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
    p.add_argument(
        "--allow-root",
        metavar="DIR",
        action="append",
        help="a folder outside the run that the task's paths (io.outputJsonPath, context files) "
        "may also name (repeatable; default: only the run folder, the one holding tasks/)",
    )
    follow_symlinks_flag(p)


def mcp_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--root",
        metavar="DIR",
        action="append",
        help="a folder the tools may read files from (repeatable; default: the working "
        "directory); relative paths are read from the first",
    )


def sweep_flags(p: argparse.ArgumentParser) -> None:
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
    p.add_argument(
        "--concurrency",
        metavar="LIST|auto",
        help='closed loop levels, e.g. "1,2,4,8,16,32"; "auto" searches for the throughput peak',
    )
    p.add_argument(
        "--max-levels",
        type=int,
        metavar="N",
        help="--concurrency auto: levels to measure at most (default 6)",
    )
    p.add_argument(
        "--max-concurrency",
        type=int,
        metavar="N",
        help="--concurrency auto: highest level to try (default 256)",
    )
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
    p.add_argument(
        "--save", metavar="PATH", help="write the sweep file (JSON, docs/formats.md §5.1)"
    )


def demo_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "which",
        nargs="?",
        choices=DEMO_NAMES,
        default="analyze",
        metavar="NAME",
        help=f"one of {', '.join(DEMO_NAMES)} (default: analyze)",
    )
