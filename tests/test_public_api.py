"""The curated public surface: what ``from throughput_expert import *`` gives, and nothing else."""

from __future__ import annotations

import subprocess
import sys

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
