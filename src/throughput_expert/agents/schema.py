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
    lines = [f"{'/'.join(map(str, e.path)) or '(top)'}: {_line(e.message)}" for e in errors]
    notes = [f"(schema): {_NOT_RUN.format(keyword=k)}" for k in sorted(skipped)]
    return broken + notes + lines


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
