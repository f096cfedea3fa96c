"""Fitting a result to the task's ``outputSchema`` honestly (the ``jsonschema`` package).

Required keys the advisors cannot fill are filled only with what is true: ``artifacts`` (or any
required array named like files) lists the file the result is written to; a required object is
filled when its own required keys are. Nothing else is filled: no empty list, empty object,
"not available" text or ``false`` stands in for an answer. What does not validate is listed
under ``schema_violations``; the babysitter worker posts such a result as an error (the run
fails, naming what is missing), never as ok.

The schema comes from a task file, so it is trusted for nothing:

- ``$ref`` is never fetched. The validator's ``referencing.Registry`` refuses every retrieval
  (no HTTP, no ``file://``); references inside the schema (``#/$defs/...``, its own ``$id``)
  resolve as usual. A reference that cannot be resolved becomes a ``schema_violations`` entry,
  as does a schema that refers to itself without end or nests deeper than Python can follow, and
  a schema that is not valid JSON Schema: a problem in the schema never stops the result.
- Regular expressions in it (``pattern``, ``patternProperties``) are never run: a hostile one
  backtracks for hours on an ordinary string. Those keywords are skipped, ``additionalProperties``
  and ``unevaluatedProperties`` beside a ``patternProperties`` too (they depend on its matches),
  and ``schema_violations`` says they were not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["fit_to_schema"]

_FILES = ("artifacts", "files", "outputs", "paths")
_MAX_VIOLATIONS = 20
_SIMPLE_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
_MAX_SCHEMA_VALUES = 5_000  # at ~70 µs a value to check: under half a second
_NOT_RUN = (
    "'{keyword}' not checked: regular expressions from a task file are never run "
    "(a hostile one can backtrack for hours)"
)


def fit_to_schema(
    result: dict[str, Any], schema: Mapping[str, Any] | None, written: Path
) -> dict[str, Any]:
    if not schema:
        return result
    out = dict(result)
    problems: list[str] = []
    try:
        _fill(out, schema, written)
    except RecursionError:
        problems.append("(schema): nested too deeply to fill its required keys")
    problems += _violations(out, schema)
    if problems:
        out["schema_violations"] = problems[:_MAX_VIOLATIONS]
    return out


def _violations(doc: dict[str, Any], schema: Mapping[str, Any]) -> list[str]:
    import jsonschema  # type: ignore[import-untyped]
    from referencing.exceptions import Unresolvable

    from throughput_expert.redact import redact_url

    unchecked = _uncheckable(schema)
    if unchecked:
        return [f"(schema): {unchecked}"]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return [f"(schema): not a valid JSON Schema (draft 2020-12): {_line(exc.message)}"]
    except RecursionError:
        return ["(schema): nested too deeply to check"]
    skipped: set[str] = set()
    validator = _validator_class(schema, skipped)(schema, registry=_registry())
    errors: list[Any] = []
    broken: list[str] = []
    try:
        for error in validator.iter_errors(doc):
            errors.append(error)
            if len(errors) >= _MAX_VIOLATIONS:
                break
    except Unresolvable as exc:
        ref = redact_url(str(getattr(exc, "ref", "") or exc))
        broken.append(
            f"(schema): $ref {_line(ref)!r} not followed: references outside the schema are "
            "never fetched (validation stopped there)"
        )
    except RecursionError:
        broken.append("(schema): refers to itself without end (validation stopped there)")
    errors.sort(key=lambda e: [str(p) for p in e.path])
    lines = [f"{'/'.join(map(str, e.path)) or '(top)'}: {_message(e)}" for e in errors]
    notes = [f"(schema): {_NOT_RUN.format(keyword=k)}" for k in sorted(skipped)]
    return broken + notes + lines


def _uncheckable(schema: Mapping[str, Any]) -> str | None:
    """Why the schema is not checked at all, before ``jsonschema`` spends minutes on it:

    - more than ``_MAX_SCHEMA_VALUES`` values: checking it against the metaschema costs about
      70 µs a value (measured; every subschema resolves the metaschema's dynamic references);
    - a ``type`` list longer than the seven simple types (it must list them without repeats):
      the metaschema's ``uniqueItems`` compares every pair of a list of objects, hours for a
      list of 20,000.
    """
    todo: list[Any] = [schema]
    values = 0
    while todo:
        node = todo.pop()
        values += 1
        if values > _MAX_SCHEMA_VALUES:
            return (
                f"more than {_MAX_SCHEMA_VALUES:,} values: too large to check "
                "(an output's shape needs far fewer)"
            )
        if isinstance(node, Mapping):
            kinds = node.get("type")
            if isinstance(kinds, list) and len(kinds) > len(_SIMPLE_TYPES):
                return (
                    f"not a valid JSON Schema (draft 2020-12): type: a list of {len(kinds):,} "
                    f"items (there are {len(_SIMPLE_TYPES)} types: {', '.join(_SIMPLE_TYPES)})"
                )
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return None


def _message(error: Any, shown: int = 80) -> str:
    """The validator's message, one line; the value it quotes first (``'...' is not of type
    'number'``) cut to ``shown`` characters, so what is wrong with it stays in the line."""
    text = " ".join(str(error.message).split())
    try:
        quoted = " ".join(repr(error.instance).split())
    except Exception:  # a value whose repr fails: the message as it is
        return _line(text)
    if len(quoted) > shown and text.startswith(quoted):
        text = quoted[:shown] + "…" + text[len(quoted) :]
    return _line(text)


def _line(text: str, limit: int = 300) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[:limit] + "…"


def _registry() -> Any:
    """A registry that resolves nothing from outside the schema."""
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    def refuse(uri: str) -> Any:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]

    return Registry(retrieve=refuse)  # type: ignore[call-arg]


def _validator_class(root: Mapping[str, Any], skipped: set[str]) -> Any:
    """Draft 2020-12 with the keywords that run the schema's regular expressions disabled;
    each one met is added to ``skipped``."""
    import jsonschema

    draft = jsonschema.Draft202012Validator
    patterns_anywhere = _has_patterns(root)

    def not_run(keyword: str) -> Any:
        def check(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
            skipped.add(keyword)
            return iter(())

        return check

    def beside_patterns(keyword: str, original: Any) -> Any:
        def check(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
            if isinstance(schema, Mapping) and "patternProperties" in schema:
                skipped.add(keyword)
                return iter(())
            if keyword == "unevaluatedProperties" and patterns_anywhere:
                skipped.add(keyword)
                return iter(())
            return iter(original(validator, value, instance, schema))

        return check

    return jsonschema.validators.extend(
        draft,
        {
            "pattern": not_run("pattern"),
            "patternProperties": not_run("patternProperties"),
            "additionalProperties": beside_patterns(
                "additionalProperties", draft.VALIDATORS["additionalProperties"]
            ),
            "unevaluatedProperties": beside_patterns(
                "unevaluatedProperties", draft.VALIDATORS["unevaluatedProperties"]
            ),
        },
    )


def _has_patterns(schema: Any) -> bool:
    """Whether ``patternProperties`` appears anywhere in the schema (iterative: any depth)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if "patternProperties" in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _fill(doc: dict[str, Any], schema: Mapping[str, Any], written: Path) -> None:
    given = schema.get("properties")
    props: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    required = schema.get("required")
    for key in required if isinstance(required, list) else []:
        if not isinstance(key, str) or key in doc:
            continue
        found = props.get(key)
        sub: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        kind = sub.get("type")
        if kind == "array" and key.lower() in _FILES:
            doc[key] = [str(written)]
        elif kind == "object":
            inner: dict[str, Any] = {}
            _fill(inner, sub, written)
            if inner:  # something true went in; an empty object would stand in for an answer
                doc[key] = inner
