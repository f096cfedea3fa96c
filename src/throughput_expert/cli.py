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

from throughput_expert import cli_flags as flags
from throughput_expert.errors import InputError, Interrupted, ThroughputError

if TYPE_CHECKING:
    from throughput_expert import registry
    from throughput_expert.model import Report

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        from throughput_expert.redact import redact_text  # a value typed in the wrong place

        _error_line(f"{self.prog}: {redact_text(message)} (see {self.prog} --help)")
        sys.exit(2)


def _error_line(line: str) -> None:
    """One line on stderr, outside text in it made safe for a terminal: a carriage return or an
    escape sequence from a file, a server or a process is shown escaped, never obeyed."""
    from throughput_expert.safe_text import terminal_safe

    sys.stderr.write(terminal_safe(line, _LINE_LIMIT) + "\n")


_LINE_LIMIT = 2000  # characters of one error line (outside text in it is capped where it is read)


def _write_stdout(text: str) -> None:
    """A rendered document on stdout; a lone surrogate in it (valid in JSON, which escapes it)
    shows as U+FFFD instead of failing to encode."""
    from throughput_expert.safe_text import unicode_safe

    sys.stdout.write(unicode_safe(text))


def cmd_advisor(args: argparse.Namespace) -> int:
    """An advisor command from the registry: its flags are its API function's parameters."""
    from throughput_expert import registry

    found = registry.unit(args.subcommand)
    assert found is not None
    fn = registry.resolve(found.run)
    kwargs = flags.signature_kwargs(args, fn)
    extra = registry.resolve(found.cli_kwargs, optional=True) if found.cli_kwargs else None
    if extra is not None:
        kwargs.update(extra(args))
    progress = _PROGRESS.get(found.name)
    if progress is not None:
        kwargs["on_progress"] = progress()
    return _emit(fn(**kwargs), args)


def _sweep_progress() -> Callable[[object], None]:
    from throughput_expert.render.progress import progress_printer

    return progress_printer(sys.stderr)  # type: ignore[return-value]


# Commands that report progress on stderr while they measure (the report goes to stdout).
_PROGRESS: dict[str, Callable[[], Callable[..., None]]] = {
    "sweep": _sweep_progress,
    "design-batching": lambda: _progress,
}


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


def _progress(message: str) -> None:
    """Progress of a measurement, on stderr (the report goes to stdout)."""
    from throughput_expert.redact import scrub

    _error_line(f"tpx: {scrub(message)}")
    sys.stderr.flush()


def cmd_task(args: argparse.Namespace) -> int:
    """``tpx task INPUT.json``: the babysitter task worker; ``tpx task RUN EFFECT`` serves one
    effect of a babysitter run; ``--watch [RUNS_DIR]`` serves every run below it."""
    from throughput_expert.agents.task import AGENT_NAME, run_task

    agent = args.agent or AGENT_NAME
    if args.watch is not None:
        from throughput_expert.agents.watch import hand_made, watch, watch_runs

        if hand_made(args.watch):
            return watch(
                args.watch,
                once=args.once,
                log=_progress,
                allow_roots=args.allow_root or (),
                defaults=args.defaults,
            )
        from throughput_expert.agents.babysitter import Babysitter
        from throughput_expert.model.quantity import parse_duration

        poll_s = parse_duration(
            args.interval, source="tpx task", field="--interval", default_unit="s"
        )
        if not os.path.isdir(args.watch):
            raise InputError(f"{args.watch!r} is not a folder", source="tpx task", field="--watch")
        from throughput_expert.agents.confine import real_folders

        real_folders(args.allow_root or (), source="tpx task", flag="--allow-root")
        return watch_runs(
            args.watch,
            Babysitter.find(args.babysitter),
            once=args.once,
            poll_s=poll_s,
            agent=agent,
            log=_progress,
            allow_roots=args.allow_root or (),
            defaults=args.defaults,
        )
    if not args.input:
        raise InputError("give INPUT.json, RUN EFFECT, or --watch [RUNS_DIR]", source="tpx task")
    if args.effect is not None:
        return _serve_effect(args, agent)
    if os.path.isdir(args.input):
        raise InputError(
            "a run folder needs the EFFECT to serve (tpx task RUN EFFECT), or serve every pending "
            "task with tpx task --watch",
            source="tpx task",
            field="EFFECT",
        )
    path, _ = run_task(
        args.input, args.output, allow_roots=args.allow_root or (), defaults=args.defaults
    )
    sys.stderr.write(f"tpx task: wrote {path}\n")
    return 0


def _serve_effect(args: argparse.Namespace, agent: str) -> int:
    """``tpx task RUN EFFECT``: answer one pending effect and post it; exit 2 when the answer
    posted is an error (the run then fails with that line)."""
    from throughput_expert.agents.babysitter import AlreadyResolved, Babysitter, serve_effect
    from throughput_expert.agents.confine import real_folders

    if args.output:
        raise InputError(
            "the answer to RUN EFFECT is posted beside its task.json, not written to --output",
            source="tpx task",
            field="--output",
        )
    real_folders(args.allow_root or (), source="tpx task", flag="--allow-root")
    cli = Babysitter.find(args.babysitter)
    try:
        outcome = serve_effect(
            cli,
            args.input,
            args.effect,
            agent=agent,
            allow_roots=args.allow_root or (),
            defaults=args.defaults,
        )
    except AlreadyResolved as exc:
        _error_line(f"tpx task: {exc.one_line()}")
        return 0
    where = f"{outcome.run}/tasks/{outcome.effect}"
    if outcome.status == "error":
        from throughput_expert.redact import scrub

        _error_line(scrub(f"tpx task: posted error for {where}: {outcome.message}"))
        return 2
    sys.stderr.write(f"tpx task: served {where} -> {outcome.file} (posted ok)\n")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``tpx report REPORT.json``: render a saved JSON report without recomputing."""
    from throughput_expert.render.report_file import render_saved

    fmt = args.format or ("text" if sys.stdout.isatty() and not args.output else "json")
    text = render_saved(args.report, fmt)
    if args.output:
        from throughput_expert.outputs import write_atomically

        write_atomically(args.output, text)
    else:
        _write_stdout(text)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """``tpx mcp``: the advisors as MCP tools over stdio; files only inside ``--root`` folders."""
    from throughput_expert.agents.mcp_server import main as serve

    serve(args.root or ())
    return 0


# `tpx demo NAME` runs the real command on a bundled example: (file, the command's flags).
DEMOS = {
    "analyze": ("examples/message-consumer.json", ["analyze", "--metrics", "{file}"]),
    "scaling-plan": (
        "examples/three-tier.yaml",
        ["scaling-plan", "--target-rps", "6000", "--current-architecture", "{file}"],
    ),
}


def cmd_demo(args: argparse.Namespace) -> int:
    """``tpx demo [NAME]``: the real command on a bundled example (no canned output)."""
    name, (example, argv) = args.which, DEMOS[args.which]
    with resources.as_file(resources.files("throughput_expert").joinpath(example)) as path:
        command = [a.format(file=path) for a in argv]
        # the command to rerun, the file on its own line (a path does not fold at 80 columns)
        shown = " ".join("FILE" if a == "{file}" else a for a in argv)
        sys.stderr.write(f"tpx demo: tpx {shown}\n  FILE: {path}\n")
        common = [
            f"--{k}={getattr(args, k)}"
            for k in ("format", "output", "defaults", "width")
            if getattr(args, k)
        ]
        inner = build_parser().parse_args([*command, *common])
        assert name == inner.command
        code: int = inner.handler(inner)
        return code


def _emit(report: Report, args: argparse.Namespace) -> int:
    from throughput_expert.render import renderer_for

    terminal = sys.stdout.isatty() and not args.output
    fmt = args.format or ("text" if terminal else "json")
    columns = getattr(args, "width", None)
    if columns is None and terminal:
        import shutil

        columns = shutil.get_terminal_size().columns
    from throughput_expert.render.text_common import color_wanted  # no rich import

    color = fmt == "text" and not args.output and color_wanted(terminal)
    text = renderer_for(fmt, columns, color).render(report)
    if args.output:
        from throughput_expert.outputs import write_atomically

        write_atomically(args.output, text)
    else:
        _write_stdout(text)
    return 0


Command = tuple[
    str, str, Callable[[argparse.Namespace], int], Callable[[argparse.ArgumentParser], None]
]

COMMANDS: tuple[Command, ...] = (  # the front doors' own; advisor commands: registry
    (
        "task",
        "the babysitter task worker: answers a run's agent tasks (babysitter task:post), "
        "or a hand-made input.json",
        cmd_task,
        flags.task_flags,
    ),
    (
        "report",
        "render a saved JSON report as json, text or html, without recomputing",
        cmd_report,
        flags.report_flags,
    ),
    (
        "mcp",
        "serve the advisors as MCP tools over stdio (Model Context Protocol)",
        cmd_mcp,
        flags.mcp_flags,
    ),
    (
        "observe",
        "sample this machine (psutil): CPU by mode, run queue, memory, disk, network, PSI",
        cmd_observe,
        flags.observe_flags,
    ),
    (
        "demo",
        "run a command on a bundled example: analyze (the seed's 10K -> 50K msg/s consumer, "
        "the default) or scaling-plan (a three-tier system to 6,000 rps)",
        cmd_demo,
        flags.demo_flags,
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
    for name, help_text, handler, add_flags in _commands():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_flags(p)
        if name not in ("task", "mcp", "observe"):  # these write data, not rendered reports
            flags.common(p)
        p.set_defaults(handler=handler, subcommand=name)  # `--command` of sweep takes "command"
    return parser


def _commands() -> list[Command]:
    """Every subcommand: the registry's advisor commands (flags from their API signatures)
    and the front doors' own, in the order --help shows them (new commands last)."""
    from throughput_expert import registry

    listed = list(COMMANDS)
    for found in registry.units():
        listed.append((found.name, found.help, cmd_advisor, _advisor_flags(found)))
    return sorted(listed, key=lambda c: _ORDER.index(c[0]) if c[0] in _ORDER else len(_ORDER))


def _advisor_flags(found: registry.CommandUnit) -> Callable[[argparse.ArgumentParser], None]:
    from throughput_expert import registry

    def add(p: argparse.ArgumentParser) -> None:
        flags.signature_flags(p, registry.resolve(found.run))
        if found.cli_extra:
            extra = registry.resolve(found.cli_extra, optional=True)
            if extra is not None:
                extra(p)

    return add


def _version() -> str:
    from throughput_expert import __version__

    return f"tpx {__version__}"


def _run(args: argparse.Namespace) -> int:
    """The command's handler; ``--output`` and ``--save`` are checked first (so a refused
    target fails before a measurement, not after), and ``--follow-symlinks`` holds for every
    file the run writes."""
    follow = bool(getattr(args, "follow_symlinks", False))
    outputs = [(f"--{f}", getattr(args, f, None)) for f in ("output", "save")]
    if not follow and not any(path for _, path in outputs):
        code: int = args.handler(args)
        return code
    from throughput_expert.outputs import check_output, deferred, following_symlinks

    for flag, path in outputs:
        if path:
            check_output(path, source=flag, follow_symlinks=follow)
    # --output and --save are renamed into place only when the command succeeds
    with following_symlinks(follow), deferred(path for _, path in outputs if path) as staged:
        code = args.handler(args)
        staged.keep = code == 0
    return code


# Public API parameters whose flag's ``dest`` is another name.
_API_TO_DEST = {
    "token_env": "prometheus_token_env",
    "token_file": "prometheus_token_file",
    "ca_file": "prometheus_ca",
}


def flag_spelling(parser: argparse.ArgumentParser, command: str) -> Callable[[str], str]:
    """How the command line spells a public API parameter in an error: the command's own flag
    for it (``cpu_cores`` -> ``--cpu-cores``; ``from_files`` -> ``--from``), read from its
    argparse actions; a parameter the command has no flag for (a task's, say) keeps its name."""
    flags_by_dest: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            for option in action.choices[command]._actions:
                long = [o for o in option.option_strings if o.startswith("--")]
                if long:
                    flags_by_dest.setdefault(option.dest, long[0])

    def spell(parameter: str) -> str:
        dest = _API_TO_DEST.get(parameter, parameter)
        return flags_by_dest.get(dest, parameter)

    return spell


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def _catch_termination() -> None:
    """SIGTERM and SIGHUP raise ``Interrupted`` (a KeyboardInterrupt), as Ctrl-C does."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, _raise_interrupted)


def main(argv: Sequence[str] | None = None) -> int:
    _catch_termination()
    parser = build_parser()
    argv, after = flags.split_command(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if after is not None:  # `tpx find-bottleneck -- python app.py`: the command to record
        if not hasattr(args, "run_command"):
            parser.error(f"{args.subcommand} takes no command after --")
        if not after:
            parser.error("give the command to record after --")
        args.run_command = after
    try:
        code: int = _run(args)
        if args.subcommand == "sweep":  # stopped by a signal: its report is out, exit 128 + N
            from throughput_expert.measure.runner import reraise_interruption

            reraise_interruption()
    except ThroughputError as exc:
        from throughput_expert.redact import scrub  # no remembered secret reaches stderr

        line = exc.spelled(flag_spelling(parser, args.subcommand))
        _error_line(scrub(line))
        return 2
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else 2
        import signal

        sys.stderr.write(f"tpx: interrupted by {signal.Signals(signum).name}\n")
        return 128 + signum
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so in one line, traceback on request
        if os.environ.get("TPX_DEBUG"):
            raise
        from throughput_expert.redact import scrub

        _error_line(
            scrub(f"tpx: internal error: {type(exc).__name__}: {exc} ")
            + "(a bug; rerun with TPX_DEBUG=1 for the traceback)"
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
