"""CPU profiles: detect a file's format by its content and read it into a ``Profile``.

Formats (docs/formats.md §2): speedscope JSON, collapsed/folded stacks, Chrome/Node
``.cpuprofile``, pprof ``profile.proto`` (gzipped or not) and Java thread dumps (jstack). Each
reader is one module with one entry point, ``read_<format>(data, source) -> Profile``;
``FORMATS`` is the table of ``(name, detect, read)`` that ``load_profile`` tries in order. This
module also holds what the readers share: the table that collects frames and unique stacks, and
the reading of py-spy's sampling mode.
"""

from __future__ import annotations

import dataclasses
import math
import os
import statistics
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from itertools import chain
from os import PathLike
from typing import Any

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, FrameKind, Measures, Profile
from throughput_expert.sources.files import read_bytes, read_head, read_json

__all__ = [
    "FORMATS",
    "UNKNOWN_FORMAT",
    "ProfileFile",
    "ProfileFormat",
    "checked",
    "detect_format",
    "load_profile",
]

UNKNOWN_FORMAT = (
    "unknown profile format (expected speedscope, collapsed stacks, .cpuprofile, pprof or a "
    "Java thread dump)"
)
GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 1 << 20
# py-spy samples every thread at every tick with --idle: threads within this share of the
# busiest one's sample count are taken as sampled at every tick.
IDLE_EVEN_SHARE = 0.9
# What a recording's numbers may be: weights summing below 2^63 (an int64 count or time in any
# unit), a duration and a sampling period of at most a year.
MAX_TOTAL_WEIGHT = 2.0**63
MAX_SECONDS = 365.25 * 86400

StackKey = tuple[tuple[int, ...], str | None]
FILE_KINDS: Mapping[str, FrameKind] = {
    "c": "native",
    "cc": "native",
    "cpp": "native",
    "h": "native",
    "rs": "native",
    "go": "go",
    "java": "java",
    "kt": "java",
    "scala": "java",
    "js": "js",
    "mjs": "js",
    "cjs": "js",
    "ts": "js",
}


def load_profile(path: str | PathLike[str], *, measures: Measures | None = None) -> Profile:
    """Read one profile file, whatever its format (detected from content, not the name).

    ``measures`` overrides what the values are taken to measure, for formats that do not say
    (e.g. ``"gil"`` for a py-spy ``--gil`` recording, ``"wall"`` for ``--idle``).
    """
    profile = _read_file(path)
    if measures is None or measures == profile.measures:
        return profile
    return dataclasses.replace(
        profile,
        measures=measures,
        idle_included=profile.idle_included or measures == "wall",
        notes=(*profile.notes, f"values taken to measure {measures}, as the caller said"),
    )


def _read_file(path: str | PathLike[str]) -> Profile:
    """Detect from the file's head; collapsed stacks are read as a stream (no size cap), every
    other format whole (up to ``MAX_FILE_BYTES``). A pipe is read whole: it cannot be read
    twice."""
    source = str(path)
    if not os.path.isfile(path):  # a pipe or a device is read once, whole, as it comes
        file = ProfileFile(read_bytes(path), source)
        return detect_format(file).read(file)
    head = read_head(path, HEAD_BYTES + 1)
    if len(head) > HEAD_BYTES and _streams(ProfileFile(head, source)):
        from throughput_expert.sources.profiles import collapsed

        return checked(collapsed.read_collapsed_file(path, source))
    file = ProfileFile(head if len(head) <= HEAD_BYTES else read_bytes(path), source)
    return detect_format(file).read(file)


def _streams(probe: ProfileFile) -> bool:
    """Whether a file whose head is ``probe`` is collapsed stacks: the formats tried before
    collapsed in ``FORMATS`` are told by their head (gzip's magic, a JSON object, a dump's
    header), so the head decides as the whole file would."""
    return (
        not probe.is_gzip and not probe.is_json and not _is_jstack(probe) and _is_collapsed(probe)
    )


@dataclasses.dataclass
class ProfileFile:
    """One profile file's bytes; its text head and its JSON are worked out on first use, once."""

    data: bytes
    source: str

    @cached_property
    def head(self) -> str | None:
        """The first bytes as text (up to a whole line), or None if they are not UTF-8."""
        head = self.data[:HEAD_BYTES]
        try:
            return head.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            # The cut may split the last character in two: no reason to call it binary.
            if len(self.data) > HEAD_BYTES and exc.reason == "unexpected end of data":
                return head[: exc.start].decode("utf-8-sig")
            return None

    @cached_property
    def is_json(self) -> bool:
        """Text that starts with ``{`` (gzip never is): read as JSON or not at all."""
        return not self.is_gzip and self.head is not None and self.head.lstrip()[:1] == "{"

    @property
    def is_gzip(self) -> bool:
        return self.data.startswith(GZIP_MAGIC)

    @cached_property
    def json_object(self) -> dict[str, Any] | None:
        """The file's JSON if the file is JSON and that is an object, else None."""
        if not self.is_json:
            return None
        try:
            text = self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte {exc.start})", source=self.source) from None
        doc = read_json(text, self.source)
        return doc if isinstance(doc, dict) else None


@dataclasses.dataclass(frozen=True)
class ProfileFormat:
    """One format: its name, whether a file is in it, and how to read the file."""

    name: str
    detect: Callable[[ProfileFile], bool]
    read: Callable[[ProfileFile], Profile]


def detect_format(file: ProfileFile) -> ProfileFormat:
    """The first format of ``FORMATS`` that accepts ``file``; ``InputError`` if none does."""
    for fmt in FORMATS:
        if fmt.detect(file):
            return fmt
    raise InputError(UNKNOWN_FORMAT, source=file.source)


def _is_gzip(file: ProfileFile) -> bool:
    return file.is_gzip


def _read_pprof(file: ProfileFile) -> Profile:
    from throughput_expert.sources.profiles import pprof

    return pprof.read_pprof(file.data, file.source)


def _is_speedscope(file: ProfileFile) -> bool:
    doc = file.json_object
    return doc is not None and ("profiles" in doc or "shared" in doc)


def _read_speedscope(file: ProfileFile) -> Profile:
    from throughput_expert.sources.profiles import speedscope

    return speedscope.read_speedscope(_object(file), file.source)


def _is_cpuprofile(file: ProfileFile) -> bool:
    doc = file.json_object
    return doc is not None and "nodes" in doc and "samples" in doc


def _read_cpuprofile(file: ProfileFile) -> Profile:
    from throughput_expert.sources.profiles import cpuprofile

    return cpuprofile.read_cpuprofile(_object(file), file.source)


def _object(file: ProfileFile) -> dict[str, Any]:
    if file.json_object is None:
        raise InputError(UNKNOWN_FORMAT, source=file.source)
    return file.json_object


def _is_collapsed(file: ProfileFile) -> bool:
    from throughput_expert.sources.profiles import collapsed

    return file.head is not None and not file.is_json and collapsed.looks_collapsed(file.head)


def _read_collapsed(file: ProfileFile) -> Profile:
    from throughput_expert.sources.profiles import collapsed

    return collapsed.read_collapsed(file.data, file.source)


def _is_jstack(file: ProfileFile) -> bool:
    from throughput_expert.sources.profiles import jstack

    return file.head is not None and not file.is_json and jstack.looks_like_jstack(file.head)


def _read_jstack(file: ProfileFile) -> Profile:
    from throughput_expert.sources.profiles import jstack

    return jstack.read_jstack(file.data, file.source)


def _is_pprof(file: ProfileFile) -> bool:
    from throughput_expert.sources.profiles import pprof

    return not file.is_json and pprof.looks_like_pprof(file.data)


def checked(profile: Profile) -> Profile:
    """``profile`` if its numbers are within what a recording can hold, else ``InputError``:
    every weight finite and non-negative, their sum below 2^63 (a count or a time in any unit,
    as int64 holds it), the duration and the sampling period from 0 to a year. Every reader's
    profile passes here, so nothing downstream meets inf, NaN or an absurd magnitude."""
    source = profile.source.source
    total = check_weights(list(profile.weights), source, "weights")
    if not total < MAX_TOTAL_WEIGHT:
        raise InputError(
            f"the weights sum to {total:.3g} {profile.unit}: beyond 2^63", source=source
        )
    for name, value in (
        ("duration", profile.duration_s),
        ("sampling period", profile.sample_period_s),
    ):
        if value is not None and not 0 <= value <= MAX_SECONDS:
            raise InputError(
                f"the {name} is {value:.3g} s: not from 0 to a year ({MAX_SECONDS:g} s)",
                source=source,
            )
    return profile


def _checked(read: Callable[[ProfileFile], Profile]) -> Callable[[ProfileFile], Profile]:
    return lambda file: checked(read(file))


FORMATS: tuple[ProfileFormat, ...] = (
    ProfileFormat("pprof, gzipped", _is_gzip, _checked(_read_pprof)),
    ProfileFormat("speedscope JSON", _is_speedscope, _checked(_read_speedscope)),
    ProfileFormat("Chrome/Node .cpuprofile", _is_cpuprofile, _checked(_read_cpuprofile)),
    ProfileFormat("Java thread dump (jstack)", _is_jstack, _checked(_read_jstack)),
    ProfileFormat("collapsed stacks", _is_collapsed, _checked(_read_collapsed)),
    ProfileFormat("pprof", _is_pprof, _checked(_read_pprof)),
)


class StackTable:
    """Frames (each stored once) and unique ``(stack, thread)`` pairs with summed weights."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self._frame_ids: dict[Frame, int] = {}
        self.totals: dict[StackKey, float] = {}
        self.thread_names: dict[str, str] = {}

    def frame(self, frame: Frame) -> int:
        """The index of ``frame`` in the table, adding it if new."""
        index = self._frame_ids.get(frame)
        if index is None:
            index = self._frame_ids[frame] = len(self.frames)
            self.frames.append(frame)
        return index

    def add(self, stack: tuple[int, ...], weight: float, thread: str | None = None) -> None:
        key = (stack, thread)
        self.totals[key] = self.totals.get(key, 0.0) + weight

    def name_thread(self, key: str, name: str) -> None:
        """Remember a thread's name; a non-empty name wins over an empty one."""
        if name or key not in self.thread_names:
            self.thread_names[key] = name

    def columns(
        self,
    ) -> tuple[
        tuple[Frame, ...], tuple[tuple[int, ...], ...], tuple[float, ...], tuple[str | None, ...]
    ]:
        """frames, stacks, weights and threads, ready for a ``Profile``."""
        keys = tuple(self.totals)
        return (
            tuple(self.frames),
            tuple(stack for stack, _ in keys),
            tuple(self.totals.values()),
            tuple(thread for _, thread in keys),
        )

    def thread_totals(self) -> dict[str | None, float]:
        """The summed weight of each thread."""
        out: dict[str | None, float] = {}
        for (_, thread), weight in self.totals.items():
            out[thread] = out.get(thread, 0.0) + weight
        return out


def pyspy_mode(per_thread: Mapping[str | None, float]) -> tuple[Measures, bool, str]:
    """What a py-spy recording measures, read from its per-thread sample counts.

    py-spy's files do not record its flags. With ``--idle`` every thread is sampled at every
    tick, so all threads have about the same count; without it, waiting threads lose their
    samples. Where every thread was sampled at every tick, on-CPU and wall time coincide, so
    reading an even spread as ``--idle`` is safe either way. The spread is measured against the
    median thread, not the busiest: the main thread is sampled from the interpreter's start,
    before the workers it starts exist (on a loaded machine, a tenth of a short recording).
    """
    counts = [c for key, c in per_thread.items() if key is not None]
    if len(counts) >= 2 and min(counts) >= IDLE_EVEN_SHARE * statistics.median(counts) > 0:
        return "wall", True, "py-spy: every thread has a sample at about every tick: read as --idle"
    return (
        "cpu",
        False,
        "py-spy: assumed recorded without --idle (on-CPU samples only): the file does not say; "
        "waiting threads lose their samples",
    )


def kind_from_file(file: str | None) -> FrameKind:
    """A frame's kind from its file name, where the extension tells."""
    if not file:
        return "unknown"
    if file.endswith(".py") or file.startswith("<"):
        return "python"
    if ".so." in file or file.endswith((".so", ".dll", ".dylib")):
        return "native"
    return FILE_KINDS.get(file.rpartition(".")[2], "unknown")


def check_weights(weights: list[object], source: str, where: str) -> float:
    """The sum of weights that must all be finite, non-negative numbers."""
    try:
        total = math.fsum(weights)  # type: ignore[arg-type]
        lowest = min(weights, default=0.0)  # type: ignore[type-var]
    except (TypeError, ValueError, OverflowError):
        raise InputError("weights must all be numbers", source=source, field=where) from None
    if not math.isfinite(total) or lowest < 0:  # type: ignore[operator]
        raise InputError(
            "weights must be finite and non-negative", source=source, field=where
        ) from None
    return total


def check_stacks(stacks: Iterable[tuple[object, ...]], size: int, source: str, where: str) -> None:
    """Every frame index is an int within a frame table of ``size`` entries."""
    indices = list(chain.from_iterable(stacks))
    if not indices:
        return
    if set(map(type, indices)) != {int}:
        raise InputError("frame indices must be integers", source=source, field=where)
    low, high = min(indices), max(indices)  # type: ignore[type-var]
    if low < 0 or high >= size:  # type: ignore[operator]
        bad = low if low < 0 else high  # type: ignore[operator]
        raise InputError(
            f"frame index {bad} is outside the frame table ({size} frames)",
            source=source,
            field=where,
        )
