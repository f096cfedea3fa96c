"""What a senior engineer says without measurements, and filling a task's required keys honestly.

A task that holds project context but no numbers (the babysitter process library's tasks pass
``projectName``, ``codebaseType`` and known issues) gets the seed's formulas in parameterized form
(``threads = cores × (1 + W / C)`` with W and C to measure, Little's law ``N = X · R``, the
batching cost model ``T(b) = c0 + c1 · b``), the checks that decide which formula applies, and a
measurement plan with the exact commands (``tpx observe``, ``tpx find-bottleneck``, ``tpx
sweep``, ``tpx design-batching --measure``, the Prometheus queries ``tpx analyze --prometheus``
runs). What the task gives (cores, the target, the workers, the runtime) is written into the
formulas and commands; the rest stays a symbol. Cores are never taken from the machine running
tpx: unknown, they are a symbol of the answer and the summary says so.

The data is ``agents/data/no_data.yaml``. A required key of the task's ``outputSchema`` is
filled only with real content (the answer's own parts, or what the advisors measured): a key
nothing fills raises ``Unanswerable``, which names the key, what would fill it and the commands
that measure it. Never an empty stand-in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from throughput_expert.agents.context import Understood, normalize_key
from throughput_expert.errors import InputError
from throughput_expert.model import Recommendation
from throughput_expert.model.settings import Settings

__all__ = [
    "TOPICS",
    "Unanswerable",
    "fill_required",
    "parameterized",
    "recommendations",
    "summary",
]

TOPICS = ("analyze", "concurrency", "batching", "scaling", "bottleneck")
_SOURCE = "throughput_expert/agents/data/no_data.yaml"
_WRITERS = ("artifacts", "files", "outputs", "paths")  # the result writer fills these
_SETTLED = {"U_target"}  # the operator's saturation targets (settings), never unknown
_OPERATION = {"database": "database-insert", "queue": "message-publish", "cache": "api-call"}


class Unanswerable(InputError):
    """Required keys of the task's ``outputSchema`` that nothing in the task can fill honestly.

    ``missing`` holds the keys as the schema spells them; the one-line message names each with
    what would fill it and the command that measures it. The task worker posts it as an error
    result (``source`` is ``"task"``, ``field`` the keys)."""

    def __init__(self, missing: Sequence[tuple[Sequence[str], str]]) -> None:
        self.missing = tuple(key for keys, _ in missing for key in keys)
        reasons = "; ".join(
            f"{_and(keys)} {'need' if len(keys) > 1 else 'needs'} {why}" for keys, why in missing
        )
        super().__init__(
            f"the output schema requires what the task does not hold: {reasons}",
            source="task",
            field=", ".join(self.missing),
        )


@cache
def _data() -> Mapping[str, Any]:
    from throughput_expert.sources.yaml_safe import load_yaml

    text = resources.files("throughput_expert.agents").joinpath("data", "no_data.yaml")
    doc = load_yaml(text.read_text("utf-8"), _SOURCE)
    if not isinstance(doc, Mapping):
        raise InputError("expected a mapping", source=_SOURCE)
    return doc


# --- the parameterized answer -----------------------------------------------------------------


def known_values(u: Understood, parts: Sequence[Any] = ()) -> dict[str, Any]:
    """The symbols the task gives a value for (``cores``, ``X_target``, ``X``, ``N``, ``R``)."""
    values: dict[str, Any] = {
        "cores": _number(u.cores),
        "X_target": _number(u.target_rps),
        "X": _number(u.current_rps),
        "N": u.workers,
        "R": u.latency_s,
    }
    return {k: v for k, v in values.items() if v is not None}


def parameterized(
    u: Understood,
    topics: Sequence[str],
    settings: Settings,
    *,
    why: str,
    parts: Sequence[Any] = (),
) -> dict[str, Any]:
    """The answer without data for ``topics``: given values, formulas (with the given values
    written in), unknowns, checks (against the operator's saturation targets), the measurement
    plan with its commands, the runtime's pools and the issues the task reports."""
    data = _data()
    wanted = set(topics)
    given = known_values(u, parts)
    known = set(given) | _SETTLED
    if u.utilization:
        known |= {"U", "S"} if u.current_rps else {"U"}
    formulas = [_formula(f, given, known) for f in data["formulas"] if wanted & set(f["topics"])]
    unknown = sorted({s for f in formulas for s in f["unknowns"]}, key=list(data["symbols"]).index)
    steps = [
        s
        for s in data["plan"]
        if wanted & set(s["topics"]) and (set(s["measures"]) & set(unknown) or not s["measures"])
    ]
    plan = [_step(i + 1, s, u, parts, given, settings) for i, s in enumerate(steps)]
    out: dict[str, Any] = {
        "why": why,
        "given": _given(u, given),
        "formulas": formulas,
        "unknowns": [
            {"symbol": s, **dict(data["symbols"][s]), "measured_by": _steps_for(s, plan)}
            for s in unknown
        ],
        "checks": [_check(c, settings) for c in data["checks"] if wanted & set(c["topics"])],
        "measurement_plan": plan,
    }
    runtime = settings.runtime(u.runtime) if u.runtime else {}
    if runtime:
        out["runtime"] = {"name": u.runtime, "cpu_pool": runtime["cpu"], "io_pool": runtime["io"]}
    if u.issues:
        out["reported_issues"] = [_issue(text, data["checks"]) for text in u.issues]
    return out


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _given(u: Understood, given: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(given)
    for key, value in (
        ("project", u.project),
        ("service", u.service),
        ("codebase", u.codebase),
        ("runtime", u.runtime),
    ):
        if value:
            out[key] = value
    if "cores" not in given:
        out["cores"] = "unknown: the cores of the system advised (this machine's are not used)"
    return out


def _formula(f: Mapping[str, Any], given: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    text = str(f["formula"])
    written = text
    for symbol in f["symbols"]:
        if symbol in given:
            shown = _show(symbol, given[symbol])
            written = re.sub(rf"(?<![\w.]){re.escape(symbol)}(?![\w(])", shown, written)
    out: dict[str, Any] = {
        "id": f["id"],
        "name": f["name"],
        "formula": text,
        "unknowns": [s for s in f["symbols"] if s not in known],
        "law": f["law"],
    }
    if written != text:
        out["with_given"] = written
    if f.get("example"):
        out["example"] = f["example"]
    return out


def _show(symbol: str, value: Any) -> str:
    """A given value as written into a formula: durations in ms, the rest as numbers."""
    if _data()["symbols"][symbol].get("unit") == "s":
        return f"{value * 1000:g} ms"
    return f"{value:g}"


def _check(c: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {"id": c["id"], "look_at": c["look_at"]}
    if c.get("target"):
        target = settings.target(c["target"])
        out["target"] = f"under {target:.0%} busy (saturation_targets.{c['target']})"
    out["means"] = c["means"]
    out["measured_by"] = list(c["measured_by"])
    return out


def _issue(text: str, checks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    lower = text.lower()
    confirm = [c["id"] for c in checks if re.search(c["matches"], lower)]
    return {
        "issue": text,
        "status": "reported by the task, not measured",
        "confirm_with": confirm or ["cpu_saturation", "wait_vs_compute"],
    }


def _step(
    n: int,
    s: Mapping[str, Any],
    u: Understood,
    parts: Sequence[Any],
    given: Mapping[str, Any],
    settings: Settings,
) -> dict[str, Any]:
    run = s.get("run")
    if run is None:
        by_runtime = s["run_by_runtime"]
        run = by_runtime.get(u.runtime or "", by_runtime["default"])
    fill = _placeholders(u, parts, given)
    commands = [_fill_in(c, fill) for c in run]
    out: dict[str, Any] = {"step": n, "id": s["id"], "measures": list(s["measures"])}
    out["where"] = s["where"]
    out["run"] = commands
    names = _data()["placeholders"]
    holes = {h: names[h] for h in names if any(re.search(_hole(h), c) for c in commands)}
    if holes:
        out["fill_in"] = holes
    if s.get("gives"):
        out["gives"] = s["gives"]
    alternative = s.get("or") or (s.get("or_by_runtime") or {}).get(u.runtime or "default")
    if alternative:
        out["or"] = alternative
    if s.get("queries"):
        out["queries"] = _queries(s["queries"], settings)
    return out


def _placeholders(u: Understood, parts: Sequence[Any], given: Mapping[str, Any]) -> dict[str, str]:
    fill: dict[str, str] = {}
    for symbol, hole in (("cores", "CORES"), ("X_target", "X_TARGET"), ("X", "X"), ("N", "N")):
        if symbol in given:
            fill[hole] = f"{given[symbol]:g}"
    sink = next((p for p in parts if getattr(p, "kind", None) in _OPERATION), None)
    if sink is not None:
        fill["OPERATION"] = _OPERATION[sink.kind]
    return fill


def _hole(name: str) -> str:
    return rf"(?<![\w-]){name}(?!\w)"


def _fill_in(command: str, fill: Mapping[str, str]) -> str:
    for hole, value in fill.items():
        command = re.sub(_hole(hole), value, command)
    return command


def _queries(names: Sequence[str], settings: Settings) -> dict[str, str]:
    """The packaged (or the operator's) PromQL for these signals, at a 5 m window and no
    selector (add the instance's labels inside the braces)."""
    raw = settings.raw["prometheus_queries"]  # always loaded (sources/settings.py)
    flat: dict[str, Any] = {}
    for section in raw.values() if isinstance(raw, Mapping) else ():
        if isinstance(section, Mapping):
            flat.update(section)
    out: dict[str, str] = {}
    for name in names:
        query = flat.get(name)
        if isinstance(query, list):
            query = query[0] if query else None
        if isinstance(query, str):
            out[name] = _promql(query)
    return out


def _promql(template: str) -> str:
    text = " ".join(template.split()).replace("{window}", "5m")
    text = text.replace(",{selector}", "").replace("{{selector}}", "").replace("{selector}", "")
    return text


def _steps_for(symbol: str, plan: Sequence[Mapping[str, Any]]) -> list[str]:
    return [s["id"] for s in plan if symbol in s["measures"]]


# --- the summary, the recommendations --------------------------------------------------------


def summary(section: Mapping[str, Any]) -> str:
    """One sentence: why the answer is parameterized, its main formula with what is unknown,
    and the first command to run."""
    formulas = section["formulas"]
    main = next((f for f in formulas if f["id"] == "pool_io"), None) or next(
        (f for f in formulas if f["unknowns"]), formulas[0]
    )
    unknowns = main["unknowns"]
    shown = main.get("with_given", main["formula"])
    first = section["measurement_plan"][0]["run"][0] if section["measurement_plan"] else ""
    text = f"{section['why'].capitalize()}: parameterized answer, {shown}"
    if unknowns:
        text += f" with {_and(unknowns)} to measure"
    if isinstance(section["given"].get("cores"), str):
        text += " (cores of the system advised unknown; this machine's are not used)"
    if first:
        text += f"; first run `{first}`"
    return text + "."


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def recommendations(
    section: Mapping[str, Any], *, first: bool = True
) -> tuple[Recommendation, ...]:
    """Measure first: one recommendation per plan step that measures something, naming the
    formulas that need it; no improvement is claimed (nothing is measured yet). ``first``:
    nothing else is measured, so nothing should change before these."""
    out = []
    for step in section["measurement_plan"]:
        needed = [
            s for s in step["measures"] if any(s in f["unknowns"] for f in section["formulas"])
        ]
        if not needed:
            continue
        users = [f["formula"] for f in section["formulas"] if set(needed) & set(f["unknowns"])]
        out.append(
            Recommendation(
                optimization=f"Measure {_and(needed)}"
                + (" before changing anything" if first else "")
                + f": {step['run'][0]}",
                expected_improvement_pct=None,
                effort="low",
                risk="low",
                rationale=f"{_and(users)} need {_and(needed)}; run it {step['where']}",
                example="\n".join(step["run"]),
            )
        )
    return tuple(out)


# --- the task's required keys -----------------------------------------------------------------


def fill_required(
    result: Mapping[str, Any], schema: Mapping[str, Any] | None, *, measured: bool
) -> dict[str, Any]:
    """The top-level keys ``schema`` requires that ``result`` lacks, each filled with real
    content of the result; ``Unanswerable`` names every key nothing fills (or only an empty
    stand-in would: without measurements an empty list is not an answer). Keys named like files
    (``artifacts``) are left to the writer. ``measured``: the result holds measurements."""
    if not isinstance(schema, Mapping):
        return {}
    required = schema.get("required")
    props = schema.get("properties")
    props = props if isinstance(props, Mapping) else {}
    data = _data()
    filled: dict[str, Any] = {}
    missing: list[tuple[str, str]] = []
    for key in required if isinstance(required, list) else []:
        if not isinstance(key, str) or key.lower() in _WRITERS:
            continue
        norm = normalize_key(key)
        sub = props.get(key)
        kind = sub.get("type") if isinstance(sub, Mapping) else None
        if key in result and (measured or not _empty(result[key])):
            continue
        content = _content(str(data["keys"].get(norm, norm)), result, measured)
        if content is not None and _fits(content, kind):
            filled[key] = content
        else:
            missing.append((key, _needs(norm, str(data["keys"].get(norm, norm)), result, kind)))
    if missing:
        raise Unanswerable(_grouped(missing))
    return filled


def _grouped(missing: Sequence[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """Keys with the same reason named together: ``throughputImprovement and results``."""
    reasons: dict[str, list[str]] = {}
    for key, why in missing:
        reasons.setdefault(why, []).append(key)
    return [(keys, why) for why, keys in reasons.items()]


def _empty(value: Any) -> bool:
    return value in ([], {}, "", None)


def _content(kind: str, result: Mapping[str, Any], measured: bool) -> Any:
    analysis = result.get("analysis")
    a: Mapping[str, Any] = analysis if isinstance(analysis, Mapping) else {}
    p: Mapping[str, Any] = a.get("parameterized") or {}
    if kind in ("summary", "analysis"):
        return result.get(kind) or None
    if kind == "recommendations":
        return result.get("recommendations") or None
    if kind == "optimizations":
        changes = [
            r
            for r in result.get("recommendations") or []
            if r.get("expected_improvement_pct") is not None
        ]
        return (changes or None) if measured else None
    if kind == "bottlenecks":
        found = [x for x in (a.get("bottleneck"), (a.get("profile") or {}).get("bottleneck")) if x]
        return found or None
    if kind == "contention":
        return _contention(a.get("profile"))
    if kind == "hotspots":
        profile = a.get("profile")
        return (
            list(profile.get("functions") or []) or None if isinstance(profile, Mapping) else None
        )
    if kind in ("batching", "scaling"):
        return a.get(kind)
    if kind == "model":
        return _model(a, p)
    if kind == "configuration":
        return _configuration(a, p)
    if kind in ("formulas", "unknowns", "checks", "measurement_plan"):
        return p.get(kind) or None
    if kind == "documentation":
        return {
            k: p[k] for k in ("formulas", "checks", "measurement_plan", "runtime") if k in p
        } or None
    return None


def _contention(profile: Any) -> list[dict[str, Any]] | None:
    """Lock waits a profile measured: its contention categories and, from snapshots (thread
    dumps, goroutine and delay profiles), the lock sites; ``None`` without a profile (a
    profile that saw none gives an empty list, which is measured, not a stand-in)."""
    if not isinstance(profile, Mapping):
        return None
    found = profile.get("bottleneck")
    top: list[dict[str, Any]] = []
    if isinstance(found, Mapping) and found.get("type") == "contention":
        top.append(
            {
                "kind": "bottleneck",
                "what": found.get("component") or found.get("category"),
                "share_pct": found.get("share_pct"),
                "reason": found.get("reason"),
            }
        )
    out: list[dict[str, Any]] = top + [
        {
            "kind": "category",
            "what": c.get("label"),
            "share_pct": c.get("share_pct"),
            "top_function": c.get("top_function"),
        }
        for c in profile.get("categories") or []
        if c.get("bottleneck_type") == "contention" and (c.get("share_pct") or 0) > 0
    ]
    for state in profile.get("states") or []:
        if state.get("state") == "lock_wait" and (state.get("share_pct") or 0) > 0:
            out.append(
                {
                    "kind": "state",
                    "what": state.get("label"),
                    "share_pct": state.get("share_pct"),
                    "site": state.get("top_site"),
                }
            )
    waits = profile.get("waits") or {}
    for site in waits.get("sites") or [] if isinstance(waits, Mapping) else []:
        if site.get("state") == "lock_wait" and not site.get("benign"):
            out.append(
                {
                    "kind": "lock",
                    "what": site.get("wait"),
                    "site": site.get("site"),
                    "share_pct": site.get("share_pct"),
                    "holders": site.get("holders") or [],
                }
            )
    return out


def _model(a: Mapping[str, Any], p: Mapping[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for key in ("bottleneck", "current_throughput", "headroom"):
        if a.get(key):
            out[key] = a[key]
    if p:
        out.update({"given": p["given"], "formulas": p["formulas"], "unknowns": p["unknowns"]})
    return out or None


def _configuration(a: Mapping[str, Any], p: Mapping[str, Any]) -> dict[str, Any] | None:
    if a.get("concurrency"):
        return dict(a["concurrency"])
    pools = [f for f in p.get("formulas") or [] if str(f["id"]).startswith("pool_")]
    if not pools:
        return None
    out: dict[str, Any] = {
        "pools": [
            {"pool": f["id"].removeprefix("pool_"), "threads": f.get("with_given", f["formula"])}
            | {"unknowns": f["unknowns"]}
            for f in pools
        ]
    }
    if p.get("runtime"):
        out["runtime"] = p["runtime"]
    out["measure"] = [
        s
        for s in p["measurement_plan"]
        if {"cores", "W", "C"} & set(s["measures"]) or s["id"] == "compute"
    ]
    return out


def _fits(value: Any, kind: Any) -> bool:
    types = {"object": Mapping, "array": list, "string": str, "boolean": bool}
    if isinstance(kind, str) and kind in types:
        return isinstance(value, types[kind])
    if kind in ("number", "integer"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


def _needs(norm: str, kind: str, result: Mapping[str, Any], wanted: Any) -> str:
    data = _data()
    need = data["needs"].get(norm) or data["needs"].get(kind)
    if need is None:
        if kind in data["needs"] or norm in data["keys"]:
            return f"content of type {wanted} this worker does not produce"
        return (
            "content this worker does not produce (it fills: "
            + ", ".join(sorted(set(data["keys"]))[:12])
            + ", …)"
        )
    text = str(need["what"])
    commands = _commands(need["steps"], result)
    return text + (f" (measure: {commands})" if commands else "")


def _commands(steps: Sequence[str], result: Mapping[str, Any]) -> str:
    """The commands of these plan steps, from the result's own plan when it has one."""
    analysis = result.get("analysis")
    plan = (
        ((analysis or {}).get("parameterized") or {}).get("measurement_plan")
        if isinstance(analysis, Mapping)
        else None
    )
    by_id = {s["id"]: s["run"] for s in plan or []}
    runs = [" then ".join(by_id[s]) for s in steps if s in by_id]
    if not runs:
        runs = [" then ".join(_raw_run(s)) for s in steps if _raw_run(s)]
    return " | ".join(runs)


def _raw_run(step_id: str) -> list[str]:
    for s in _data()["plan"]:
        if s["id"] == step_id:
            run = s.get("run") or s["run_by_runtime"]["default"]
            return [str(c) for c in run]
    return []
