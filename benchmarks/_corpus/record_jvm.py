"""Re-record the JVM entries of the verdict corpus (tests/fixtures/corpus/jvm/).

Needs a JDK (17 was used: ``java``, ``jstack``). The recordings are checked in: tests and CI
never need Java.

    python3 benchmarks/_corpus/record_jvm.py [--dumps 3] [--gap 1.0]

Starts ``benchmarks/_corpus/jvm/LockContention.java`` (single-file source launch), waits for it
to warm up, takes ``--dumps`` thread dumps ``--gap`` seconds apart with ``jstack -l PID`` and
writes them, one after the other, to ``lock_contention.jstack.txt``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "benchmarks/_corpus/jvm/LockContention.java"
OUT = ROOT / "tests/fixtures/corpus/jvm"
WARM_UP_S = 2.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dumps", type=int, default=3)
    parser.add_argument("--gap", type=float, default=1.0)
    args = parser.parse_args()
    java, jstack = shutil.which("java"), shutil.which("jstack")
    if java is None or jstack is None:
        print("a JDK is not installed (java and jstack are needed)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
