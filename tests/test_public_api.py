"""The curated public surface: what ``from throughput_expert import *`` gives, and nothing else."""

from __future__ import annotations

import subprocess
import sys

import throughput_expert


def test_all_is_exactly_the_public_names() -> None:
    public = {n for n in dir(throughput_expert) if not n.startswith("_")}
    modules = {"api", "errors", "model", "laws", "sources", "advisors", "render", "cli"}
    modules.add("annotations")  # from __future__ import annotations binds the name
    assert set(throughput_expert.__all__) - {"__version__"} == public - modules


def test_importing_the_package_and_cli_stays_light() -> None:
    code = (
        "import sys, throughput_expert, throughput_expert.cli; "
        "heavy = {'numpy', 'scipy', 'yaml', 'rich'} & set(sys.modules); "
        "print(','.join(sorted(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
