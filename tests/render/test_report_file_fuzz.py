"""``tpx report`` on saved reports that were edited or corrupted: mutations of real reports of
every command (types changed, keys dropped, NaN, inf and huge numbers, lone surrogates, deep
nesting) rendered as json, text and html either render or are one ``InputError`` line naming
the JSON path; nothing else (issue #19). The long campaign is ``tests/fuzz``; this is the
budget that runs with every test run."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import only_line, run_tpx

from throughput_expert import api
from throughput_expert.errors import InputError
from throughput_expert.render.as_json import JSONRenderer
from throughput_expert.render.report_file import load_report, render_saved

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROFILE = ROOT / "tests/fixtures/corpus/python/json_hot.cpu.speedscope.json"


def _reports() -> dict[str, dict[str, Any]]:
    """A real report of every command, as ``--format json`` saves it."""
    made = {
        "analyze": api.analyze(metrics=[str(EXAMPLES / "metrics.json")], target_rps=5000),
        "scaling-plan": api.scaling_plan(
            current_architecture=str(EXAMPLES / "architecture.yaml"), target_rps=50000
        ),
        "optimize-concurrency": api.optimize_concurrency(
            workload_type="io",
            current_thread_pool=4,
            cpu_cores=2,
            sweep=str(EXAMPLES / "sweep.json"),
        ),
        "design-batching": api.design_batching(
            operation="database-insert",
            target_throughput=50000,
            measurements=str(EXAMPLES / "batch-trial.csv"),
        ),
        "sweep": api.sweep(from_files=[str(EXAMPLES / "sweep.json")]),
        "find-bottleneck": api.find_bottleneck(
            profiles=[str(PROFILE)], utilization=str(EXAMPLES / "metrics.json"), threads=True
        ),
    }
    return {name: json.loads(JSONRenderer().render(r)) for name, r in made.items()}


REPORTS = _reports()


def _places(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value in a JSON document."""
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*at, index))


PLACES = {name: list(_places(doc))[1:] for name, doc in REPORTS.items()}


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


ODD = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        1e308,
        10**400,
        2**64,
        -1,
        0,
        1e-320,
        "\ud800",
        "a\r\x1b[2Jb",
        "fast",
        "",
        None,
        True,
        [],
        {},
        [1, 2, 3],
        {"k": 1},
        _deep(500),
    ]
)
# same-typed replacements: the document stays valid, the values odd
SAME = {
    float: st.sampled_from([0.0, -1.0, 1e18, -1e18, 1e-300, 5e-324]),
    int: st.sampled_from([0, -1, 2**62, 7]),
    str: st.sampled_from(["", "\ud800", "x\r\x1b[2J", "\u202eevil", "y" * 2000]),
}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(REPORTS)))
    doc = copy.deepcopy(REPORTS[name])
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(PLACES[name]))
        parent: Any = doc
        try:
            for key in at[:-1]:
                parent = parent[key]
            old = parent[at[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced it
        how = draw(st.sampled_from(["drop", "odd", "same", "key"]))
        if how == "drop" and isinstance(parent, dict):
            del parent[at[-1]]
        elif how == "key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["\ud800", "x\ry", "unknown"]))] = old
        elif how == "same" and type(old) in SAME:
            parent[at[-1]] = draw(SAME[type(old)])
        else:
            parent[at[-1]] = draw(ODD)
    return name, doc


def _save(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "saved.json"
    text = json.dumps(doc, ensure_ascii=True)  # NaN and Infinity as Python writes them
    path.write_text(text, encoding="utf-8")
    return path


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=mutated())
def test_a_mutated_saved_report_renders_or_is_one_line(
    tmp_path: Path, case: tuple[str, dict[str, Any]]
) -> None:
    _, doc = case
    path = _save(tmp_path, doc)
    for fmt in ("json", "text", "html"):
        try:
            out = render_saved(path, fmt)
        except InputError as exc:
            line = exc.one_line()
            assert "\n" not in line and line.startswith(f"{path}: "), line
            continue
        out.encode("utf-8")  # every format encodes: no lone surrogate left raw
        if fmt == "json":
            assert load_report(_save(tmp_path, json.loads(out)))  # and reads back


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_commands_report_is_valid_as_saved(tmp_path: Path, name: str) -> None:
    """The validation refuses none of the reports tpx writes."""
    assert load_report(_save(tmp_path, REPORTS[name]))["command"] == name


def _edited(edit: Any) -> dict[str, Any]:
    doc = copy.deepcopy(REPORTS["analyze"])
    edit(doc)
    return doc


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (
            lambda d: d["analysis"]["headroom"]["resources"]["cpu"].__setitem__(
                "utilization_pct", "high"
            ),
            "analysis.headroom.resources.cpu.utilization_pct: expected a number",
        ),
        (
            lambda d: d["series"][next(iter(d["series"]))]["points"][2].__setitem__(1, math.nan),
            "points[2][1]: nan is not a finite number",
        ),
        (
            lambda d: d["analysis"]["current_throughput"].__setitem__("rps", 10**400),
            "analysis.current_throughput.rps: a number beyond",
        ),
        (lambda d: d["recommendations"][0].pop("effort"), "recommendations[0].effort: missing"),
        (lambda d: d["recommendations"][0].__setitem__("risk", "huge"), "expected one of"),
        (lambda d: d.__setitem__("assumptions", _deep(500)), "nested deeper than 32 levels"),
        (lambda d: d["evidence"][0].__setitem__("inputs", _deep(40)), "evidence[0].inputs"),
    ],
)
def test_an_edited_report_names_the_json_path(tmp_path: Path, edit: Any, says: str) -> None:
    path = _save(tmp_path, _edited(edit))
    with pytest.raises(InputError) as info:
        load_report(path)
    assert says in str(info.value), str(info.value)


def test_tpx_report_on_a_corrupt_report_is_one_line_with_control_characters_escaped(
    tmp_path: Path,
) -> None:
    """An unknown key holding a carriage return and an escape sequence: exit 2, one line, the
    characters shown escaped, so the file cannot overwrite what the user reads."""
    doc = _edited(lambda d: d["analysis"].__setitem__("x\rFAKE: all good\x1b[2J", 1))
    path = _save(tmp_path, doc)
    done = run_tpx("report", str(path), "--format", "text")
    assert done.returncode == 2 and done.stdout == ""
    line = only_line(done.stderr)
    assert "\r" not in line and "\x1b" not in line
    assert "\\r" in line and "\\x1b" in line and "unknown key" in line


@pytest.mark.parametrize("fmt", ["json", "text", "html"])
def test_a_lone_surrogate_renders_in_every_format(tmp_path: Path, fmt: str) -> None:
    """In the summary and in a curve's label (which the HTML page draws with matplotlib)."""

    def edit(d: dict[str, Any]) -> None:
        d["summary"] = "odd \ud800 text"
        d["series"][next(iter(d["series"]))]["x_label"] = "rate \udfff"

    doc = _edited(edit)
    path = _save(tmp_path, doc)
    done = run_tpx("report", str(path), "--format", fmt)
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        assert json.loads(done.stdout)["summary"] == "odd \ufffd text"  # read as U+FFFD
    out = tmp_path / f"out.{fmt}"
    done = run_tpx("report", str(path), "--format", fmt, "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().decode("utf-8")


@pytest.mark.parametrize("name", ["optimize-concurrency", "sweep"])
def test_an_available_fit_without_its_coefficients_is_refused(tmp_path: Path, name: str) -> None:
    """Each coefficient may be null in the schema (a fit not made); a fit marked available
    without one would reach the renderers, which draw it."""
    doc = copy.deepcopy(REPORTS[name])
    assert doc["analysis"]["usl"]["available"] is True
    doc["analysis"]["usl"]["sigma"] = None
    with pytest.raises(InputError, match=r"analysis\.usl\.sigma: expected a number"):
        render_saved(_save(tmp_path, doc), "html")


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@settings(max_examples=100, deadline=None)
@given(case=mutated())
def test_the_check_agrees_with_jsonschema(case: tuple[str, dict[str, Any]]) -> None:
    """``report_schema.violation`` (stdlib, one pass) accepts exactly what the ``jsonschema``
    package accepts against the same schema."""
    import jsonschema

    from throughput_expert.model.report_schema import report_schema, violation

    name, doc = case
    if _depth(doc) > 30 or doc.get("command") != name:
        return
    schema = report_schema(name)
    ours = violation(doc, schema)
    theirs = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert (ours is None) == (not theirs), (ours, [e.message for e in theirs[:3]])
