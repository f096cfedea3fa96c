"""The curated public surface: what ``from throughput_expert import *`` gives, and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import throughput_expert


def test_all_is_exactly_the_public_names() -> None:
    # in a fresh interpreter: other tests import submodules, which become package attributes
    code = "import throughput_expert as t; print(' '.join(n for n in dir(t) if n[0] != '_'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    public = set(out.stdout.split())
    modules = {"api", "errors", "live", "model", "params", "redact", "annotations", "TYPE_CHECKING"}
    exported = set(throughput_expert.__all__) - {"__version__"}
    lazy = {"PrometheusOptions"}  # resolved on first use by the package's __getattr__
    assert exported - lazy == public - modules
    for name in exported:
        assert getattr(throughput_expert, name) is not None


def test_importing_the_package_and_cli_stays_light() -> None:
    code = (
        "import sys, throughput_expert, throughput_expert.cli; "
        "heavy = {'numpy', 'scipy', 'yaml', 'rich'} & set(sys.modules); "
        "print(','.join(sorted(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    # `tpx analyze` of a small file: the analysis runs whole, through the M/M/c queue that once
    # imported scipy for its Poisson CDF, yet neither scipy nor numpy is imported (~0.4 s)
    run = _analyze_in_a_fresh_interpreter(preload="")
    assert run["code"] == 0
    assert run["command"] == "analyze"
    assert run["stable_erlang_calls"] > 0  # the path that needed scipy did run
    assert run["heavy"] == []
    # and the probe does see scipy when something imports it: it cannot pass by looking away
    control = _analyze_in_a_fresh_interpreter(preload="scipy.special")
    assert control["code"] == 0
    assert control["heavy"] == ["numpy", "scipy"]


_ANALYZE_PROBE = """
import contextlib, io, json, sys
if sys.argv[2]:
    __import__(sys.argv[2])
from throughput_expert import cli
from throughput_expert.laws import queueing
erlang_b, stable = queueing._erlang_b, []
def counted(servers, load):
    if servers >= load > 0:
        stable.append(servers)
    return erlang_b(servers, load)
queueing._erlang_b = counted
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = cli.main(["analyze", "--metrics", sys.argv[1], "--format", "json"])
heavy = {"numpy", "scipy", "rich"} & {name.partition(".")[0] for name in sys.modules}
print(json.dumps({
    "code": code,
    "command": json.loads(out.getvalue())["command"],
    "stable_erlang_calls": len(stable),
    "heavy": sorted(heavy),
}))
"""


def _analyze_in_a_fresh_interpreter(preload: str) -> dict[str, Any]:
    example = Path(throughput_expert.__file__).parent / "examples" / "message-consumer.json"
    command = [sys.executable, "-c", _ANALYZE_PROBE, str(example), preload]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result
