"""CPU profiles: detect a file's format by its content and read it into a ``Profile``.

Formats (docs/formats.md §2): speedscope JSON, collapsed/folded stacks, Chrome/Node
``.cpuprofile`` and pprof ``profile.proto`` (gzipped or not). Each reader is one module with one
entry point, ``read_<format>(data, source) -> Profile``; this module holds what they share: the
table that collects frames and unique stacks, and the reading of py-spy's sampling mode.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from itertools import chain
from os import PathLike

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, FrameKind, Measures, Profile
from throughput_expert.sources import read_bytes, read_json

__all__ = ["UNKNOWN_FORMAT", "load_profile"]

UNKNOWN_FORMAT = (
    "unknown profile format (expected speedscope, collapsed stacks, .cpuprofile or pprof)"
)
GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 1 << 20
# py-spy samples every thread at every tick with --idle: threads within this share of the
# busiest one's sample count are taken as sampled at every tick.
IDLE_EVEN_SHARE = 0.9

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
    source = str(path)
    profile = _detect_and_read(read_bytes(path), source)
    if measures is None or measures == profile.measures:
        return profile
    return dataclasses.replace(
        profile,
        measures=measures,
        idle_included=profile.idle_included or measures == "wall",
        notes=(*profile.notes, f"values taken to measure {measures}, as the caller said"),
    )


def _detect_and_read(data: bytes, source: str) -> Profile:
    from throughput_expert.sources.profiles import collapsed, pprof

    if data.startswith(GZIP_MAGIC):
        return pprof.read_pprof(data, source)
    head = _text_head(data)
    if head is not None and head.lstrip()[:1] == "{":
        return _read_json_profile(_text(data, source), source)
    if head is not None and collapsed.looks_collapsed(head):
        return collapsed.read_collapsed(data, source)
    if pprof.looks_like_pprof(data):
        return pprof.read_pprof(data, source)
    raise InputError(UNKNOWN_FORMAT, source=source)


def _text_head(data: bytes) -> str | None:
    """The file's first bytes as text (up to a whole line), or None if they are not UTF-8."""
    head = data[:HEAD_BYTES]
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The cut may split the last character in two: that alone is no reason to call it binary.
        if len(data) > HEAD_BYTES and exc.reason == "unexpected end of data":
            return head[: exc.start].decode("utf-8-sig")
        return None


def _text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=source) from None


def _read_json_profile(text: str, source: str) -> Profile:
    from throughput_expert.sources.profiles import cpuprofile, speedscope

    doc = read_json(text, source)
    if isinstance(doc, dict) and ("profiles" in doc or "shared" in doc):
        return speedscope.read_speedscope(doc, source)
    if isinstance(doc, dict) and "nodes" in doc and "samples" in doc:
        return cpuprofile.read_cpuprofile(doc, source)
    raise InputError(UNKNOWN_FORMAT, source=source)


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
    reading an even spread as ``--idle`` is safe either way.
    """
    counts = [c for key, c in per_thread.items() if key is not None]
    if len(counts) >= 2 and min(counts) >= IDLE_EVEN_SHARE * max(counts) > 0:
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
