"""Re-record the JVM entries of the verdict corpus (tests/fixtures/corpus/jvm/).

Needs a JDK (17 was used: ``java``, ``jstack``). The recordings are checked in: tests and CI
never need Java.

    python3 benchmarks/_corpus/record_jvm.py [--dumps 3] [--gap 1.0] [--seconds 3] [jstack|churn]

Starts ``benchmarks/_corpus/jvm/LockContention.java`` (single-file source launch), waits for it
to warm up, takes ``--dumps`` thread dumps ``--gap`` seconds apart with ``jstack -l PID`` and
writes them, one after the other, to ``lock_contention.jstack.txt``.

Then, when ``perf`` is installed (Debian: ``linux-perf``; it needs ``kernel.perf_event_paranoid``
at most 2, or root), records ``benchmarks/_corpus/jvm/AllocChurn.java`` on CPU: compiled with
``javac``, run with frame pointers and a perf map of its JIT code written at exit
(``-XX:+PreserveFramePointer -XX:+DumpPerfMapAtExit``), sampled by ``perf record -g -F 199`` for
``--seconds`` after a warm-up, and folded into async-profiler's collapsed form
(``alloc_churn.perf.collapsed.txt``: ``[thread tid=N]`` at the root, Java frames as
``pkg/Class.method_[j]``, the JVM's own C++ frames by name), which ``tpx`` reads.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "benchmarks/_corpus/jvm/LockContention.java"
CHURN = ROOT / "benchmarks/_corpus/jvm/AllocChurn.java"
OUT = ROOT / "tests/fixtures/corpus/jvm"
WARM_UP_S = 2.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dumps", type=int, default=3)
    parser.add_argument("--gap", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=3.0, help="perf recording of the churn")
    parser.add_argument("only", nargs="?", choices=("jstack", "churn"), help="one recording only")
    args = parser.parse_args()
    java, jstack = shutil.which("java"), shutil.which("jstack")
    if java is None or jstack is None:
        print("a JDK is not installed (java and jstack are needed)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    if args.only == "churn":
        return record_churn(java, args.seconds)
    run_for = WARM_UP_S + args.dumps * args.gap + 2.0
    proc = subprocess.Popen([java, str(PROGRAM), str(run_for)])
    dumps = []
    try:
        time.sleep(WARM_UP_S)
        for i in range(args.dumps):
            if i:
                time.sleep(args.gap)
            done = subprocess.run(
                [jstack, "-l", str(proc.pid)], capture_output=True, text=True, timeout=60
            )
            if done.returncode != 0:
                print(f"jstack failed: {done.stderr.strip()}", file=sys.stderr)
                return 1
            dumps.append(done.stdout)
    finally:
        proc.wait(timeout=60)
    target = OUT / "lock_contention.jstack.txt"
    target.write_text("\n".join(dumps))
    print(f"{target.relative_to(ROOT)}: {target.stat().st_size} bytes, {len(dumps)} dumps")
    if args.only == "jstack":
        return 0
    return record_churn(java, args.seconds)


# --- the churn program on CPU, with perf ---------------------------------------------------------

PERF_HEAD = re.compile(r"^(?P<comm>.*?)\s+(?P<pid>\d+)(?:/(?P<tid>\d+))?\s+[\d.]+:")
PERF_FRAME = re.compile(r"^\s*[0-9a-f]+\s+(?P<name>.+?)\s+\((?P<dso>[^()]*)\)$")
JIT_METHOD = re.compile(r"^(?:[\w$.<>\[\]]+ )?(?P<method>[\w$.]+\.[\w$<>]+)\(.*\)$")


def record_churn(java: str, seconds: float) -> int:
    if shutil.which("perf") is None or shutil.which("javac") is None:
        print("alloc_churn: perf or javac is not installed: not re-recorded", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tpx-jvm-") as tmp:
        classes = Path(tmp) / "classes"
        subprocess.run(["javac", "-d", str(classes), str(CHURN)], check=True)
        run_for = WARM_UP_S + seconds + 2.0
        proc = subprocess.Popen(
            [
                java,
                *("-Xmx256m", "-XX:+UseG1GC", "-XX:+PreserveFramePointer"),
                *("-XX:+UnlockDiagnosticVMOptions", "-XX:+DumpPerfMapAtExit"),
                *("-cp", str(classes), "corpus.AllocChurn", str(run_for)),
            ],
            stdout=subprocess.DEVNULL,
        )
        data = Path(tmp) / "perf.data"
        try:
            time.sleep(WARM_UP_S)
            subprocess.run(
                [
                    *("perf", "record", "-F", "199", "-g", "-p", str(proc.pid)),
                    *("-o", str(data), "--", "sleep", str(seconds)),
                ],
                check=True,
                capture_output=True,
            )
        finally:
            proc.wait(timeout=60)  # the perf map is written at exit
        try:
            script = subprocess.run(
                ["perf", "script", "-i", str(data)], check=True, capture_output=True, text=True
            ).stdout
        finally:
            Path(f"/tmp/perf-{proc.pid}.map").unlink(missing_ok=True)  # the JVM's, read above
    stacks = fold(script)
    target = OUT / "alloc_churn.perf.collapsed.txt"
    target.write_text("".join(f"{stack} {n}\n" for stack, n in sorted(stacks.items())))
    print(f"{target.relative_to(ROOT)}: {sum(stacks.values())} samples, {len(stacks)} stacks")
    return 0


def fold(script: str) -> Counter[str]:
    """perf script's samples as collapsed stacks, in async-profiler's shape."""
    stacks: Counter[str] = Counter()
    for block in script.strip().split("\n\n"):
        lines = block.strip("\n").splitlines()
        head = PERF_HEAD.match(lines[0]) if lines else None
        if head is None:
            continue
        frames = []
        for line in lines[1:]:
            found = PERF_FRAME.match(line)
            if found:
                frames.append(frame_name(found["name"], found["dso"]))
        thread = f"[{head['comm'].strip()} tid={head['tid'] or head['pid']}]"
        stacks[";".join([thread, *reversed(frames)])] += 1
    return stacks


def frame_name(name: str, dso: str) -> str:
    """A JIT method from the perf map as ``pkg/Class.method_[j]``; a C++ or C frame by name."""
    name = re.sub(r"\+0x[0-9a-f]+$", "", name).replace(";", ",")
    if dso.endswith(".map"):  # the JIT's perf map: "RetType pkg.Class.method(args)"
        method = JIT_METHOD.match(name)
        if method:
            return method["method"].replace(".", "/")[::-1].replace("/", ".", 1)[::-1] + "_[j]"
    if dso == "[kernel.kallsyms]":
        return name + "_[k]"
    return name


if __name__ == "__main__":
    raise SystemExit(main())
