"""Profile reading cost: `load_profile` on 1,000,000-sample profiles, against a floor per format.

Builds, in a temporary folder, one profile per format from the same synthetic call tree (300
functions, 5,000 distinct stacks 6-24 frames deep, samples drawn with a skew like a real hot
path), then times, side by side alternating, `load_profile` against the bare floor:

- speedscope (4 py-spy-like threads, weights 0.01 s) and .cpuprofile: `json.load` of the file,
  goal <= 2x;
- collapsed (one line per sample, unaggregated, as some tools write it): reading the file and
  `rsplit(" ", 1)` of each line, goal <= 3x;
- pprof (gzipped, one Sample message per sample): gunzip of the file; the ratio is reported.

Then the memory of a streamed read: a ~350 MB collapsed file (1,000 distinct stacks repeated,
one line per sample as some tools write it) read by `load_profile` in a fresh process, whose
peak RSS (VmHWM of `/proc/self/status`: Linux) is printed beside a bare interpreter's and the goal:
peak RSS < 100 MiB, i.e. memory grows with the distinct stacks, not with the lines.

    python benchmarks/profiles.py [--runs N] [--samples N] [--stream-mb N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _shared import field, varint  # benchmarks/_shared.py

from throughput_expert.sources.profiles import load_profile

FUNCTIONS = 300
STACKS = 5_000
GOALS = {"speedscope": 2.0, "cpuprofile": 2.0, "collapsed": 3.0, "pprof": None}
STREAM_STACKS = 1_000
STREAM_GOAL_MIB = 100
# The child's own peak: VmHWM is reset by execve, where ru_maxrss keeps the parent's peak.
PEAK_RSS = """
import sys
if sys.argv[1] != "-":
    from throughput_expert.sources.profiles import load_profile
    profile = load_profile(sys.argv[1])
    assert len(profile.stacks) <= {stacks}
with open("/proc/self/status") as fh:
    print(next(line.split()[1] for line in fh if line.startswith("VmHWM:")))
"""


def make_stacks(rng: np.random.Generator) -> list[list[int]]:
    """Distinct root -> leaf stacks of function indices, sharing prefixes like a real tree."""
    stacks: list[list[int]] = []
    while len(stacks) < STACKS:
        base = stacks[int(rng.integers(len(stacks)))] if stacks else [0]
        cut = int(rng.integers(1, len(base) + 1))
        depth = int(rng.integers(6, 25))
        tail = rng.integers(1, FUNCTIONS, size=max(depth - cut, 1)).tolist()
        stacks.append(base[:cut] + tail)
    return stacks


def draw(rng: np.random.Generator, samples: int) -> np.ndarray:
    """Stack indices per sample: a Zipf-like skew, so a few stacks dominate."""
    weights = 1.0 / np.arange(1, STACKS + 1) ** 1.1
    return rng.choice(STACKS, size=samples, p=weights / weights.sum())


def write_speedscope(path: Path, stacks: list[list[int]], picks: np.ndarray) -> None:
    frames = [
        {"name": f"fn{i}", "file": f"mod{i % 40}.py", "line": i, "col": None}
        for i in range(FUNCTIONS)
    ]
    profiles = []
    for t, part in enumerate(np.array_split(picks, 4)):
        samples = [stacks[i] for i in part.tolist()]
        profiles.append(
            {
                "type": "sampled",
                "name": f'Thread {100 + t} "worker-{t}"',
                "unit": "seconds",
                "startValue": 0.0,
                "endValue": len(samples) * 0.01,
                "samples": samples,
                "weights": [0.01] * len(samples),
            }
        )
    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "exporter": "py-spy@0.4.3",
        "shared": {"frames": frames},
        "profiles": profiles,
        "name": "bench",
        "activeProfileIndex": None,
    }
    path.write_text(json.dumps(doc, separators=(",", ":")))


def write_cpuprofile(
    path: Path, stacks: list[list[int]], picks: np.ndarray, rng: np.random.Generator
) -> None:
    nodes = [
        {
            "id": 1,
            "callFrame": {
                "functionName": "(root)",
                "scriptId": "0",
                "url": "",
                "lineNumber": -1,
                "columnNumber": -1,
            },
            "hitCount": 0,
            "children": [],
        }
    ]
    ids: dict[tuple[int, ...], int] = {(): 1}
    leaf = []
    for stack in stacks:
        for depth in range(1, len(stack) + 1):
            key = tuple(stack[:depth])
            if key not in ids:
                ids[key] = len(nodes) + 1
                fn = stack[depth - 1]
                nodes.append(
                    {
                        "id": ids[key],
                        "callFrame": {
                            "functionName": f"fn{fn}",
                            "scriptId": "3",
                            "url": f"file:///app/m{fn % 40}.js",
                            "lineNumber": fn,
                            "columnNumber": 4,
                        },
                        "hitCount": 0,
                        "children": [],
                    }
                )
                nodes[ids[key[:-1]] - 1]["children"].append(ids[key])  # type: ignore[union-attr]
        leaf.append(ids[tuple(stack)])
    samples = [leaf[i] for i in picks.tolist()]
    deltas = rng.integers(900, 1300, size=len(samples)).tolist()
    doc = {
        "nodes": nodes,
        "startTime": 421080061,
        "endTime": 421080061 + sum(deltas),
        "samples": samples,
        "timeDeltas": deltas,
    }
    path.write_text(json.dumps(doc, separators=(",", ":")))


def write_collapsed(path: Path, stacks: list[list[int]], picks: np.ndarray) -> None:
    text = [";".join(f"fn{f} (mod{f % 40}.py:{f})" for f in s) for s in stacks]
    with path.open("w") as fh:
        fh.writelines(f"{text[i]} 1\n" for i in picks.tolist())


def write_pprof(path: Path, stacks: list[list[int]], picks: np.ndarray) -> None:
    strings = ["", "samples", "count", "cpu", "nanoseconds"]
    strings += [f"main.fn{i}" for i in range(FUNCTIONS)] + ["main.go"]
    file_index = len(strings) - 1
    parts = [field(1, field(1, 1) + field(2, 2)), field(1, field(1, 3) + field(2, 4))]
    for fn in range(FUNCTIONS):
        parts.append(field(5, field(1, fn + 1) + field(2, 5 + fn) + field(4, file_index)))
        parts.append(field(4, field(1, fn + 1) + field(4, field(1, fn + 1) + field(2, fn + 10))))
    messages = [
        field(
            2,
            field(1, b"".join(varint(f + 1) for f in reversed(s)))
            + field(2, varint(1) + varint(10_000_000)),
        )
        for s in stacks
    ]
    parts += [messages[i] for i in picks.tolist()]
    parts += [field(6, s.encode()) for s in strings]
    parts += [field(11, field(1, 3) + field(2, 4)), field(12, 10_000_000)]
    path.write_bytes(gzip.compress(b"".join(parts), compresslevel=6))


def floor_json(path: Path) -> None:
    with path.open() as fh:
        json.load(fh)


def floor_lines(path: Path) -> None:
    with path.open() as fh:
        for line in fh:
            line.rsplit(" ", 1)


def floor_gunzip(path: Path) -> None:
    gzip.decompress(path.read_bytes())


def median_pair(a: Callable[[], object], b: Callable[[], object], runs: int) -> tuple[float, float]:
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out in ((a, times[0]), (b, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def report(
    name: str, path: Path, floor: Callable[[Path], None], floor_name: str, runs: int
) -> None:
    base, load = median_pair(lambda: floor(path), lambda: load_profile(path), runs)
    goal = GOALS[name]
    met = goal is not None and load / base <= goal
    verdict = "(reported)" if goal is None else f"<= {goal:g}x: {'met' if met else 'not met'}"
    size = f"{path.stat().st_size / 1e6:.1f} MB"
    times = f"{base:8.3f} {load:8.3f} {load / base:5.2f}x"
    print(f"{name:<11} {size:>9} {floor_name:<20} {times}  {verdict}")


def write_big_collapsed(path: Path, megabytes: int) -> int:
    """About ``megabytes`` MB of py-spy-like folded lines drawn from ``STREAM_STACKS`` distinct
    stacks, counts 1-3; returns the number of lines."""
    draw = random.Random(11)
    stacks = [
        ";".join(
            f"fn{draw.randrange(300)} (mod{draw.randrange(40)}.py:{draw.randrange(1, 500)})"
            for _ in range(draw.randint(6, 24))
        )
        for _ in range(STREAM_STACKS)
    ]
    size = lines = 0
    with path.open("w") as fh:
        while size < megabytes * 1_000_000:
            block = "".join(
                f"{stacks[draw.randrange(STREAM_STACKS)]} {draw.randint(1, 3)}\n"
                for _ in range(10_000)
            )
            fh.write(block)
            size += len(block)
            lines += 10_000
    return lines


def peak_rss_mib(path: str) -> float:
    """Peak RSS of a fresh interpreter that reads ``path`` with ``load_profile`` (``-``: that
    reads nothing)."""
    code = PEAK_RSS.format(stacks=STREAM_STACKS)
    out = subprocess.run(
        [sys.executable, "-c", code, path], check=True, capture_output=True, text=True
    )
    return int(out.stdout.split()[-1]) / 1024  # VmHWM is in KiB


def report_stream(folder: Path, megabytes: int) -> None:
    path = folder / "big.collapsed.txt"
    lines = write_big_collapsed(path, megabytes)
    bare = peak_rss_mib("-")
    start = time.perf_counter()
    peak = peak_rss_mib(str(path))
    took = time.perf_counter() - start
    size = path.stat().st_size / 1e6
    verdict = "met" if peak < STREAM_GOAL_MIB else "not met"
    print(
        f"streamed collapsed: {size:.0f} MB, {lines:,} lines, {STREAM_STACKS:,} distinct stacks: "
        f"peak RSS {peak:.0f} MiB (bare interpreter {bare:.0f} MiB), whole process {took:.2f} s"
    )
    print(f"goal peak RSS < {STREAM_GOAL_MIB} MiB: {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--stream-mb", type=int, default=350, help="size of the streamed file")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    stacks = make_stacks(rng)
    picks = draw(rng, args.samples)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {
            "speedscope": (folder / "p.speedscope.json", floor_json, "json.load"),
            "cpuprofile": (folder / "p.cpuprofile", floor_json, "json.load"),
            "collapsed": (folder / "p.collapsed.txt", floor_lines, "read + rsplit lines"),
            "pprof": (folder / "p.pb.gz", floor_gunzip, "gunzip"),
        }
        write_speedscope(files["speedscope"][0], stacks, picks)
        write_cpuprofile(files["cpuprofile"][0], stacks, picks, rng)
        write_collapsed(files["collapsed"][0], stacks, picks)
        write_pprof(files["pprof"][0], stacks, picks)
        runs = max(args.runs, 3)
        print(f"{args.samples:,} samples, {STACKS:,} distinct stacks, median of {runs} runs")
        print(f"{'format':<11} {'size':>9} {'floor':<20} {'floor s':>8} {'load s':>8} ratio  goal")
        for name, (path, floor, floor_name) in files.items():
            report(name, path, floor, floor_name, runs)
        for path, _, _ in files.values():
            path.unlink()
        report_stream(folder, args.stream_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
