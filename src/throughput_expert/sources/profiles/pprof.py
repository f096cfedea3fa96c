"""pprof ``profile.proto`` (docs/formats.md §2.5), gzipped or not, with a small protobuf decoder.

The decoder reads the wire format directly (varints, length-delimited fields, packed and
unpacked repeated fields, in any order; unknown fields skipped) and trusts nothing: truncated
varints, lengths past the end, ids missing from their tables and string indices out of range are
one-line ``InputError``s, and decompression stops at ``MAX_DECOMPRESSED`` bytes.

Which value is read depends on the profile: on-CPU nanoseconds for a cpu profile, delay for a
mutex or block profile (the mutex profile charges it to the unlocker, the block profile to the
waiter), allocated bytes for heap/allocs, goroutine counts for a goroutine profile (a ``snapshot``).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, Measures, Profile, ProfileUnit
from throughput_expert.model.records import InputRef
from throughput_expert.sources.profiles import GZIP_MAGIC, StackTable, kind_from_file

__all__ = ["MAX_DECOMPRESSED", "looks_like_pprof", "read_pprof"]

MAX_DECOMPRESSED = 1 << 30
SIGN_BIT = 1 << 63
FieldValue = int | bytes
Line = tuple[int, int]  # (function id, line number)
FunctionRow = tuple[int, int]  # (name, filename) string indices

# (sample type, unit) -> (our unit, what it measures), in order of preference.
PREFERRED: tuple[tuple[tuple[str, str], tuple[ProfileUnit, Measures]], ...] = (
    (("cpu", "nanoseconds"), ("nanoseconds", "cpu")),
    (("wall", "nanoseconds"), ("nanoseconds", "wall")),
    (("delay", "nanoseconds"), ("nanoseconds", "block-delay")),
    (("alloc_space", "bytes"), ("bytes", "alloc")),
    (("inuse_space", "bytes"), ("bytes", "alloc")),
    (("goroutine", "count"), ("count", "snapshot")),
    (("contentions", "count"), ("count", "contentions")),
    (("samples", "count"), ("samples", "cpu")),
)
UNITS: Mapping[str, ProfileUnit] = {
    "nanoseconds": "nanoseconds",
    "microseconds": "microseconds",
    "milliseconds": "milliseconds",
    "seconds": "seconds",
    "bytes": "bytes",
    "count": "count",
}
UNLOCKS = (".Unlock", ".RUnlock", "runtime.unlock")
NOTES: Mapping[str, str] = {
    "cpu": "pprof cpu profile: values are nanoseconds on CPU; blocked goroutines do not appear",
    "mutex-delay": "Go mutex profile: values are nanoseconds of delay charged to the unlocking "
    "stack (the holder that made others wait), not to the waiters",
    "block-delay": "Go block profile: values are nanoseconds goroutines spent blocked, charged "
    "to the waiting stack",
    "alloc": "pprof heap/allocs profile: values are bytes allocated (alloc_space)",
    "contentions": "values are counts of contention events",
    "wall": "pprof wall profile: values are nanoseconds of wall time, waiting included",
    "snapshot": "Go goroutine profile: values are goroutines at one instant, by stack (a "
    "snapshot, not time: the goroutine that wrote it is the profiler itself)",
}


class WireError(Exception):
    """Malformed protobuf; becomes an ``InputError`` at the module's edge."""


@dataclass
class _Raw:
    """The decoded ``Profile`` message, still in pprof's terms."""

    sample_types: list[tuple[int, int]] = field(default_factory=list)
    samples: list[bytes] = field(default_factory=list)
    locations: dict[int, tuple[list[Line], int]] = field(default_factory=dict)
    functions: dict[int, FunctionRow] = field(default_factory=dict)
    strings: list[bytes] = field(default_factory=list)
    ints: dict[int, int] = field(default_factory=dict)
    period_type: tuple[int, int] | None = None


def looks_like_pprof(data: bytes) -> bool:
    """True when ``data`` (not gzipped) decodes as a pprof Profile with sample types."""
    try:
        return bool(_decode(data).sample_types)
    except WireError:
        return False


def read_pprof(data: bytes, source: str) -> Profile:
    """A ``Profile`` from a pprof file's bytes (gzipped or plain protobuf)."""
    raw_bytes = _gunzip(data, source) if data.startswith(GZIP_MAGIC) else data
    try:
        raw = _decode(raw_bytes)
        if not raw.sample_types:
            raise WireError("no sample types: not a pprof profile")
        return _build(raw, source)
    except WireError as exc:
        raise InputError(f"not a valid pprof profile: {exc}", source=source) from None


def _gunzip(data: bytes, source: str) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED + 1)
    except zlib.error as exc:
        raise InputError(f"not a valid gzip stream: {exc}", source=source) from None
    if len(out) > MAX_DECOMPRESSED:
        raise InputError(
            f"decompresses to more than {MAX_DECOMPRESSED >> 20} MiB", source=source
        ) from None
    if not inflater.eof:
        raise InputError("truncated gzip stream", source=source)
    return out


# --- the wire format --------------------------------------------------------------------------


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while pos < end:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")
    raise WireError("truncated varint")


def _fields(buf: bytes, pos: int = 0, end: int | None = None) -> Iterator[tuple[int, FieldValue]]:
    """(field number, value) pairs: an int for varints and fixed fields, bytes otherwise."""
    end = len(buf) if end is None else end
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield number, value
        elif wire == 2:
            size, pos = _varint(buf, pos, end)
            if pos + size > end:
                raise WireError(f"field {number} runs past the end of its message")
            yield number, buf[pos : pos + size]
            pos += size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > end:
                raise WireError(f"field {number} runs past the end of its message")
            yield number, int.from_bytes(buf[pos : pos + width], "little")
            pos += width
        else:
            raise WireError(f"unsupported wire type {wire} in field {number}")


def _ints(value: FieldValue) -> list[int]:
    """A repeated integer field: one unpacked value, or a packed run of varints."""
    if isinstance(value, int):
        return [value]
    if value and max(value) < 0x80:
        return list(value)  # every varint is one byte: the bytes are the values
    out: list[int] = []
    pos, end = 0, len(value)
    while pos < end:
        number, pos = _varint(value, pos, end)
        out.append(number)
    return out


def _message(value: FieldValue, what: str) -> bytes:
    if isinstance(value, int):
        raise WireError(f"{what} is not a message")
    return value


def _int(value: FieldValue, what: str) -> int:
    if not isinstance(value, int):
        raise WireError(f"{what} is not an integer")
    return value


# --- the Profile message ------------------------------------------------------------------------


def _decode(buf: bytes) -> _Raw:
    raw = _Raw()
    for number, value in _fields(buf):
        if number == 2:
            raw.samples.append(_message(value, "sample"))
        elif number == 6:
            raw.strings.append(_message(value, "string_table"))
        elif number == 1:
            raw.sample_types.append(_value_type(_message(value, "sample_type")))
        elif number == 4:
            loc_id, lines, address = _location(_message(value, "location"))
            raw.locations[loc_id] = (lines, address)
        elif number == 5:
            fn_id, row = _function(_message(value, "function"))
            raw.functions[fn_id] = row
        elif number == 11:
            raw.period_type = _value_type(_message(value, "period_type"))
        elif number in (9, 10, 12, 14):
            raw.ints[number] = _int(value, f"field {number}")
    return raw


def _value_type(buf: bytes) -> tuple[int, int]:
    parts = {n: _int(v, "ValueType") for n, v in _fields(buf) if n in (1, 2)}
    return parts.get(1, 0), parts.get(2, 0)


def _location(buf: bytes) -> tuple[int, list[Line], int]:
    loc_id = address = 0
    lines: list[Line] = []
    for number, value in _fields(buf):
        if number == 1:
            loc_id = _int(value, "location id")
        elif number == 3:
            address = _int(value, "location address")
        elif number == 4:
            parts = {n: _int(v, "Line") for n, v in _fields(_message(value, "line")) if n in (1, 2)}
            lines.append((parts.get(1, 0), parts.get(2, 0)))
    return loc_id, lines, address


def _function(buf: bytes) -> tuple[int, FunctionRow]:
    parts = {n: _int(v, "Function") for n, v in _fields(buf) if n in (1, 2, 4)}
    return parts.get(1, 0), (parts.get(2, 0), parts.get(4, 0))


def _sample(buf: bytes) -> tuple[tuple[int, ...], list[int]]:
    locations: list[int] = []
    values: list[int] = []
    for number, value in _fields(buf):
        if number == 1:
            locations.extend(_ints(value))
        elif number == 2:
            values.extend(_ints(value))
    return tuple(locations), values


# --- from pprof's tables to a Profile -------------------------------------------------------------


def _build(raw: _Raw, source: str) -> Profile:
    strings = _Strings(raw.strings)
    types = [(strings[t], strings[u]) for t, u in raw.sample_types]
    index, unit, measures = _choose(types, raw.ints.get(14, 0), strings)
    frames = _Frames(raw, strings)
    table = StackTable()
    for message, times in Counter(raw.samples).items():
        locations, values = _sample(message)
        if len(values) != len(types):
            raise WireError(f"a sample has {len(values)} values for {len(types)} sample types")
        value = values[index]
        if value >= SIGN_BIT:
            raise WireError("negative sample value (a diff profile?)")
        table.add(frames.stack(locations, table), float(value * times))
    if measures == "block-delay" and _charges_unlocker(table):
        measures = "mutex-delay"
    return _profile(table, raw, types, index, unit, measures, strings, source)


class _Strings:
    """The string table, decoded on use; index 0 is the empty string."""

    def __init__(self, table: list[bytes]) -> None:
        self.table = table
        self.cache: dict[int, str] = {}

    def __getitem__(self, index: int) -> str:
        text = self.cache.get(index)
        if text is None:
            if not 0 <= index < len(self.table):
                raise WireError(f"string index {index} outside the string table")
            text = self.cache[index] = self.table[index].decode("utf-8", "replace")
        return text


class _Frames:
    """Locations expanded to frames: a location's ``line[]`` lists inlined frames first."""

    def __init__(self, raw: _Raw, strings: _Strings) -> None:
        self.raw = raw
        self.strings = strings
        self.by_location: dict[int, tuple[int, ...]] = {}
        self.by_stack: dict[tuple[int, ...], tuple[int, ...]] = {}

    def stack(self, leaf_first: tuple[int, ...], table: StackTable) -> tuple[int, ...]:
        stack = self.by_stack.get(leaf_first)
        if stack is None:
            parts = [self._location(loc, table) for loc in reversed(leaf_first)]
            stack = self.by_stack[leaf_first] = tuple(i for part in parts for i in part)
        return stack

    def _location(self, loc_id: int, table: StackTable) -> tuple[int, ...]:
        frames = self.by_location.get(loc_id)
        if frames is None:
            if loc_id not in self.raw.locations:
                raise WireError(f"location {loc_id} is not in the location table")
            lines, address = self.raw.locations[loc_id]
            rows = [self._frame(fn, line) for fn, line in reversed(lines)]
            rows = rows or [Frame(f"0x{address:x}", kind="native")]
            frames = self.by_location[loc_id] = tuple(table.frame(f) for f in rows)
        return frames

    def _frame(self, function_id: int, line: int) -> Frame:
        if function_id not in self.raw.functions:
            raise WireError(f"function {function_id} is not in the function table")
        name, filename = self.raw.functions[function_id]
        file = self.strings[filename] or None
        return Frame(self.strings[name], file, line or None, kind_from_file(file))


def _choose(
    types: list[tuple[str, str]], default: int, strings: _Strings
) -> tuple[int, ProfileUnit, Measures]:
    """The value index to read, its unit and what it measures."""
    for wanted, (unit, measures) in PREFERRED:
        if wanted in types:
            return types.index(wanted), unit, measures
    name = strings[default] if default else ""
    names = [t for t, _ in types]
    index = names.index(name) if name in names else len(types) - 1
    return index, UNITS.get(types[index][1], "count"), "unknown"


def _charges_unlocker(table: StackTable) -> bool:
    """A delay profile whose stacks end in an unlock is Go's mutex profile, else a block one."""
    leaves = {stack[-1] for stack, _ in table.totals if stack}
    return any(table.frames[i].name.endswith(UNLOCKS) for i in leaves)


def _profile(
    table: StackTable,
    raw: _Raw,
    types: list[tuple[str, str]],
    index: int,
    unit: ProfileUnit,
    measures: Measures,
    strings: _Strings,
    source: str,
) -> Profile:
    frames, stacks, weights, threads = table.columns()
    period = raw.ints.get(12, 0)
    period_type = [strings[i] for i in raw.period_type] if raw.period_type else []
    read = "/".join(types[index])
    notes = [f"read sample type {read} of {', '.join('/'.join(t) for t in types)}"]
    notes.append(NOTES.get(measures, f"values are {read}; what they measure is not known"))
    go = any(f.kind == "go" for f in frames)
    return Profile(
        frames=frames,
        stacks=stacks,
        weights=weights,
        threads=threads,
        unit=unit,
        measures=measures,
        format="pprof",
        source=InputRef(source=source, kind="profile", detail=f"pprof, {read}"),
        exporter="go" if go else None,
        sample_period_s=period / 1e9 if period and period_type[1:] == ["nanoseconds"] else None,
        duration_s=raw.ints[10] / 1e9 if raw.ints.get(10) else None,
        notes=tuple(notes),
    )
