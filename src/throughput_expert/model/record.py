"""Typed analysis records: frozen dataclasses holding SI values, and the one serializer.

Every command's ``Report.analysis`` is a record (``model/analysis/``). A record holds numbers
in SI units — seconds, per second, fractions — and says, field by field, how its JSON form shows
them: ``measure("ms")`` on a field ``latency`` holding seconds writes ``"latency_ms"`` with the
value × 1000. This module is the only place that converts: advisors store SI values, renderers
format them (``model/units.py``), and neither multiplies by 1e3 or 100.

Three functions over any record class:

- ``dump(record)``: its JSON form (keys with their unit suffix, floats rounded to 6 significant
  digits, non-finite floats as ``null``);
- ``load(cls, data, source=...)``: the record back from its JSON form, checked field by field (a
  saved report is input like any other: a wrong type is ``SOURCE: analysis.FIELD: expected …``);
- ``json_schema(cls)``: the JSON Schema its JSON form obeys (``additionalProperties: false``,
  every key that is always written required).

Field types understood: ``float``, ``int``, ``bool``, ``str``, ``Literal[...]``, ``X | None``,
``tuple[X, ...]``, ``Mapping[str, X]``, nested records, and ``Any`` (free JSON, for the few
values whose shape is the caller's: a finding's values, an evidence's inputs).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union

from throughput_expert.errors import InputError

__all__ = ["UNITS", "dump", "item", "json_schema", "load", "measure"]

# unit: (JSON key suffix, factor from the SI value to the JSON value, what the JSON value is)
UNITS: Mapping[str, tuple[str, float, str]] = {
    "ms": ("_ms", 1e3, "milliseconds"),
    "us": ("_us", 1e6, "microseconds"),
    "s": ("_s", 1.0, "seconds"),
    "pct": ("_pct", 100.0, "percent"),
    "rps": ("_rps", 1.0, "per second"),
}

_MISSING = dataclasses.MISSING


def measure(
    unit: str,
    *,
    key: str | None = None,
    default: Any = _MISSING,
    omit_none: bool = False,
    doc: str = "",
) -> Any:
    """A field holding an SI value shown in ``unit`` (a key of ``UNITS``); its JSON key is the
    field's name plus the unit's suffix unless ``key`` names it."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    return item(key=key, default=default, omit_none=omit_none, doc=doc, unit=unit)


def item(
    *,
    key: str | None = None,
    default: Any = _MISSING,
    omit_none: bool = False,
    doc: str = "",
    unit: str | None = None,
) -> Any:
    """A field whose JSON key is ``key`` (default: its name); ``omit_none`` leaves the key out
    when the value is None (else ``null`` is written)."""
    meta = {"key": key, "omit_none": omit_none, "doc": doc, "unit": unit}
    if default is _MISSING and omit_none:
        default = None
    if isinstance(default, list | dict | set):
        raise ValueError("a mutable default: use a tuple or a Mapping proxy")
    return dataclasses.field(default=default, metadata=meta)


# -- introspection, once per class -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    key: str
    type: Any
    factor: float
    unit: str | None
    omit_none: bool
    required: bool
    default: Any
    doc: str


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def _fields(cls: type) -> tuple[_Field, ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = _read_fields(cls)
    return found


def _read_fields(cls: type) -> tuple[_Field, ...]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"not a record: {cls!r}")
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        unit = meta.get("unit")
        suffix, factor, _ = UNITS[unit] if unit else ("", 1.0, "")
        key = meta.get("key") or f.name + suffix
        has_default = f.default is not _MISSING or f.default_factory is not _MISSING
        default = f.default if f.default is not _MISSING else _MISSING
        if f.default_factory is not _MISSING:
            default = f.default_factory()
        out.append(
            _Field(
                name=f.name,
                key=key,
                type=hints[f.name],
                factor=factor,
                unit=unit,
                omit_none=bool(meta.get("omit_none")),
                required=not has_default,
                default=default,
                doc=str(meta.get("doc") or ""),
            )
        )
    keys = [f.key for f in out]
    if len(set(keys)) != len(keys):
        raise TypeError(f"{cls.__name__}: two fields write the same key")
    return tuple(out)


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


# -- dump --------------------------------------------------------------------------------------


def dump(record: Any) -> dict[str, Any]:
    """The record's JSON form."""
    out: dict[str, Any] = {}
    for f in _fields(type(record)):
        value = getattr(record, f.name)
        if value is None and f.omit_none:
            continue
        out[f.key] = _dump_value(value, f.factor)
    return out


def _dump_value(value: Any, factor: float) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if factor == 1.0 else _number(value * factor)
    if isinstance(value, float):
        return _number(value * factor)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dump(value)
    if isinstance(value, Mapping):
        return {str(k): _dump_value(v, factor) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_dump_value(v, factor) for v in value]
    if hasattr(value, "item"):  # a numpy scalar
        return _dump_value(value.item(), factor)
    raise TypeError(f"not JSON data: {type(value).__name__}")


def _number(value: float) -> float | None:
    if not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


# -- load --------------------------------------------------------------------------------------


def load(cls: type[Any], data: Any, *, source: str, path: str = "analysis") -> Any:
    """The record of ``cls`` from its JSON form; a wrong shape is an ``InputError`` naming the
    key (``analysis.headroom.ceiling_rps``)."""
    if not isinstance(data, Mapping):
        raise InputError(f"expected an object, got {_kind(data)}", source=source, field=path)
    fields = _fields(cls)
    known = {f.key for f in fields}
    extra = [k for k in data if k not in known]
    if extra:
        raise InputError(f"unknown key {str(extra[0])[:60]!r}", source=source, field=path)
    values: dict[str, Any] = {}
    for f in fields:
        where = f"{path}.{f.key}"
        if f.key not in data:
            if f.required and not f.omit_none:
                raise InputError("missing", source=source, field=where)
            continue
        values[f.name] = _load_value(f.type, data[f.key], f.factor, source, where)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a record's own check (__post_init__)
        raise InputError(str(exc)[:200], source=source, field=path) from None


def _load_value(tp: Any, value: Any, factor: float, source: str, path: str) -> Any:
    if tp is Any:
        return value
    arms = _union_args(tp)
    if arms is not None:
        if value is None and type(None) in arms:
            return None
        errors: list[InputError] = []
        for arm in arms:
            if arm is type(None):
                continue
            try:
                return _load_value(arm, value, factor, source, path)
            except InputError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise InputError(f"expected {_describe(tp)}, got {_kind(value)}", source=source, field=path)
    if _is_record(tp):
        return load(tp, value, source=source, path=path)
    origin = typing.get_origin(tp)
    if origin is Literal:
        if value in typing.get_args(tp) and not isinstance(value, bool):
            return value
        choices = ", ".join(repr(a) for a in typing.get_args(tp))
        raise InputError(f"expected one of {choices}", source=source, field=path)
    if origin in (tuple, Sequence, list):
        if not isinstance(value, list):
            raise InputError(f"expected a list, got {_kind(value)}", source=source, field=path)
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:  # a fixed-length tuple
            if len(value) != len(args):
                raise InputError(f"expected {len(args)} items", source=source, field=path)
            return tuple(
                _load_value(a, v, factor, source, f"{path}[{i}]")
                for i, (a, v) in enumerate(zip(args, value, strict=True))
            )
        inner = args[0] if args else Any
        return tuple(
            _load_value(inner, v, factor, source, f"{path}[{i}]") for i, v in enumerate(value)
        )
    if origin in (Mapping, dict) or tp is dict:
        if not isinstance(value, Mapping):
            raise InputError(f"expected an object, got {_kind(value)}", source=source, field=path)
        inner = typing.get_args(tp)[1] if typing.get_args(tp) else Any
        return {
            str(k): _load_value(inner, v, factor, source, f"{path}.{k}") for k, v in value.items()
        }
    if tp is float:
        if value is None:  # a non-finite value is written as null
            return math.nan
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) / factor
        raise InputError(f"expected a number, got {_kind(value)}", source=source, field=path)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value if factor == 1.0 else value / factor
        raise InputError(f"expected a whole number, got {_kind(value)}", source=source, field=path)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise InputError(f"expected true or false, got {_kind(value)}", source=source, field=path)
    if tp is str:
        if isinstance(value, str):
            return value
        raise InputError(f"expected text, got {_kind(value)}", source=source, field=path)
    raise TypeError(f"{path}: a record field of an unsupported type {tp!r}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _describe(tp: Any) -> str:
    arms = _union_args(tp) or (tp,)
    names = {float: "a number", int: "a whole number", bool: "true or false", str: "text"}
    said = []
    for arm in arms:
        if arm is type(None):
            said.append("null")
        elif arm in names:
            said.append(names[arm])
        elif _is_record(arm) or typing.get_origin(arm) in (Mapping, dict):
            said.append("an object")
        elif typing.get_origin(arm) in (tuple, Sequence, list):
            said.append("a list")
        elif typing.get_origin(arm) is Literal:
            said.append("one of " + ", ".join(repr(a) for a in typing.get_args(arm)))
        else:
            said.append(str(arm))
    return " or ".join(dict.fromkeys(said))


# -- JSON Schema -------------------------------------------------------------------------------


def json_schema(cls: type[Any], *, title: str | None = None) -> dict[str, Any]:
    """The JSON Schema (2020-12) of ``cls``'s JSON form; nested records go under ``$defs``."""
    defs: dict[str, Any] = {}
    root = _object_schema(cls, defs)
    out: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    if title:
        out["title"] = title
    out.update(root)
    if defs:
        out["$defs"] = dict(sorted(defs.items()))
    return out


def _object_schema(cls: type[Any], defs: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in _fields(cls):
        schema = _type_schema(f.type, defs)
        notes = [n for n in (f.doc, UNITS[f.unit][2] if f.unit else "") if n]
        if notes:
            schema = {**schema, "description": "; ".join(notes)}
        props[f.key] = schema
        if not f.omit_none:
            required.append(f.key)
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    if doc and not doc.startswith(cls.__name__ + "("):
        out["description"] = " ".join(doc.split())
    return out


def _type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if tp is Any:
        return {}
    arms = _union_args(tp)
    if arms is not None:
        return {"anyOf": [_type_schema(a, defs) for a in arms]}
    if tp is type(None):
        return {"type": "null"}
    if _is_record(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            defs[name] = _object_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    origin = typing.get_origin(tp)
    if origin is Literal:
        return {"enum": list(typing.get_args(tp))}
    if origin in (tuple, Sequence, list):
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            items = [_type_schema(a, defs) for a in args]
            return {"type": "array", "prefixItems": items, "minItems": len(args), "items": False}
        return {"type": "array", "items": _type_schema(args[0] if args else Any, defs)}
    if origin in (Mapping, dict) or tp is dict:
        args = typing.get_args(tp)
        return {
            "type": "object",
            "additionalProperties": _type_schema(args[1] if args else Any, defs),
        }
    if tp is float:
        return {"type": ["number", "null"]}  # null: a value that was not finite
    if tp is int:
        return {"type": "integer"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is str:
        return {"type": "string"}
    raise TypeError(f"a record field of an unsupported type {tp!r}")
