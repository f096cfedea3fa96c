"""The README stays true: its metrics example is accepted and the schema agrees with it, and
every command it shows runs (the live ones against the services of scripts/services) or says
why not."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from throughput_expert import analyze

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "src/throughput_expert/schemas/metrics.schema.json").read_text())


def test_readme_metrics_example_is_valid_and_analyzes(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```json\n(.*?)```", readme, re.S)
    assert block is not None
    doc = json.loads(block.group(1))
    jsonschema.validate(doc, SCHEMA)
    path = tmp_path / "m.json"
    path.write_text(block.group(1))
    report = analyze([path]).to_dict()
    assert report["analysis"]["bottleneck"]["type"] == "cpu"
    assert report["analysis"]["headroom"]["ceiling_rps"] == 1750.0  # 2,000 x 0.70 / 0.80


# --- every ```bash block of the README runs, or says why not -------------------------------

BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)
SYNOPSIS = re.compile(r"\[--|\b(FILE|PID|N|T|X|DIR|PATH|COMMAND|ARGS)\b|\|(cpu|io|json)\b")

# Blocks not run, by their first line, and why. Every other block runs: its synopsis lines
# (placeholders such as FILE, [--flag]) are checked flag by flag against `tpx CMD --help`.
NOT_RUN = {
    "scripts/test": "runs the whole suite: this test is part of it",
    "scripts/services start": "starts the services this test uses",
    "py-spy record --idle": "records a user's app.py with ptrace (tests/measure test py-spy)",
    "npm install --save-exact": "needs npm and the babysitter SDK (tests/agents run the loop)",
    "tpx task runs/r1/": "hand-made run folders and a stdio server (tests/agents run them)",
}

# Service addresses as the README writes them -> (variable of .services/env, how it is spelled).
SERVICES = {
    "http://127.0.0.1:9100/metrics": "TPX_NODE_EXPORTER_URL",
    "http://127.0.0.1:9090": "TPX_PROMETHEUS_URL",
    "http://127.0.0.1:8080/": "TPX_LOAD_SERVICE_URL",
    "postgresql://user@127.0.0.1:5432/db": "TPX_POSTGRES_DSN",
}

# Shorter runs of the same commands: durations and names of files the reader brings.
SHORTER = [
    (re.compile(r"python3 -m pip install -e \. && "), ""),
    (re.compile(r"sleep 15"), "sleep 2"),
    (re.compile(r"--interval 15s"), "--interval 2s"),
    (re.compile(r"--duration \d+s"), "--duration 0.3s"),
    (re.compile(r"tpx sweep (--url|--callable)"), r"tpx sweep --warmup 0.1s \1"),
    (re.compile(r"--observe 30s"), "--observe 1s"),
    (re.compile(r"--max-levels 5"), "--max-levels 3 --duration 0.3s"),
    (re.compile(r"--slo 200ms"), "--slo 200ms --duration 0.5s"),
    (re.compile(r"mymodule:handle"), "examples.handler:handle"),
    (re.compile(r"'db1:9100'"), '"${NODE_INSTANCE}"'),
]
LOCUST_CSV = ROOT / "tests/sources/loadtests/fixtures/locust-2.47.0-late_stats_history.csv"


def _commands(block: str) -> list[str]:
    """The block's commands: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    out = []
    for line in joined.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _blocks() -> list[tuple[str, list[str]]]:
    readme = (ROOT / "README.md").read_text()
    return [(b.splitlines()[0], _commands(b)) for b in BASH_BLOCK.findall(readme)]


def _reason(first: str) -> str | None:
    return next((why for key, why in NOT_RUN.items() if first.startswith(key)), None)


def _help_flags(command: str) -> set[str]:
    out = subprocess.run(
        [*TPX, command, "--help"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(re.findall(r"--[a-z][a-z0-9-]*", out))


TPX = [sys.executable, "-c", "import sys; from throughput_expert.cli import main; sys.exit(main())"]


def test_readme_synopsis_flags_exist() -> None:
    """Every --flag a synopsis line names is a flag of that command."""
    checked = 0
    for _first, commands in _blocks():
        for cmd in commands:
            m = re.match(r"tpx ([a-z-]+)", cmd)
            if m is None or not SYNOPSIS.search(cmd):
                continue
            flags = set(re.findall(r"--[a-z][a-z0-9-]*", cmd.split(" -- ")[0]))
            unknown = flags - _help_flags(m.group(1))
            assert not unknown, f"README: `{cmd}` names {sorted(unknown)}, not flags of tpx"
            checked += 1
    assert checked >= 5


def _runnable() -> list[tuple[str, str]]:
    """(block's first line, its commands) for every block the README shows to be run: the
    commands of a block run in order in one shell (a later one reads what an earlier one saved)."""
    runs = []
    for first, commands in _blocks():
        run = [c for c in commands if not SYNOPSIS.search(c)]
        if _reason(first) is None and run:
            runs.append((first, "\n".join(run)))
    return runs


def test_every_readme_block_is_run_or_says_why() -> None:
    for first, commands in _blocks():
        runs = [c for c in commands if not SYNOPSIS.search(c)]
        synopsis = [c for c in commands if SYNOPSIS.search(c)]
        assert _reason(first) or runs or synopsis, f"README block {first!r}: nothing to check"


@pytest.mark.parametrize(
    ("first", "command"), _runnable(), ids=lambda v: str(v)[:60].replace(" ", "_")
)
def test_readme_command_runs(first: str, command: str, tmp_path: Path) -> None:
    """Each README block runs as written from a checkout (`examples/`, `src/` beside it); a block
    naming a service runs against scripts/services' one, and is skipped when it is not set (in
    CI it fails: the services are started there)."""
    env = dict(os.environ)
    for address, var in SERVICES.items():
        if address in command:
            value = os.environ.get(var)
            if not value:
                message = f"{var} is not set (bash scripts/services start && . .services/env)"
                if os.environ.get("CI"):
                    pytest.fail(message)
                pytest.skip(message)
            # the load service answers on /cpu (a short burn), not on /
            path = "/cpu?seconds=0.0005" if var == "TPX_LOAD_SERVICE_URL" else ""
            command = command.replace(address, f'"${{{var}}}{path}"')
    if "${NODE_INSTANCE}" in command or "'db1:9100'" in command:
        exporter = os.environ.get("TPX_NODE_EXPORTER_URL", "")
        env["NODE_INSTANCE"] = re.sub(r"^https?://|/metrics$", "", exporter)
    for pattern, replacement in SHORTER:
        command = pattern.sub(replacement, command)
    for name in ("examples", "src"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "locust_stats_history.csv").write_bytes(LOCUST_CSV.read_bytes())
    tpx = " ".join(shlex.quote(a) for a in TPX)
    script = f'set -euo pipefail\ntpx() {{ {tpx} "$@"; }}\n{command}\n'
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"README: `{command}` exited {done.returncode}: {done.stderr}"
    assert not list((ROOT / "examples").rglob("result.json")), "a README command wrote examples/"
