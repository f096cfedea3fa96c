"""The command line's flags: generated from the public API's signatures for the advisor
commands (``signature_flags``), plus the front doors' own (``--format``, ``tpx task``...).

Every flag's value is passed as it is to the public API, which parses human quantities; the
help text, choices and defaults are the signature's (``params.py``), declared once.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from throughput_expert.params import DURATION_HELP, RATE_HELP, Param, parameters

__all__ = [
    "FLAG_RANGES",
    "analyze_extra",
    "analyze_kwargs",
    "common",
    "demo_flags",
    "find_bottleneck_extra",
    "find_bottleneck_kwargs",
    "follow_symlinks_flag",
    "levels_flag",
    "mcp_flags",
    "no_flags",
    "number_flag",
    "observe_flags",
    "prometheus_flags",
    "report_flags",
    "scaling_plan_extra",
    "scaling_plan_kwargs",
    "signature_flags",
    "signature_kwargs",
    "split_command",
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
        "--width",
        type=_columns,
        metavar="N",
        help="text output's width in columns (default: the terminal's, else 80)",
    )
    follow_symlinks_flag(p)


def _columns(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of columns, got {text!r}"
        ) from None
    if not 60 <= value <= 1000:
        raise argparse.ArgumentTypeError("expected 60 to 1000 columns")
    return value


# The declared range of each flag that takes a number (a kind of ``model.quantity.RANGES``, or
# ``pid``): a value outside it is one line and exit 2 before any work starts. A flag not named
# here is a count (0 to 2^63), further held to its declaration's ``tool_bounds``.
FLAG_RANGES: Mapping[str, str] = {
    "pid": "pid",
    "cpu_cores": "cores",
    "current_thread_pool": "workers",
    "concurrency": "workers",
    "workers": "workers",
    "max_concurrency": "level",
    "max_requests": "count",
    "max_levels": "count",
    "error_threshold": "fraction",
}
# Linux's PID_MAX_LIMIT (2^22): no process id is larger on any kernel.
_PID_MAX = 1 << 22


def number_flag(
    base: type, name: str, bounds: Mapping[str, Any] | None = None
) -> Callable[[str], Any]:
    """The argparse ``type`` of a numeric flag: the number (``base``: int or float) within its
    declared range (``FLAG_RANGES``; ``bounds``: the ``ge`` floor from its declaration; its
    ``le`` is the MCP tool's budget and does not bind the command line)."""
    kind = FLAG_RANGES.get(name, "count")

    def parse(text: str) -> Any:
        from throughput_expert.errors import InputError
        from throughput_expert.model.quantity import gate, gate_int

        try:
            if kind == "pid":
                number: float = _pid(text)
            elif base is int:
                number = gate_int(text, kind, source="flag")
            else:
                number = gate(text, kind, source="flag")
        except InputError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None
        # the declaration's floor holds everywhere; its ceiling ("le") is an agent's budget
        # (an MCP tool's), not a limit for someone at a terminal
        low = (bounds or {}).get("ge")
        if low is not None and number < low:
            raise argparse.ArgumentTypeError(f"{text!r} is out of range (at least {low:g})")
        return int(number) if base is int else float(number)

    parse.__name__ = "integer" if base is int else "number"  # argparse's "invalid <name> value"
    return parse


def levels_flag(text: str) -> str:
    """The argparse ``type`` of a list of load levels ("1,2,4" or "auto"): each level within
    the ``level`` range (1 to 2^24 concurrent clients), checked before any is measured; the
    text is passed on as written."""
    from throughput_expert.errors import InputError
    from throughput_expert.model.quantity import gate_int

    if text.strip().lower() == "auto":
        return text
    for item in text.split(","):
        word = item.strip()
        if word and len(word) <= 20 and word.lstrip("+-").isdigit():  # what is not, the API says
            try:
                gate_int(word, "level", source="flag")
            except InputError as exc:
                raise argparse.ArgumentTypeError(exc.message) from None
        elif word.lstrip("+-").isdigit():
            raise argparse.ArgumentTypeError(f"{word[:20]!r}…: more digits than any level has")
    return text


levels_flag.__name__ = "levels"


def _pid(text: str) -> int:
    from throughput_expert.errors import InputError
    from throughput_expert.model.quantity import gate_int

    try:
        number = gate_int(text, "count", source="flag")
    except InputError:
        number = 0
    if not 1 <= number <= _PID_MAX:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a process id (allowed: 1 to {_PID_MAX:,})"
        )
    return number


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
    g.add_argument(
        "--prometheus-timeout",
        metavar="T",
        help="give up on a query try after T (default 10s, or $TPX_PROMETHEUS_TIMEOUT)",
    )
    g.add_argument(
        "--prometheus-total-timeout",
        metavar="T",
        help="give up on the server after T for all queries (default 120s, or "
        "$TPX_PROMETHEUS_TOTAL_TIMEOUT)",
    )


def observe_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration", default="30s", help="how long to sample (default 30s)")
    p.add_argument("--interval", default="1s", help="time between samples (default 1s)")
    p.add_argument("--pid", type=number_flag(int, "pid"), help="also report this process tree")
    p.add_argument("--save", metavar="PATH", help="write the metrics JSON here")
    follow_symlinks_flag(p)


def task_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input",
        nargs="?",
        metavar="INPUT.json|RUN",
        help="a hand-made task's input.json, or a babysitter run folder (with EFFECT)",
    )
    p.add_argument(
        "effect",
        nargs="?",
        metavar="EFFECT",
        help="the effect id of RUN's pending task: served and posted with babysitter task:post",
    )
    p.add_argument(
        "--output",
        metavar="RESULT.json",
        help="where to write (default: io.outputJsonPath, else result.json beside it)",
    )
    p.add_argument(
        "--watch",
        nargs="?",
        const=".a5c/runs",
        metavar="RUNS_DIR",
        help="serve every pending task for this agent in every babysitter run below RUNS_DIR "
        "(default .a5c/runs; a folder of hand-made tasks/*/input.json works too)",
    )
    p.add_argument("--once", action="store_true", help="with --watch: serve what is there, exit")
    p.add_argument(
        "--interval",
        default="1s",
        metavar="DURATION",
        help="with --watch: time between two looks at the runs (default 1s)",
    )
    p.add_argument(
        "--agent",
        metavar="NAME",
        help="the agent name whose tasks to serve (default throughput-optimization-expert)",
    )
    p.add_argument(
        "--babysitter",
        metavar="CMD",
        help="the babysitter CLI to run (default: babysitter on PATH, else "
        "./node_modules/.bin/babysitter)",
    )
    p.add_argument(
        "--allow-root",
        metavar="DIR",
        action="append",
        help="a folder outside the run that the task's paths (io.outputJsonPath, context files) "
        "may also name (repeatable; default: only the run folder, the one holding tasks/)",
    )
    p.add_argument(
        "--defaults",
        metavar="FILE",
        help="YAML/JSON overriding saturation targets, thresholds, playbook, benchmarks, for "
        "every advisor the task runs (a task may not replace it)",
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


def demo_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "which",
        nargs="?",
        choices=DEMO_NAMES,
        default="analyze",
        metavar="NAME",
        help=f"one of {', '.join(DEMO_NAMES)} (default: analyze)",
    )
    p.add_argument("--defaults", metavar="FILE", help="passed to the command (see its --help)")


# -- flags generated from a public function's signature ------------------------------------------


def flag_name(param: Param) -> str:
    return param.arg.flag or "--" + param.name.replace("_", "-")


def signature_flags(p: argparse.ArgumentParser, fn: Callable[..., Any]) -> None:
    """A flag for every parameter of ``fn`` the command line takes (``Arg.cli``)."""
    groups: dict[str, Any] = {}
    declared = parameters(fn)
    spelled = {q.name: flag_name(q) for q in declared if q.arg.cli}
    for param in declared:
        if not param.arg.cli:
            continue
        target: Any = p
        if param.arg.group:
            title = spell_mentions(param.arg.group, spelled)
            if title not in groups:
                groups[title] = p.add_argument_group(title)
            target = groups[title]
        options = _options(param)
        options["help"] = spell_mentions(options["help"], spelled)
        target.add_argument(flag_name(param), dest=param.name, **options)


def spell_mentions(text: str, spelled: Mapping[str, str]) -> str:
    """``{name}`` in a declaration's text, as this front door spells parameter ``name``."""
    import re

    return re.sub(r"\{([a-z_]+)\}", lambda m: spelled.get(m.group(1), m.group(1)), text)


def _options(param: Param) -> dict[str, Any]:
    arg = param.arg
    help_text = arg.help
    if arg.kind == "rate":
        help_text += f" ({RATE_HELP})"
    elif arg.kind == "duration":
        help_text += f" ({DURATION_HELP})"
    out: dict[str, Any] = {}
    base = param.base
    if base is bool:
        out["action"] = "store_true"
    else:
        if arg.kind == "files":
            out["action"] = "append"
            help_text += " (repeatable)"
        elif arg.kind == "levels":
            out["type"] = levels_flag
        elif base is int or base is float:
            out["type"] = number_flag(base, param.name, arg.tool_bounds)
        if param.choices is not None:
            out["choices"] = param.choices
        elif arg.metavar:
            out["metavar"] = arg.metavar
        if param.required:
            out["required"] = True
        elif param.default not in (None, (), False):
            help_text += f" (default {param.default})"
    out["help"] = help_text.replace("%", "%%")  # argparse formats help with %
    return out


def signature_kwargs(args: argparse.Namespace, fn: Callable[..., Any]) -> dict[str, Any]:
    """The keyword arguments of ``fn`` from the parsed flags (unset flags keep the signature's
    defaults)."""
    out: dict[str, Any] = {}
    for param in parameters(fn):
        if not param.arg.cli:
            continue
        value = getattr(args, param.name, None)
        if value is None:
            continue
        out[param.name] = value
    return out


# -- flags beyond the signature: the live Prometheus group -------------------------------------


def analyze_extra(p: argparse.ArgumentParser) -> None:
    prometheus_flags(p, service_queries=True)


def find_bottleneck_extra(p: argparse.ArgumentParser) -> None:
    prometheus_flags(p, service_queries=False)
    p.set_defaults(run_command=None)  # what follows `--` (main splits it off)
    p.epilog = (
        "tpx find-bottleneck [options] -- COMMAND [ARGS...]: start COMMAND (a Python program), "
        "record it with py-spy for --duration or until it exits, stop it and give the verdict."
    )


def scaling_plan_extra(p: argparse.ArgumentParser) -> None:
    prometheus_flags(p, service_queries=False)


def analyze_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"prometheus": _prometheus(args)}


scaling_plan_kwargs = analyze_kwargs


def find_bottleneck_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    out = analyze_kwargs(args)
    if getattr(args, "run_command", None):
        out["command"] = list(args.run_command)
    return out


def split_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """The flags, and the command after the first ``--`` (None when there is no ``--``)."""
    if "--" not in argv:
        return argv, None
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


def _prometheus(args: argparse.Namespace) -> Any:
    """The live Prometheus options from the flags (None without --prometheus)."""
    if not args.prometheus:
        return None
    from throughput_expert.live import PrometheusOptions

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
        timeout=args.prometheus_timeout,
        total_timeout=args.prometheus_total_timeout,
    )
