"""Verdict accuracy: does `tpx find-bottleneck` name the bottleneck a program was built to have?

Reads every ``tests/fixtures/corpus/*/manifest.yaml`` (real recordings of small programs whose
bottleneck is known by construction; docs in each manifest), runs ``find_bottleneck`` on each
recording (with its ``gil_profile`` when it has one) and compares the verdict with the expected
one: the bottleneck type, the category, the component (a substring of
``analysis.bottleneck.component``; null: any) and, when the manifest gives it, the thread state.
A recording is right when all of them match.

    python benchmarks/verdict_accuracy.py [--runtime go] [--verbose]

Prints per recording ok or MISS, then the expected and the given verdict (type / category /
component / state; a miss or --verbose key by key, marking what differs), the share right per
runtime and overall, and ``goal 100 %: met|not met``. Missing manifests (a runtime not recorded
yet) are skipped and said.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
RUNTIMES = ("python", "go", "node", "jvm")
KEYS = ("type", "category", "component", "state")


@dataclass(frozen=True)
class Outcome:
    runtime: str
    file: str
    expected: dict[str, Any]
    given: dict[str, Any]
    wrong: tuple[str, ...]
    error: str | None = None

    @property
    def right(self) -> bool:
        return self.error is None and not self.wrong


def manifests(only: str | None) -> tuple[list[tuple[str, Path, dict[str, Any]]], list[str]]:
    """(runtime, folder, entry) for every recording, and the runtimes without a manifest."""
    entries: list[tuple[str, Path, dict[str, Any]]] = []
    missing = []
    folders = sorted(p for p in CORPUS.glob("*") if p.is_dir()) if CORPUS.is_dir() else []
    names = [f.name for f in folders]
    for runtime in dict.fromkeys([*RUNTIMES, *names]):
        if only and runtime != only:
            continue
        manifest = CORPUS / runtime / "manifest.yaml"
        if not manifest.is_file():
            missing.append(runtime)
            continue
        doc = yaml.safe_load(manifest.read_text()) or {}
        for entry in doc.get("recordings") or []:
            entries.append((runtime, manifest.parent, entry))
    return entries, missing


def judge(runtime: str, folder: Path, entry: dict[str, Any]) -> Outcome:
    from throughput_expert import find_bottleneck
    from throughput_expert.errors import ThroughputError

    expected = dict(entry.get("expected") or {})
    gil = entry.get("gil_profile")
    try:
        report = find_bottleneck(
            [folder / entry["file"]], gil_profile=folder / gil if gil else None
        )
    except ThroughputError as exc:
        return Outcome(runtime, entry["file"], expected, {}, (), str(exc))
    verdict = report.to_dict()["analysis"]["bottleneck"]
    given = {key: verdict.get(key) for key in KEYS}
    wrong = []
    for key in KEYS:
        if key not in expected or (key == "state" and expected[key] is None):
            continue
        want, got = expected[key], given[key]
        if key == "component":
            if want is not None and (got is None or str(want) not in str(got)):
                wrong.append(key)
        elif want != got:
            wrong.append(key)
    return Outcome(runtime, entry["file"], expected, given, tuple(wrong))


def _line(verdict: dict[str, Any]) -> str:
    """type / category / component / state, as one line ("-" where not given)."""
    return " / ".join(str(verdict.get(key) or "-") for key in KEYS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", choices=RUNTIMES, help="only this runtime's recordings")
    parser.add_argument(
        "--verbose", action="store_true", help="right verdicts key by key too, as misses are"
    )
    args = parser.parse_args()
    entries, missing = manifests(args.runtime)
    for runtime in missing:
        print(f"{runtime}: no manifest yet (tests/fixtures/corpus/{runtime}/manifest.yaml)")
    if not entries:
        print("no recordings: nothing to score")
        print("goal 100 %: not met")
        return 0
    outcomes = [judge(runtime, folder, entry) for runtime, folder, entry in entries]
    for o in outcomes:
        mark = "ok  " if o.right else "MISS"
        print(f"{mark} {o.runtime}/{o.file}")
        if o.error:
            print(f"       error: {o.error}")
        elif o.right and not args.verbose:
            print(f"       expected {_line(o.expected)}")
            print(f"       given    {_line(o.given)}")
        else:
            for key in KEYS:
                if key in o.expected:
                    flag = " <-" if key in o.wrong else ""
                    want, got = o.expected[key], o.given[key]
                    print(f"       {key:9} expected {want!r:40} given {got!r}{flag}")
    print()
    for runtime in dict.fromkeys(o.runtime for o in outcomes):
        mine = [o for o in outcomes if o.runtime == runtime]
        right = sum(o.right for o in mine)
        print(f"{runtime:7} {right}/{len(mine)} right ({100 * right / len(mine):.0f} %)")
    right = sum(o.right for o in outcomes)
    share = 100 * right / len(outcomes)
    print(f"all     {right}/{len(outcomes)} right ({share:.0f} %)")
    print(f"goal 100 %: {'met' if right == len(outcomes) and not missing else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
