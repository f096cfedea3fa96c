"""Load-test results users already have, read into one ``Sweep`` (``tpx sweep --from``).

Each file's tool is detected from its content (docs/formats.md §3): k6 summary
(``--summary-export`` or ``handleSummary``) and JSON lines (``--out json``, gzipped or not),
Locust CSV (stats and stats history), wrk and wrk2 text, JMeter JTL CSV, Gatling
``simulation.log`` (text) and vegeta JSON. Every file, or every load step inside one, becomes one
``SweepLevel``; the levels of all files merge into one sweep whose level kind is
``concurrency``. ``FORMATS`` is the table of ``(name, detect, read)`` tried in order.

Closed-loop tools (wrk, Locust, JMeter, k6 VU executors, Gatling) give levels at their VUs,
users, threads or connections, in ``closed`` mode, and their percentiles are flagged as prone
to coordinated omission. Open-loop results (wrk2, vegeta, k6 arrival-rate runs) give ``open``
levels with ``offered_rps`` set; a sweep file's level is always a concurrency, so theirs is
the connections (wrk2), the VUs (k6), or for vegeta, whose report has none, the mean requests
in flight by Little's law (see ``vegeta.py``). Open and closed results do not mix in one sweep.
Per-level remarks (coordinated omission, dropped iterations, failures, partial or unknown
latency, corrected vs uncorrected wrk2 percentiles) go to ``Sweep.notes``, each prefixed with
its file's name.

Two rules guard the merge. A level whose error share (failed / sent requests, ``_common``)
passes ``error_threshold`` (``--error-threshold``, the rule a measured sweep stops on) is no
throughput: it goes to ``Sweep.failed``, with its share and the threshold, not to ``levels``,
so no fit or peak uses it; a level with no request answered fails too. And files run against
different targets (wrk's URL, k6's ``name`` tags, Locust's and Gatling's request names,
JMeter's URLs or labels) are not one sweep: they are refused unless ``merge`` is set, and then
the sweep's target lists them all. A file that does not name its target (k6 summaries, vegeta
reports) is not compared, and a note says so.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from os import PathLike
from typing import Any
from urllib.parse import urlsplit

from throughput_expert.errors import InputError, Parameter
from throughput_expert.model import InputRef
from throughput_expert.model.sweep import FailedLevel, Sweep, SweepLevel
from throughput_expert.model.units import fmt_count
from throughput_expert.redact import redact_text
from throughput_expert.sources.files import MAX_FILE_BYTES, read_bytes, read_json
from throughput_expert.sources.loadtests import gatling, jmeter, k6, k6_lines, locust, vegeta, wrk
from throughput_expert.sources.loadtests._common import Imported, error_share, gate_level
from throughput_expert.sources.sweep import check_levels, save_sweep

__all__ = [
    "DEFAULT_ERROR_THRESHOLD",
    "FORMATS",
    "UNKNOWN",
    "ResultFile",
    "ResultFormat",
    "detect_format",
    "import_results",
    "import_to_sweep",
    "parse_result",
]

UNKNOWN = (
    "unknown load-test result (expected k6, Locust CSV, wrk/wrk2 output, JMeter JTL, "
    "Gatling simulation.log or vegeta JSON)"
)
BINARY_GATLING = (
    "binary simulation.log (Gatling 3.12+) is not readable; export the levels another way: "
    "run the simulation with Gatling 3.11 or earlier for a text log, or write them into a "
    "sweep CSV (docs/formats.md §5.1)"
)
_HISTORY_SUFFIX = "_stats_history.csv"
_STATS_SUFFIX = "_stats.csv"


DEFAULT_ERROR_THRESHOLD = 0.1
_SHOWN_NAMES = 4


def import_results(
    paths: Sequence[str | PathLike[str]],
    *,
    error_threshold: float = DEFAULT_ERROR_THRESHOLD,
    merge: bool = False,
) -> Sweep:
    """Read load-test result files into one sweep (one level per file or per load step).

    A level whose error share passes ``error_threshold`` goes to ``Sweep.failed``; files run
    against different targets raise ``InputError`` unless ``merge``."""
    if not paths:
        raise InputError(
            "no load-test results given: pass {from_files} FILE",
            source=Parameter("from_files"),
            mentions=("from_files",),
        )
    if not (isinstance(error_threshold, int | float) and 0 <= error_threshold <= 1):
        raise InputError("must be in [0, 1]", source=Parameter("error_threshold"))
    names = [str(p) for p in paths]
    results = [(name, _import_file(name, names)) for name in _without_paired_stats(names)]
    return _merge(results, float(error_threshold), merge)


def import_to_sweep(
    paths: Sequence[str | PathLike[str]],
    save: str | None,
    *,
    error_threshold: float = DEFAULT_ERROR_THRESHOLD,
    merge: bool = False,
) -> Sweep:
    """Import load-test results and, when ``save`` is given, write the sweep file there."""
    sweep = import_results(paths, error_threshold=error_threshold, merge=merge)
    if save is not None:
        save_sweep(sweep, save)
    return sweep


def parse_result(data: bytes, source: str, history: str | None = None) -> Imported:
    """One file's levels from its bytes; ``history`` is a Locust stats file's history text."""
    file = ResultFile(_decode(_gunzip(data, source), source), source, history)
    imported = detect_format(file).read(file)
    check_levels(len(imported.levels), source)
    for i, level in enumerate(imported.levels):  # the numeric gate, once, for every tool
        gate_level(level, source, f"level {i + 1}" if len(imported.levels) > 1 else "")
    return imported


@dataclass
class ResultFile:
    """One result file's text (gunzipped); its JSON is parsed on first use, once."""

    text: str
    source: str
    history: str | None = None  # for a Locust stats file: its stats history's text

    @cached_property
    def is_json(self) -> bool:
        """Starts with ``{``: read as JSON (or k6's JSON lines), or not at all."""
        return self.text.lstrip().startswith("{")

    @cached_property
    def doc(self) -> object:
        return read_json(self.text, self.source)


@dataclass(frozen=True)
class ResultFormat:
    """One tool's format: its name, whether a file is in it, and how to read the file."""

    name: str
    detect: Callable[[ResultFile], bool]
    read: Callable[[ResultFile], Imported]


def detect_format(file: ResultFile) -> ResultFormat:
    """The first format of ``FORMATS`` that accepts ``file``; ``InputError`` if none does."""
    for fmt in FORMATS:
        if fmt.detect(file):
            return fmt
    raise InputError(UNKNOWN, source=file.source)


def _json(looks_like: Callable[[object], bool]) -> Callable[[ResultFile], bool]:
    return lambda file: file.is_json and looks_like(file.doc)


def _text(looks_like: Callable[[str], bool]) -> Callable[[ResultFile], bool]:
    return lambda file: not file.is_json and looks_like(file.text)


def _object(file: ResultFile) -> dict[str, Any]:
    if not isinstance(file.doc, dict):
        raise InputError(UNKNOWN, source=file.source)
    return file.doc


FORMATS: tuple[ResultFormat, ...] = (
    # k6's JSON lines before the JSON documents: a file of many JSON objects is no one document
    ResultFormat(
        "k6 JSON lines",
        lambda f: f.is_json and k6_lines.looks_like_lines(f.text),
        lambda f: k6.parse_lines(f.text, f.source),
    ),
    ResultFormat(
        "k6 summary",
        _json(k6.looks_like_summary),
        lambda f: k6.parse_summary(_object(f), f.source),
    ),
    ResultFormat(
        "vegeta JSON", _json(vegeta.looks_like), lambda f: vegeta.parse(_object(f), f.source)
    ),
    ResultFormat(
        "Locust stats history CSV",
        _text(locust.is_history),
        lambda f: locust.parse_history(f.text, f.source),
    ),
    ResultFormat(
        "Locust stats CSV",
        _text(locust.is_stats),
        lambda f: locust.parse_stats(f.text, f.source, f.history),
    ),
    ResultFormat(
        "JMeter JTL CSV", _text(jmeter.looks_like), lambda f: jmeter.parse(f.text, f.source)
    ),
    ResultFormat(
        "Gatling simulation.log",
        _text(gatling.looks_like),
        lambda f: gatling.parse(f.text, f.source),
    ),
    ResultFormat("wrk/wrk2 text", _text(wrk.looks_like), lambda f: wrk.parse(f.text, f.source)),
)


def _import_file(name: str, names: Sequence[str]) -> Imported:
    history = None
    if name.endswith(_STATS_SUFFIX):
        sibling = name.removesuffix(_STATS_SUFFIX) + _HISTORY_SUFFIX
        if os.path.isfile(sibling):
            history = _decode(read_bytes(sibling), sibling)
    return parse_result(read_bytes(name), name, history)


def _without_paired_stats(names: Sequence[str]) -> list[str]:
    """Drop a Locust ``_stats.csv`` whose ``_stats_history.csv`` is given too (it has more)."""
    given = set(names)
    return [
        n
        for n in names
        if not (
            n.endswith(_STATS_SUFFIX) and n.removesuffix(_STATS_SUFFIX) + _HISTORY_SUFFIX in given
        )
    ]


def _gunzip(data: bytes, source: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, zlib.error):
        raise InputError("a damaged gzip file", source=source) from None
    if len(out) > MAX_FILE_BYTES:
        raise InputError(f"larger than {MAX_FILE_BYTES >> 20} MiB uncompressed", source=source)
    return out


def _decode(data: bytes, source: str) -> str:
    if b"\x00" in data[:65536]:
        raise InputError(_binary_message(data), source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(_binary_message(data), source=source) from None


def _binary_message(data: bytes) -> str:
    head = data[:4096].lower()
    if data[:1] == b"\x00" or b"gatling" in head or b"simulation" in head:
        return BINARY_GATLING
    return f"binary content: {UNKNOWN}"


def _merge(results: list[tuple[str, Imported]], threshold: float, merge: bool) -> Sweep:
    modes = {r.mode for _, r in results}
    if len(modes) > 1:
        closed = [os.path.basename(n) for n, r in results if r.mode == "closed"]
        raise InputError(
            "open-loop (wrk2, vegeta, k6 arrival-rate) and closed-loop results do not mix in one "
            f"sweep; import the closed-loop ones ({', '.join(closed)}) separately",
            source=Parameter("from_files"),
        )
    target, target_notes = _target(results, merge)
    tools = sorted({r.tool for _, r in results})
    kept: list[SweepLevel] = []
    failed: list[FailedLevel] = []
    notes = _file_notes(results)
    for name, r in results:
        for lv in r.levels:
            failure = _failure(lv, threshold, name)
            if failure is None:
                kept.append(lv)
                notes += [n for n in [_error_note(lv, threshold, name)] if n]
            else:
                failed.append(failure)
    if not kept:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        hint = ""
        if any(f.level.requests for f in failed):
            hint = "; pass {error_threshold} 1 to read the failed requests as throughput anyway"
        raise InputError(
            f"every level failed, none is throughput: {failed[0].why}{more}{hint}",
            source=os.path.basename(failed[0].source or "") or Parameter("from_files"),
            mentions=("error_threshold",),
        )
    started = sorted(r.started_at for _, r in results if r.started_at)
    notes += target_notes
    notes += [_failed_note(f) for f in failed]
    summary = f"{', '.join(tools)}: {len(kept)} levels"
    summary += f", {len(failed)} failed" if failed else ""
    return Sweep(
        "concurrency",
        results[0][1].mode,
        tuple(kept),
        closed_loop_percentiles=any(r.closed_loop for _, r in results),
        source=InputRef(", ".join(n for n, _ in results), "load-test", summary),
        driver=", ".join(tools),
        target=target,
        started_at=started[0] if started else None,
        notes=tuple(notes),
        failed=tuple(failed),
    )


def _file_notes(results: list[tuple[str, Imported]]) -> list[str]:
    """Each file's notes prefixed with its name; a note several files share, once with them all."""
    files: dict[str, list[str]] = {}
    for name, r in results:
        for note in r.notes:
            files.setdefault(note, []).append(os.path.basename(name))
    return [f"{', '.join(names)}: {note}" for note, names in files.items()]


def _failure(lv: SweepLevel, threshold: float, source: str) -> FailedLevel | None:
    """The level as failed when its error share passes ``threshold`` (the measured sweep's
    rule) or no request of it was answered; None when it is throughput."""
    share = error_share(lv)
    if share is None:
        return None
    if lv.requests == 0:
        took = f" in {lv.duration_s:g} s" if lv.duration_s else ""
        why = f"level {lv.level:g}: no request answered{took}"
    elif share > threshold:
        why = (
            f"level {lv.level:g}: {lv.errors} of {lv.requests} requests failed ({share:.0%}), "
            f"above the error threshold of {threshold:.0%}"
        )
    else:
        return None
    return FailedLevel(lv, share, threshold, why, source)


def _failed_note(f: FailedLevel) -> str:
    return (
        f"{os.path.basename(f.source or '')}: {f.why}: a failed level, its "
        f"{fmt_count(f.level.throughput_rps)} rps is not throughput (left out of the levels "
        "and the fit)"
    )


def _error_note(lv: SweepLevel, threshold: float, source: str) -> str | None:
    """A kept level's failed requests: under the threshold, but counted in its throughput."""
    share = error_share(lv)
    if not share or not lv.requests or not lv.errors:
        return None
    good = lv.throughput_rps * (1 - share)
    return (
        f"{os.path.basename(source)}: level {lv.level:g}: {lv.errors} of {lv.requests} requests "
        f"failed ({share:.0%}), not above the error threshold of {threshold:.0%}: its throughput "
        f"counts them; about {fmt_count(good)} rps succeeded"
    )


def _target(results: list[tuple[str, Imported]], merge: bool) -> tuple[str | None, list[str]]:
    """The sweep's target, and notes; ``InputError`` for different targets without ``merge``."""
    groups: list[tuple[tuple[str, ...], list[str]]] = []
    unknown: list[str] = []
    for name, r in results:
        if not r.targets:
            unknown.append(os.path.basename(name))
            continue
        for i, (targets, files) in enumerate(groups):
            if _same_targets(targets, r.targets):
                files.append(os.path.basename(name))
                if _has_hosts(r.targets) and not _has_hosts(targets):
                    groups[i] = (r.targets, files)  # show the URLs rather than bare paths
                break
        else:
            groups.append((r.targets, [os.path.basename(name)]))
    notes = []
    if unknown and len(results) > 1:
        notes.append(
            f"{', '.join(unknown)}: the target is not in the file, so it was not compared with "
            "the others'"
        )
    if len(groups) > 1:
        (first, a), (second, b) = groups[0], groups[1]
        if not merge:
            raise InputError(
                f"{a[0]} ran against {_shown(first)} but {b[0]} against {_shown(second)}: "
                "results against different targets are not one sweep; import each target's "
                "files separately, or pass {merge} to merge them",
                source=Parameter("from_files"),
                field="target",
                mentions=("merge",),
            )
        notes.append(
            f"merged results against {len(groups)} different targets: "
            + "; ".join(f"{_shown(t)} ({', '.join(files)})" for t, files in groups)
        )
    if not groups:
        return None, notes
    return "; ".join(_shown(t) for t, _ in groups), notes


def _same_targets(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same targets; URLs against bare paths or names (a tool that keeps no host) compare
    by path and query."""
    if a == b:
        return True
    if _has_hosts(a) and _has_hosts(b):
        return False
    return {_path(x) for x in a} == {_path(x) for x in b}


def _has_hosts(targets: tuple[str, ...]) -> bool:
    return all("://" in x for x in targets)


def _path(target: str) -> str:
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return target
    if "://" not in target:
        return target
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _shown(targets: tuple[str, ...]) -> str:
    """Targets for a message: secrets masked, at most a few, each cut at 120 characters."""
    shown = [redact_text(t)[:120] for t in targets[:_SHOWN_NAMES]]
    more = len(targets) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
