"""The MCP server (``tpx mcp``): the public API as Model Context Protocol tools over stdio.

Each tool is a small function over ``throughput_expert.api`` with typed, described parameters
(the SDK turns them into the tool's JSON Schema) and returns the Report's JSON form, the one
contract every front door shares (``fit_usl``: its ``analysis.usl`` dictionary).

Files: every file argument of every tool must resolve (links followed, ``..`` removed) inside
the server's roots, ``tpx mcp --root DIR`` (repeatable; default: the folder the server started
in); relative paths are read from the first root. A path outside is a tool error of one line
and the file is never opened. An architecture file's component ``sweep`` files obey the same
rule. See ``agents/confine.py``.

Errors: a ``ThroughputError`` becomes a tool error (``isError``) whose text is its one line
with the API's parameters spelled as the tool's arguments (``_ARGUMENTS``),
``SOURCE: FIELD: what is wrong`` (scrubbed of remembered secrets). Anything else is a bug: the
SDK answers ``Error executing tool NAME`` and logs the traceback on the server's stderr, never
to the client.

Imports: the ``mcp`` SDK (~1 s) is imported only in ``build_server`` and on the error path, so
importing this module stays cheap. Annotations stay postponed: the SDK reads them with
``inspect.signature(eval_str=True)`` in this module's globals, so every name they use
(``Annotated``, ``Literal``, pydantic's ``Field``) is imported at run time here, never under
``TYPE_CHECKING``, and the tools are module-level functions, not closures.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, ParamSpec, overload

from pydantic import Field

from throughput_expert import __version__, api
from throughput_expert.agents.confine import Confine, real_folders
from throughput_expert.errors import Parameter, ThroughputError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.types import CallToolResult

__all__ = ["TOOLS", "build_server", "main"]

P = ParamSpec("P")

RATE = 'a number (per second) or text: "10K", "2.5M rps", "10,000 msgs/sec"'
DURATION = 'a number (milliseconds) or text: "5ms", "100 µs", "1.5s"'
FILE = "a path inside the server's roots"

Defaults = Annotated[
    str | None,
    Field(
        description=f"YAML overriding saturation targets, playbook, benchmarks ({FILE}), "
        'e.g. saturation_targets: {cpu: "60%"}'
    ),
]

INSTRUCTIONS = """\
Throughput engineering advice from measurements: where the bottleneck is, how far the system can
go, how to size pools and batches, how to scale to a target rate. Every number in a result comes
from a measurement or a law and says which: see `evidence` (law, inputs, result), `assumptions`
(what had to be assumed, and why) and `inputs` (what was read). Files are paths inside the
server's roots (tpx mcp --root DIR; by default the folder it started in); relative paths are read
from the first root, and a path outside them (links followed) is refused. Numbers in results are
plain numbers; the unit is in the key (_rps, _ms, _pct, _s)."""

WIDEN = "tpx mcp --root DIR widens them"
_roots: tuple[Path, ...] = ()


def set_roots(roots: Sequence[str | os.PathLike[str]] = ()) -> tuple[Path, ...]:
    """The folders the tools read from (real paths; default: the working directory now)."""
    global _roots
    _roots = tuple(real_folders(roots or [os.getcwd()], source="tpx mcp", flag="--root"))
    return _roots


def _confine(tool: str) -> Confine:
    roots = _roots or set_roots()
    shown = ", ".join(map(str, roots))
    return Confine.of(roots, described=f"the server's roots {shown}", widen=WIDEN, source=tool)


@overload
def _inside(tool: str, field: str, value: str) -> str: ...
@overload
def _inside(tool: str, field: str, value: str | None) -> str | None: ...
def _inside(tool: str, field: str, value: str | None) -> str | None:
    """``value`` as a real path inside the roots (relative: from the first), or refused."""
    if value is None:
        return None
    return str(_confine(tool).resolve(value, field=field))


def _all_inside(tool: str, field: str, values: Sequence[str] | None) -> list[str]:
    return [_inside(tool, f"{field}[{i}]", v) for i, v in enumerate(values or ())]


def analyze(
    metrics: Annotated[
        list[str],
        Field(
            min_length=1,
            description=f"metrics files ({FILE}): tpx metrics JSON, a Prometheus "
            "/api/v1/query(_range) response or tpx export, or text-exposition scrapes "
            "(two or more for rates)",
        ),
    ],
    current_rps: Annotated[
        str | float | None, Field(description=f"today's rate, if not in the files: {RATE}")
    ] = None,
    target_rps: Annotated[
        str | float | None, Field(description=f"the rate to reach: {RATE}")
    ] = None,
    system_type: Annotated[
        Literal["web-api", "message-processing", "database-writes", "stream-processing"] | None,
        Field(description="rates the throughput against the seed's good/excellent benchmarks"),
    ] = None,
    service: Annotated[
        str | None, Field(description="the service's name (selects its series in the metrics)")
    ] = None,
    interval: Annotated[
        str | float | None,
        Field(description='seconds between scrapes that carry no timestamps: 15 or "15s"'),
    ] = None,
    defaults: Defaults = None,
) -> dict[str, Any]:
    """Analyze measured metrics: the bottleneck, the headroom, latency growth and what to do.

    Returns the Report: `analysis.current_throughput` (rps, processing time, concurrency by
    Little's law L = X·R, utilization_pct per resource); `analysis.bottleneck` (type: cpu,
    memory, io_disk, io_network, contention or downstream; the resource; evidence ids);
    `analysis.headroom` (per resource: utilization_pct, its saturation target_pct, the rate
    max_rps_at_target = X·target/U, headroom_pct; ceiling_rps is the lowest of those rates and
    binding_resource the one that sets it); `analysis.latency` (response time as load grows, by
    Erlang C and M/M/1); `recommendations` with expected_improvement_pct computed from the
    evidence; `implementation_plan`, `evidence`, `assumptions`, `inputs`.
    """
    return api.analyze(
        _all_inside("analyze", "metrics", metrics),
        current_rps=current_rps,
        target_rps=target_rps,
        system_type=system_type,
        service=service,
        interval=interval,
        defaults=_inside("analyze", "defaults", defaults),
    ).to_dict()


def find_bottleneck(
    profiles: Annotated[
        list[str],
        Field(
            min_length=1,
            description=f"CPU profiles ({FILE}), merged: speedscope JSON (py-spy), collapsed "
            "stacks, Chrome/Node .cpuprofile, Go pprof",
        ),
    ],
    gil_profile: Annotated[
        str | None,
        Field(
            description=f"a py-spy --gil recording of the same run as an --idle profile ({FILE})"
        ),
    ] = None,
    utilization: Annotated[
        str | None, Field(description=f"the host's metrics, tpx metrics JSON ({FILE})")
    ] = None,
    metrics: Annotated[
        list[str] | None,
        Field(description=f"any analyze input for the host's view ({FILE})"),
    ] = None,
    threads: Annotated[bool, Field(description="add a per-thread breakdown")] = False,
    rules: Annotated[
        str | None,
        Field(description=f"extra category rules, YAML in categories.yaml's shape ({FILE})"),
    ] = None,
    interval: Annotated[
        str | float | None,
        Field(description='seconds between metrics scrapes without timestamps: 15 or "15s"'),
    ] = None,
    defaults: Defaults = None,
) -> dict[str, Any]:
    """Read CPU profiles and say which component limits throughput, of what kind, and the fixes.

    Time is split into categories (compute, serialization, regex, logging, GC and allocation,
    lock contention, GIL, network and disk waits, database driver, sleep) with self and total
    time per function and the hot paths; shares are percent of the profile's samples. Each fix's
    expected_improvement_pct is Amdahl's law on the measured share and the fix's speed-up (from
    a data file, with its source and confidence). With host metrics, an I/O-wait profile on an
    idle host is a downstream bottleneck, not a CPU one. Returns the Report.
    """
    tool = "find_bottleneck"
    return api.find_bottleneck(
        _all_inside(tool, "profiles", profiles),
        gil_profile=_inside(tool, "gil_profile", gil_profile),
        utilization=_inside(tool, "utilization", utilization),
        metrics=_all_inside(tool, "metrics", metrics),
        threads=threads,
        rules=_inside(tool, "rules", rules),
        interval=interval,
        defaults=_inside(tool, "defaults", defaults),
    ).to_dict()


def optimize_concurrency(
    workload_type: Annotated[
        Literal["cpu", "io", "mixed"], Field(description="what a request mostly does")
    ],
    current_thread_pool: Annotated[int, Field(ge=1, description="threads in the pool today")],
    cpu_cores: Annotated[
        int | None, Field(ge=1, description="cores (default: the server machine's)")
    ] = None,
    wait_time: Annotated[
        str | float | None, Field(description=f"time a request waits on I/O (W): {DURATION}")
    ] = None,
    compute_time: Annotated[
        str | float | None, Field(description=f"CPU time per request (C): {DURATION}")
    ] = None,
    target_throughput: Annotated[
        str | float | None, Field(description=f"the rate to reach: {RATE}")
    ] = None,
    arrival_rate: Annotated[
        str | float | None,
        Field(description=f"offered rate for latency-SLO sizing by Erlang C: {RATE}"),
    ] = None,
    latency_slo: Annotated[
        str | None, Field(description='"200ms" (mean response time) or "p99=200ms" (percentile)')
    ] = None,
    runtime: Annotated[
        Literal["python", "jvm", "go", "node", "native"] | None,
        Field(description="the runtime (CPU-bound Python needs processes, not threads)"),
    ] = None,
    sweep: Annotated[
        str | None,
        Field(description=f"a sweep file, CSV concurrency,throughput_rps or JSON ({FILE})"),
    ] = None,
    defaults: Defaults = None,
) -> dict[str, Any]:
    """Size thread pools: the seed's formulas, then Little's law, Erlang C and the USL.

    CPU-bound: cores; I/O-bound: cores × (1 + W/C); mixed: separate pools (I/O cores × 10 when
    W/C is unknown). `analysis.pools` gives each pool's threads and formula;
    `analysis.expected` the max_throughput_rps now and recommended; `cpu_ceiling_rps` is
    cores / C. A target rate gives N = X·(W + C) (Little); an arrival rate and a latency SLO give
    the smallest pool meeting it by Erlang C, with P(wait); a sweep file gives the USL fit and the
    smallest concurrency reaching 95 % of its peak. Returns the Report.
    """
    return api.optimize_concurrency(
        workload_type,
        current_thread_pool,
        cpu_cores=cpu_cores,
        wait_time=wait_time,
        compute_time=compute_time,
        target_throughput=target_throughput,
        arrival_rate=arrival_rate,
        latency_slo=latency_slo,
        runtime=runtime,
        sweep=_inside("optimize_concurrency", "sweep", sweep),
        defaults=_inside("optimize_concurrency", "defaults", defaults),
    ).to_dict()


def design_batching(
    operation: Annotated[
        str,
        Field(
            description="database-insert, api-call, message-publish, file-write, or any name "
            "(sets the default split of today's latency into per-call and per-item cost)"
        ),
    ],
    target_throughput: Annotated[str | float, Field(description=f"items per second: {RATE}")],
    current_latency: Annotated[
        str | float | None, Field(description=f"one item's latency today: {DURATION}")
    ] = None,
    fixed_overhead: Annotated[
        str | float | None, Field(description=f"cost per call, c0: {DURATION}")
    ] = None,
    per_item_cost: Annotated[
        str | float | None, Field(description=f"cost per item, c1: {DURATION}")
    ] = None,
    max_latency: Annotated[
        str | float | None, Field(description=f"budget for the latency batching adds: {DURATION}")
    ] = None,
    arrival_rate: Annotated[
        str | float | None,
        Field(description=f"items arriving per second (default: target): {RATE}"),
    ] = None,
    concurrency: Annotated[int, Field(ge=1, description="batches in flight")] = 1,
    measurements: Annotated[
        str | None,
        Field(
            description=f"measured cost: CSV batch_size,latency_ms ({FILE}), fitted by least "
            "squares"
        ),
    ] = None,
    defaults: Defaults = None,
) -> dict[str, Any]:
    """Design batching from the cost model T(b) = c0 + c1·b (time for a batch of b items).

    The model comes from measurements (least squares), from c0 and c1, or from today's latency
    split by the operation's default share (listed under assumptions). `analysis` gives the
    batch_size, flush_interval_ms, expected_throughput_rps (k·b / T(b) with k batches in
    flight), added_latency_ms (p50, max), gain_vs_current (a factor), and whether the target is
    feasible: batching alone is capped at k / c1 (limit_rps), and `what_else` says what else is
    needed. The throughput/latency curve by batch size is in `series`. Returns the Report.
    """
    return api.design_batching(
        operation,
        target_throughput=target_throughput,
        current_latency=current_latency,
        fixed_overhead=fixed_overhead,
        per_item_cost=per_item_cost,
        max_latency=max_latency,
        arrival_rate=arrival_rate,
        concurrency=concurrency,
        measurements=_inside("design_batching", "measurements", measurements),
        defaults=_inside("design_batching", "defaults", defaults),
    ).to_dict()


def scaling_plan(
    current_architecture: Annotated[
        str,
        Field(description=f"the architecture YAML ({FILE}; shape: examples/three-tier.yaml)"),
    ],
    target_rps: Annotated[str | float, Field(description=f"the entry rate to reach: {RATE}")],
    defaults: Defaults = None,
) -> dict[str, Any]:
    """Plan the way from today's architecture to a target entry rate, component by component.

    Per component (`analysis.components`): the demand at the target, the capacity per instance
    at its saturation targets, the instances needed (bent by the USL when known; past the USL
    peak, adding instances cannot reach it), the strategy (vertical, horizontal, functional,
    read replicas or sharding), partitions, an autoscaling policy and the cost;
    `analysis.saturation_order` is what breaks next as load rises. Returns the Report.
    """
    from throughput_expert.sources.architecture import load_architecture

    tool = "scaling_plan"
    architecture = _inside(tool, "current_architecture", current_architecture)
    confine = _confine(tool)
    for i, component in enumerate(load_architecture(architecture).components):
        if component.sweep:  # read by the plan: inside the roots too
            confine.resolve(component.sweep, field=f"current_architecture: components[{i}].sweep")
    return api.scaling_plan(
        architecture, target_rps=target_rps, defaults=_inside(tool, "defaults", defaults)
    ).to_dict()


def fit_usl(
    sweep: Annotated[
        str,
        Field(
            description=f"a sweep file ({FILE}): CSV concurrency,throughput_rps,... or tpx sweep "
            "JSON, one row per load level"
        ),
    ],
) -> dict[str, Any]:
    """Fit the Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) to a sweep.

    Returns the fit: sigma (contention: the serial share), kappa (coherency: the cost of
    keeping N workers consistent), lambda_rps (throughput of one worker), the shape, the peak
    (peak_concurrency, peak_throughput_rps), recommended_concurrency (the smallest N reaching
    95 % of the peak), the points and levels fitted, r_squared and the standard errors. With too
    few levels it says how many more to measure rather than inventing a fit.
    """
    return dict(api.fit_usl(_inside("fit_usl", "sweep", sweep)))


MAX_SWEEP_LEVELS = 8
MAX_LEVEL_S = 5.0


def sweep(
    url: Annotated[
        str | None, Field(description="HTTP/1.1 keep-alive GETs to this URL (loopback only)")
    ] = None,
    concurrency: Annotated[
        list[int] | Literal["auto"] | None,
        Field(
            max_length=MAX_SWEEP_LEVELS,
            description='closed-loop levels, e.g. [1, 2, 4, 8], or "auto": search for the '
            "throughput peak (climb x3 while it rises, then measure where the USL through the "
            "levels so far peaks)",
        ),
    ] = None,
    max_levels: Annotated[
        int, Field(ge=2, le=MAX_SWEEP_LEVELS, description='levels at most with "auto"')
    ] = 6,
    rates: Annotated[
        list[float] | None,
        Field(max_length=MAX_SWEEP_LEVELS, description="open-loop offered rates per second"),
    ] = None,
    duration_s: Annotated[
        float, Field(gt=0, le=MAX_LEVEL_S, description="seconds per level (at most 5)")
    ] = 2.0,
    from_files: Annotated[
        list[str] | None,
        Field(
            description=f"load-test results to read instead ({FILE}): k6, Locust CSV, "
            "wrk/wrk2, JMeter JTL, Gatling simulation.log, vegeta JSON, or a tpx sweep file"
        ),
    ] = None,
) -> dict[str, Any]:
    """Measure saturation of a loopback URL at rising load (bounded: at most 8 levels of at most
    5 s, targets on 127.0.0.0/8 or ::1 only), or read load-test results; closed-loop levels are
    fitted with the Universal Scalability Law, open-loop ones give the highest rate sustained."""
    if url is not None:
        _loopback_only(url)
    report = api.sweep(
        url=url,
        concurrency=concurrency,
        max_levels=max_levels if concurrency == "auto" else None,
        rates=rates,
        duration=f"{duration_s}s",  # the API reads a bare number as milliseconds
        warmup=f"{min(1.0, duration_s / 2)}s",
        max_requests=1_000_000,
        allow_remote=False,
        from_files=_all_inside("sweep", "from_files", from_files),
    )
    return report.to_dict()


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
        check_loopback(
            parts.hostname,
            port or (443 if parts.scheme == "https" else 80),
            allow_remote=False,
            source=Parameter("url"),
            remedy="the sweep tool measures loopback targets only",
        )


#: Where a tool's argument is not the public API's parameter of the same name: an error naming
#: the API's parameter names the tool's argument instead.
_ARGUMENTS: dict[str, dict[str, str]] = {
    "sweep": {"duration": "duration_s", "warmup": "duration_s"},
}

TOOLS: tuple[Callable[..., dict[str, Any]], ...] = (
    analyze,
    find_bottleneck,
    optimize_concurrency,
    design_batching,
    scaling_plan,
    fit_usl,
    sweep,
)


def one_line_errors(tool: Callable[P, dict[str, Any]]) -> Callable[P, Any]:
    """``tool``, answering a ``ThroughputError`` with a tool error holding its one line.

    Returned rather than raised: the SDK prefixes a raised error's text with "Error executing
    tool NAME: "; the line alone is the contract. ``functools.wraps`` keeps the signature the
    SDK reads.
    """

    arguments = _ARGUMENTS.get(tool.__name__, {})

    def spell(parameter: str) -> str:
        return arguments.get(parameter, parameter)

    @functools.wraps(tool)
    def call(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any] | CallToolResult:
        try:
            return tool(*args, **kwargs)
        except ThroughputError as err:
            from throughput_expert.redact import scrub

            return error_result(scrub(err.spelled(spell)))

    return call


def error_result(line: str) -> CallToolResult:
    """A tool result with ``isError`` set and ``line`` as its only text."""
    from mcp.types import CallToolResult, TextContent

    return CallToolResult(content=[TextContent(type="text", text=line)], is_error=True)


def build_server(roots: Sequence[str | os.PathLike[str]] = ()) -> MCPServer:
    """The server with every tool registered (stdio, HTTP or in-memory: the caller's choice);
    its tools read files only inside ``roots`` (default: the working directory now)."""
    chosen = set_roots(roots)  # a bad --root fails before the SDK loads
    from mcp.server.mcpserver import MCPServer

    instructions = f"{INSTRUCTIONS}\nThe server's roots: {', '.join(map(str, chosen))}."
    server: MCPServer = MCPServer(
        "throughput-expert", instructions=instructions, version=__version__, log_level="WARNING"
    )
    for tool in TOOLS:
        server.add_tool(one_line_errors(tool))
    return server


def main(roots: Sequence[str | os.PathLike[str]] = ()) -> None:
    """Serve the tools over stdio until the client closes the stream."""
    build_server(roots).run("stdio")


if __name__ == "__main__":
    main()
