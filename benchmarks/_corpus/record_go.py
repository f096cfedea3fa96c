"""Re-record the Go entries of the verdict corpus (tests/fixtures/corpus/go/).

Needs Go (Debian: ``apt-get install golang-go``; standard library only, nothing is downloaded).
The recordings are checked in: tests and CI never need Go.

    python3 benchmarks/_corpus/record_go.py [--seconds 4]

Runs ``benchmarks/_corpus/go/lockjson.go`` once (it profiles itself with ``runtime/pprof``)
and copies its five profiles into the corpus: cpu, mutex, block, heap and goroutine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "benchmarks/_corpus/go/lockjson.go"
OUT = ROOT / "tests/fixtures/corpus/go"
KINDS = ("cpu", "mutex", "block", "heap", "goroutine")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    go = shutil.which("go")
    if go is None:
        print("go is not installed (apt-get install golang-go)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "lockjson"
        subprocess.run([go, "build", "-o", str(binary), str(PROGRAM)], check=True, cwd=tmp)
        started = time.monotonic()
        subprocess.run(
            [str(binary), "-out", tmp, "-seconds", str(args.seconds)], check=True, timeout=120
        )
        print(f"ran {time.monotonic() - started:.1f} s")
        for kind in KINDS:
            target = OUT / f"lockjson.{kind}.pb.gz"
            shutil.copyfile(Path(tmp) / f"{kind}.pb.gz", target)
            print(f"{target.relative_to(ROOT)}: {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
