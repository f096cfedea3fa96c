"""Layering (issue 13): each pipeline stage imports only what its allow-list permits.

Every module under ``src/throughput_expert`` is read with ``ast`` (nothing is imported): every
``import`` and ``from ... import`` statement counts, at module level, inside functions and under
``if TYPE_CHECKING:``, and so does ``importlib.import_module("name")`` with a literal name. Each
imported name is classified as the standard library, a stage of this package, or a third-party
package (its top-level import name), and checked against the allow-list below. The pipeline and
its documented departures are in ``docs/architecture.md``.

Known violations are listed in ``KNOWN_EXCEPTIONS`` with a reason; the test fails on any new
violation and also when a listed one disappears, so the list stays honest.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "throughput_expert"
REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / PACKAGE

# --- the allow-list ------------------------------------------------------------------------------

# The stage each module belongs to: the longest matching prefix wins. The package root
# (``throughput_expert/__init__.py``) re-exports ``api`` and is a front door.
STAGE_OF_PREFIX: dict[str, str] = {
    f"{PACKAGE}": "front",
    f"{PACKAGE}.errors": "shared",
    f"{PACKAGE}.redact": "shared",
    # making outside text safe to print (control characters escaped): every stage prints
    f"{PACKAGE}.safe_text": "shared",
    # the command registry and the parameter declarations: tables of names and lazy references,
    # read by every stage (a renderer finds its command's record and sections there)
    f"{PACKAGE}.registry": "shared",
    f"{PACKAGE}.params": "shared",
    # writing reports, saved inputs and results atomically (writing is not ingestion): every
    # stage and front door may write a file
    f"{PACKAGE}.outputs": "shared",
    f"{PACKAGE}.model": "model",
    f"{PACKAGE}.sources": "sources",
    f"{PACKAGE}.laws": "laws",
    f"{PACKAGE}.advisors": "advisors",
    f"{PACKAGE}.measure": "measure",
    f"{PACKAGE}.render": "render",
    f"{PACKAGE}.cli": "front",
    f"{PACKAGE}.cli_flags": "front",
    f"{PACKAGE}.api": "front",
    f"{PACKAGE}.live": "front",
    f"{PACKAGE}.agents": "front",
}
STAGES = frozenset(STAGE_OF_PREFIX.values())

# What any stage may take from the package root itself (``from throughput_expert import X``
# where X is not a submodule): the version only. Anything else there is the public API (front).
ROOT_SHARED_NAMES = frozenset({"__version__"})

# Every stage may import the standard library, its own stage and "shared" (``errors``,
# ``redact``). Beyond that, the stages each may import:
MAY_IMPORT_STAGES: dict[str, frozenset[str]] = {
    "shared": frozenset(),
    "model": frozenset(),
    # docs/architecture.md, Departures: Settings is a model record (model/settings.py) loaded by
    # sources/settings.py; reading the YAML is I/O, so it belongs to sources.
    "sources": frozenset({"model"}),
    "laws": frozenset(),
    # docs/architecture.md, Departures: unit formatting lives in model/units.py, which advisors
    # import for the one-sentence summary (and they receive the loaded model/settings.Settings).
    "advisors": frozenset({"model", "laws"}),
    # docs/architecture.md, Departures: measure/search.py uses laws/usl.provisional_peak (a USL
    # through fewer than 6 levels, used to place the next level, never reported).
    "measure": frozenset({"model", "laws"}),
    # docs/architecture.md, Departures: renderers share model/units.py with the advisors.
    "render": frozenset({"model"}),
    "front": STAGES - {"front"},
}

# Third-party packages (top-level import names) each stage may import. The HTTP clients sources
# and measure use are the standard library's (http.client, urllib), covered by the stdlib rule.
MAY_IMPORT_THIRD_PARTY: dict[str, frozenset[str]] = {
    "shared": frozenset(),
    "model": frozenset(),
    "sources": frozenset({"numpy", "yaml", "psutil"}),  # yaml is PyYAML
    "laws": frozenset({"numpy", "scipy"}),
    "advisors": frozenset(),
    # hdrh is hdrhistogram; psutil: measure/pyspy.py reads a recorded process's own CPU
    "measure": frozenset({"hdrh", "psycopg", "psutil"}),
    "render": frozenset({"rich", "matplotlib"}),
    # referencing is jsonschema's registry API (jsonschema>=4.18); agents/schema.py uses it to
    # refuse every $ref retrieval.
    "front": frozenset({"mcp", "jsonschema", "referencing", "pydantic"}),
}

# Treated as the standard library: typeshed's stub-only module, importable only under
# TYPE_CHECKING (sources/http_get.py takes WriteableBuffer from it).
STDLIB = frozenset(sys.stdlib_module_names) | {"_typeshed"}

# Known violations, (importing module, what it imports) -> why it is still here. A stage is
# written "stage:NAME", a third-party package by its top-level import name. Each is a layering
# bug (or an undocumented departure) to fix; remove the entry when it is fixed.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    # advisors compute with the laws only; these build plot grids with np.linspace/geomspace.
    (f"{PACKAGE}.advisors.batching.advisor", "numpy"): "np.geomspace batch-size grid for series",
    (f"{PACKAGE}.advisors.concurrency.advisor", "numpy"): "np.linspace thread grid for series",
    (f"{PACKAGE}.advisors.usl_report", "numpy"): "np.linspace grid passed to UslFit.predict",
    (f"{PACKAGE}.measure.histogram", "numpy"): "vectorised rounding/clipping before hdrh records",
    (f"{PACKAGE}.measure.runner", "uvloop"): "optional event loop; not in docs/architecture.md",
    (f"{PACKAGE}.measure.locust_guard", "gevent"): "Locust plugin, runs in Locust's process",
    (f"{PACKAGE}.measure.locust_guard", "locust"): "Locust plugin, runs in Locust's process",
}


# --- the checker -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    line: int
    name: str  # the absolute dotted name imported
    target: str  # "stdlib", "stage:NAME", or a third-party top-level name


@dataclass(frozen=True)
class Violation:
    module: str
    where: str  # path:line
    name: str
    target: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.module, self.target)


def stage_of(module: str) -> str | None:
    """The stage ``module`` belongs to, or None when no prefix matches."""
    matches = [
        prefix
        for prefix in STAGE_OF_PREFIX
        if module == prefix or (prefix != PACKAGE and module.startswith(prefix + "."))
    ]
    return STAGE_OF_PREFIX[max(matches, key=len)] if matches else None


def classify(name: str) -> str:
    top = name.partition(".")[0]
    if top == PACKAGE:
        return f"stage:{stage_of(name) or '?'}"
    if top in STDLIB:
        return "stdlib"
    return top


def _from_base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    base = ".".join(parts)
    return f"{base}.{node.module}" if node.module else base


def _dynamic_name(node: ast.Call) -> str | None:
    """The literal name of ``importlib.import_module("x")`` / ``__import__("x")``, else None."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called not in {"import_module", "__import__"} or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value[:1] != ".":
        return arg.value
    return None


def imports_of(
    source: str, module: str, *, is_package: bool = False, modules: Iterable[str] = ()
) -> list[Imported]:
    """Every import in ``source`` (the text of ``module``), wherever it stands."""
    known = frozenset(modules)
    found: list[Imported] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Imported(node.lineno, alias.name, classify(alias.name)))
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node, module, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    found.append(Imported(node.lineno, sub, classify(sub)))
                elif base == PACKAGE and alias.name in ROOT_SHARED_NAMES:
                    found.append(Imported(node.lineno, sub, "stage:shared"))
                else:
                    found.append(Imported(node.lineno, base, classify(base)))
        elif isinstance(node, ast.Call) and (name := _dynamic_name(node)) is not None:
            found.append(Imported(node.lineno, name, classify(name)))
    return found


def allowed(stage: str, target: str) -> bool:
    if target == "stdlib":
        return True
    if target.startswith("stage:"):
        other = target.removeprefix("stage:")
        return other in {stage, "shared"} or other in MAY_IMPORT_STAGES[stage]
    return target in MAY_IMPORT_THIRD_PARTY[stage]


def check_source(
    source: str,
    module: str,
    *,
    path: str = "<string>",
    is_package: bool = False,
    modules: Iterable[str] = (),
) -> list[Violation]:
    """The imports in ``source`` that the stage of ``module`` may not make."""
    stage = stage_of(module)
    assert stage is not None, f"{module} belongs to no stage: add it to STAGE_OF_PREFIX"
    return [
        Violation(module, f"{path}:{imp.line}", imp.name, imp.target)
        for imp in imports_of(source, module, is_package=is_package, modules=modules)
        if not allowed(stage, imp.target)
    ]


@dataclass(frozen=True)
class SourceModule:
    name: str
    path: Path
    is_package: bool

    @property
    def shown(self) -> str:
        return str(self.path.relative_to(REPO))


def source_modules() -> list[SourceModule]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(SRC).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        out.append(SourceModule(".".join(parts), path, is_package))
    return out


def audit(found: Iterable[Violation], known: Mapping[tuple[str, str], str]) -> list[str]:
    """What is wrong: violations not in ``known``, and ``known`` entries no longer found."""
    by_key: dict[tuple[str, str], list[Violation]] = {}
    for v in found:
        by_key.setdefault(v.key, []).append(v)
    problems = [
        f"NEW: {v.where}: {v.module} imports {v.name} ({v.target}), which its stage may not"
        for key, vs in sorted(by_key.items())
        if key not in known
        for v in vs
    ]
    problems += [
        f"STALE: KNOWN_EXCEPTIONS{key!r} is no longer found: remove it ({why})"
        for key, why in sorted(known.items())
        if key not in by_key
    ]
    return problems


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle in the directed graph ``edges``, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(edges.get(node, ())):
            if (cycle := visit(nxt, [*path, node])) is not None:
                return cycle
        done.add(node)
        return None

    for start in sorted(edges):
        if (cycle := visit(start, [])) is not None:
            return cycle
    return None


# --- the tests -------------------------------------------------------------------------------

MODULES = source_modules()
MODULE_NAMES = frozenset(m.name for m in MODULES)


def test_every_module_belongs_to_a_stage() -> None:
    assert len(MODULES) > 50, f"only {len(MODULES)} modules found under {SRC}"
    lost = [m.shown for m in MODULES if stage_of(m.name) is None]
    assert not lost, f"modules in no stage (add them to STAGE_OF_PREFIX): {lost}"


def test_allow_list_is_well_formed() -> None:
    assert set(MAY_IMPORT_STAGES) == STAGES == set(MAY_IMPORT_THIRD_PARTY)
    assert all(s <= STAGES for s in MAY_IMPORT_STAGES.values())
    assert find_cycle(MAY_IMPORT_STAGES) is None
    for module, target in KNOWN_EXCEPTIONS:
        assert module in MODULE_NAMES, f"KNOWN_EXCEPTIONS names no module {module}"
        assert target.removeprefix("stage:") not in STAGES or target.startswith("stage:"), target


def test_stages_import_only_what_they_may() -> None:
    found = [
        v
        for m in MODULES
        for v in check_source(
            m.path.read_text(encoding="utf-8"),
            m.name,
            path=m.shown,
            is_package=m.is_package,
            modules=MODULE_NAMES,
        )
    ]
    problems = audit(found, KNOWN_EXCEPTIONS)
    assert not problems, "layering (see tests/test_layers.py):\n" + "\n".join(problems)


def test_no_import_cycles_between_stages() -> None:
    edges: dict[str, set[str]] = {}
    for m in MODULES:
        stage = stage_of(m.name)
        assert stage is not None
        source = m.path.read_text(encoding="utf-8")
        for imp in imports_of(source, m.name, is_package=m.is_package, modules=MODULE_NAMES):
            other = imp.target.removeprefix("stage:")
            if imp.target.startswith("stage:") and other != stage:
                edges.setdefault(stage, set()).add(other)
    cycle = find_cycle(edges)
    assert cycle is None, f"stages import each other in a cycle: {' -> '.join(cycle or [])}"


# Front doors reach the advisors through the public API only: ``api.py`` is the one caller of the
# advisors; the CLI, the task worker (``agents/``), the MCP server and the live sources call it,
# so that every front door gives the same Report for the same arguments (``--defaults`` included).
ADVISOR_CALLERS = frozenset({f"{PACKAGE}.api"})


def advisor_imports(source: str, module: str, *, is_package: bool = False) -> list[Imported]:
    """The imports of the advisors in ``source`` that a front door other than ``api`` makes."""
    if stage_of(module) != "front" or module in ADVISOR_CALLERS:
        return []
    found = imports_of(source, module, is_package=is_package, modules=MODULE_NAMES)
    return [imp for imp in found if imp.target == "stage:advisors"]


def test_only_the_api_calls_the_advisors() -> None:
    found = [
        f"{m.shown}:{imp.line}: {m.name} imports {imp.name}"
        for m in MODULES
        for imp in advisor_imports(
            m.path.read_text(encoding="utf-8"), m.name, is_package=m.is_package
        )
    ]
    assert not found, "front doors call the advisors through api.py only:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("module", "source", "caught"),
    [
        (f"{PACKAGE}.agents.synthetic", "from throughput_expert.advisors import analyze\n", True),
        (f"{PACKAGE}.agents.synthetic", "def f() -> None:\n    from ..advisors import x\n", True),
        (f"{PACKAGE}.cli", "import throughput_expert.advisors.scaling\n", True),
        (f"{PACKAGE}.agents.synthetic", "from throughput_expert import api\n", False),
        (f"{PACKAGE}.api", "from throughput_expert.advisors.analyze import advise\n", False),
    ],
)
def test_the_advisor_rule_catches(module: str, source: str, caught: bool) -> None:
    assert bool(advisor_imports(source, module)) is caught


# --- self-tests: the checker catches what it should, on synthetic modules ----------------------

LAWS = f"{PACKAGE}.laws.synthetic"


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (LAWS, "import rich\n", {"rich"}),
        (LAWS, "from rich.console import Console\n", {"rich"}),
        (LAWS, "def f() -> None:\n    import rich.console\n", {"rich"}),
        (
            LAWS,
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rich import table\n",
            {"rich"},
        ),
        (LAWS, "import importlib\nimportlib.import_module('rich.console')\n", {"rich"}),
        (LAWS, "from ..render import as_text\n", {"stage:render"}),
        (LAWS, "from throughput_expert.model import units\n", {"stage:model"}),
        (LAWS, "from throughput_expert import analyze\n", {"stage:front"}),
        (LAWS, "import throughput_expert\n", {"stage:front"}),
        (f"{PACKAGE}.model.synthetic", "import numpy as np\n", {"numpy"}),
        (f"{PACKAGE}.advisors.synthetic", "from ..sources import settings\n", {"stage:sources"}),
        (f"{PACKAGE}.render.synthetic", "from throughput_expert.laws import usl\n", {"stage:laws"}),
        (f"{PACKAGE}.errors", "import numpy\n", {"numpy"}),
        # allowed: stdlib, own stage, shared modules, the version, the stage's own third parties
        (
            LAWS,
            "import math\nimport numpy\nfrom scipy import optimize\nfrom . import _checks\n"
            "from .. import errors, redact\nfrom throughput_expert import __version__\n",
            set(),
        ),
        (f"{PACKAGE}.advisors.synthetic", "from ..model import units, settings\n", set()),
        (f"{PACKAGE}.cli", "import mcp\nfrom .render import as_text\n", set()),
    ],
)
def test_checker_catches(module: str, source: str, expected: set[str]) -> None:
    found = check_source(source, module, modules=MODULE_NAMES)
    assert {v.target for v in found} == expected


def test_audit_reports_new_and_stale() -> None:
    rich_in_laws = check_source("import rich\n", LAWS)
    assert audit(rich_in_laws, {(LAWS, "rich"): "listed"}) == []
    assert audit(rich_in_laws, {})[0].startswith("NEW: <string>:1: ")
    assert audit([], {(LAWS, "rich"): "listed"})[0].startswith("STALE: ")


def test_cycle_finder() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
