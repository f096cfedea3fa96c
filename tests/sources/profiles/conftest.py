"""Live recordings with the real profilers (py-spy, node), shared by the reader tests.

In CI (env ``CI`` set) a missing tool fails the test; elsewhere it skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PROGRAMS = FIXTURES / "programs"
RUN_SECONDS = "1.5"


def require_tool(name: str, hint: str) -> str:
    """The path of a tool on PATH, or fail (in CI) / skip (elsewhere)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({hint})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def record_pyspy(out: Path, program: str, fmt: str, *flags: str) -> Path:
    """Run ``program`` under ``py-spy record`` at 100 Hz until it exits (about 1.5 s)."""
    pyspy = require_tool("py-spy", "pip install py-spy")
    command = [pyspy, "record", "-r", "100", "-d", "30", "-f", fmt, "-o", str(out), *flags]
    command += ["--", sys.executable, str(PROGRAMS / program), RUN_SECONDS]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0 or not out.exists():
        pytest.fail(f"py-spy failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return out


def record_node(folder: Path, program: str) -> Path:
    """Run a JS program under ``node --cpu-prof``; returns the .cpuprofile it wrote."""
    node = require_tool("node", "apt-get install nodejs")
    command = [node, "--cpu-prof", f"--cpu-prof-dir={folder}", "--cpu-prof-name=out.cpuprofile"]
    command += [str(PROGRAMS / program), "1.0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    out = folder / "out.cpuprofile"
    if done.returncode != 0 or not out.exists():
        pytest.fail(f"node --cpu-prof failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return out
