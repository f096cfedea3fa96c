"""Re-record the Node entries of the verdict corpus (tests/fixtures/corpus/node/).

Needs Node (20 was used). The recordings are checked in: tests and CI never need Node.

    python3 benchmarks/_corpus/record_node.py [--seconds 2]

Runs each program of ``benchmarks/_corpus/node/`` under ``node --cpu-prof`` (one sample every
2 ms, to keep the files small) and writes ``<program>.cpuprofile`` into the corpus.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "benchmarks/_corpus/node"
OUT = ROOT / "tests/fixtures/corpus/node"
INTERVAL_US = 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        print("node is not installed (apt-get install nodejs)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for program in sorted(PROGRAMS.glob("*.js")):
        name = f"{program.stem}.cpuprofile"
        with tempfile.TemporaryDirectory() as tmp:
            command = [
                node,
                "--cpu-prof",
                f"--cpu-prof-interval={INTERVAL_US}",
                f"--cpu-prof-dir={tmp}",
                f"--cpu-prof-name={name}",
                str(program),
                str(args.seconds),
            ]
            subprocess.run(command, check=True, timeout=120)
            target = OUT / name
            shutil.copyfile(Path(tmp) / name, target)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
