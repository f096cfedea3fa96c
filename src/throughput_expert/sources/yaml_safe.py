"""The one YAML loader for files a user (or another program) gives: plain data only.

PyYAML's ``SafeLoader`` builds only plain data (no Python objects), but it still expands
aliases: a "billion laughs" of a few hundred bytes (anchors whose aliases repeat each other)
becomes billions of list items and exhausts memory. So this loader refuses anchors and aliases
outright (``&name`` / ``*name``: no settings or architecture file needs them), nesting deeper
than ``MAX_DEPTH`` (the composer recurses per level), more than ``MAX_NODES`` values, a key
written twice in one mapping, and more than one document. Every
failure, including what PyYAML reports as ``ValueError`` (a date like 2020-02-30, an integer of
more than 4300 digits), is one ``InputError`` naming the file and the line. The size cap is the
caller's: ``read_yaml_file`` reads no more than ``limit`` bytes.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

import yaml

from throughput_expert.errors import InputError
from throughput_expert.model.quantity import echo
from throughput_expert.sources.files import read_text

__all__ = ["MAX_DEPTH", "MAX_NODES", "load_yaml", "read_yaml_file"]

MAX_DEPTH = 64
# Values (scalars, lists, mappings) in one document: they bound the time to build it. The
# packaged data holds a few thousand; an architecture of 1,000 components some 20,000.
MAX_NODES = 50_000


class _PlainDataLoader(yaml.SafeLoader):
    """``SafeLoader`` without anchors, aliases or deep nesting."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.name = source
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            which = "an alias" if isinstance(event, yaml.AliasEvent) else "an anchor"
            raise InputError(
                f"YAML anchors and aliases are not allowed ({which} here): write the value "
                "out in full",
                source=self.name,
                field=_line(event),
            )
        if self._depth >= MAX_DEPTH:
            raise InputError(
                f"nested deeper than {MAX_DEPTH} levels", source=self.name, field=_line(event)
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _too_many(self.name, event)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        return _built(super().construct_object, node, deep, self.name)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        _no_repeated_keys(self, node, self.name)
        return super().construct_mapping(node, deep)


def _too_many(source: str, event: object) -> InputError:
    return InputError(
        f"more than {MAX_NODES:,} values: no settings or architecture file holds so many "
        "(building them would cost seconds)",
        source=source,
        field=_line(event),
    )


def _no_repeated_keys(loader: Any, node: Any, source: str) -> None:
    """A key written twice in one mapping: YAML forbids it, PyYAML keeps the last silently, so
    the first value (say, a component's ``cores``) would vanish without a word."""
    seen: dict[object, Any] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        try:
            first = seen.setdefault(key, key_node)
        except TypeError:  # unhashable: SafeConstructor names it
            continue
        if first is not key_node:
            raise InputError(
                f"the key {echo(key)} appears twice in one mapping (first at {_line(first)}): "
                "YAML keeps only one of them; remove or rename the other",
                source=source,
                field=_line(key_node),
            )


def _built(construct: Any, node: Any, deep: bool, source: str) -> Any:
    try:
        return construct(node, deep)
    except (yaml.YAMLError, InputError, MemoryError):
        raise
    except Exception as exc:  # SafeConstructor's own, on a tagged scalar:
        # datetime(2020, 2, 30), int("9" * 5000), "!!int ''" (IndexError), "!!bool x"
        # (KeyError), "!!timestamp x" (AttributeError)
        raise InputError(
            f"a value YAML cannot read: {_first(exc)}", source=source, field=_line(node)
        ) from None


_FAST = getattr(yaml, "__with_libyaml__", False)


class _FastLoader(yaml.CSafeLoader if _FAST else yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's parser and composer (C: a 600 KB file in a fraction of a second, where the
    pure-Python ones take seconds) with ``SafeConstructor``; run only on text ``_scan`` passed,
    since libyaml's composer neither refuses aliases nor bounds its recursion."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.name = source

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        return _built(super().construct_object, node, deep, self.name)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        _no_repeated_keys(self, node, self.name)
        return super().construct_mapping(node, deep)


def _scan(text: str, source: str) -> None:
    """Refuse anchors, aliases and nesting past ``MAX_DEPTH`` from libyaml's events (a flat
    stream: no recursion), before anything is composed."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise _too_many(source, event)
            if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
                which = "an alias" if isinstance(event, yaml.AliasEvent) else "an anchor"
                raise InputError(
                    f"YAML anchors and aliases are not allowed ({which} here): write the value "
                    "out in full",
                    source=source,
                    field=_line(event),
                )
            if depth >= MAX_DEPTH:
                raise InputError(
                    f"nested deeper than {MAX_DEPTH} levels", source=source, field=_line(event)
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_yaml(text: str, source: str) -> object:
    """One YAML document of plain data (``None`` when empty); ``InputError`` for anything else:
    malformed YAML, an anchor or alias, nesting past ``MAX_DEPTH``, several documents, a value
    PyYAML cannot build."""
    loader: yaml.SafeLoader | None = None
    try:
        if _FAST:
            _scan(text, source)
            loader = _FastLoader(text, source)
        else:
            loader = _PlainDataLoader(text, source)  # the reader checks the characters here
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError(
            f"malformed YAML: {exc.problem or exc.context or 'cannot be parsed'}",
            source=source,
            field=_line(mark),
        ) from None
    except yaml.reader.ReaderError as exc:
        raise InputError(
            f"not YAML text: character {exc.character:#06x} at position {exc.position}: "
            f"{exc.reason}",
            source=source,
        ) from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "cannot be parsed"
        raise InputError(f"malformed YAML: {first}", source=source) from None
    except (ValueError, ArithmeticError, LookupError, TypeError) as exc:  # behind the above
        raise InputError(f"a value YAML cannot read: {_first(exc)}", source=source) from None
    except RecursionError:  # a guard behind MAX_DEPTH
        raise InputError("nested too deeply", source=source) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml_file(path: str | PathLike[str], *, limit: int) -> object:
    """``load_yaml`` of a file's text; no more than ``limit`` bytes are read (``InputError``
    past it)."""
    return load_yaml(read_text(path, limit), str(path))


def _line(mark: object) -> str:
    start = getattr(mark, "start_mark", mark)
    line = getattr(start, "line", None)
    return f"line {line + 1}" if isinstance(line, int) else ""


def _first(exc: BaseException) -> str:
    """The first clause of Python's message (not its advice to call sys.set_int_max_str_digits)."""
    return str(exc).split(":")[0].strip()[:200]
