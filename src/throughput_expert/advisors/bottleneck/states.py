"""Thread states from frames: what each sampled thread was doing (``thread_states.yaml``).

Each stack is walked from the leaf up through its *wait chain*: frames a state rule matches, and
native frames no rule matches (libc addresses under ``pthread_cond_timedwait``). The deepest
matching frame names the state, unless a frame of the chain is benign (``idle``: an empty
``queue.get``, ``Thread.join``, an event loop with nothing ready), which makes the sample idle:
a lock taken inside an empty queue's ``get`` is waiting for work, not contention. No match:
running. A sample's *site* is its deepest frame of the program's own code (not the standard
library nor installed packages): the line where a lock is taken, a downstream called, or the
hot loop runs.

CPython runs one thread's bytecode at a time, so in a wall-clock profile without native frames
(py-spy ``--idle``) the samples at Python lines beyond one thread's worth per tick were not
running Python: they were waiting for the GIL or blocked in a C call the frames do not show
(``estimate_hidden_waits``).
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass

from throughput_expert.model.profile import Frame, Profile
from throughput_expert.model.settings import Rule, Settings, StateRule

__all__ = [
    "RUNNING",
    "SampleStates",
    "frame_site",
    "is_library",
    "profile_runtime",
    "sample_states",
]

RUNNING = "running"
IDLE = "idle"
SLEEP = "sleep"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]+$")
_NATIVE = ("native", "unknown", "kernel")
_GO_PARK = re.compile(r"^runtime\.(gopark|goparkunlock)$")
_GO_LIBRARY_DIRS = re.compile(r"/pkg/mod/|(^|/)vendor/")
_JAVA_LIBRARY = re.compile(r"^(java|javax|jdk|sun|com\.sun)\.")
_LIBRARY_DIRS = re.compile(r"(^|/)(site-packages|dist-packages|lib/python\d[\d.]*|lib64/python\d)/")
_STDLIB = frozenset(sys.stdlib_module_names)
RUNTIME_KINDS = {  # a rule's runtime -> the frame kinds it matches
    "python": {"python"},
    "java": {"java", "jit"},
    "go": {"go"},
    "js": {"js"},
    "native": {"native", "unknown"},
    "kernel": {"kernel"},
}


@dataclass(frozen=True)
class SampleStates:
    """Each stack's state and site (an index into the profile's frames, or None), and the
    weights per state, overall and per thread."""

    states: tuple[str, ...]
    sites: tuple[int | None, ...]
    by_state: dict[str, float]
    by_thread: dict[str | None, dict[str, float]]
    native: bool
    """The profile has native frames (py-spy --native, perf): C-level waits are visible."""


def sample_states(profile: Profile, settings: Settings) -> SampleStates:
    frames = profile.frames
    plain = [_frame_state(f, settings.state_rules, None) for f in frames]
    caller_rules = [r for r in settings.state_rules if r.called_from]
    user = [_is_user(f) for f in frames]
    states: list[str] = []
    sites: list[int | None] = []
    by_state: dict[str, float] = defaultdict(float)
    by_thread: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    memo: dict[tuple[int, str | None], str | None] = {}
    for stack, weight, thread in zip(profile.stacks, profile.weights, profile.threads, strict=True):
        state = _state(stack, frames, plain, caller_rules, memo)
        states.append(state)
        sites.append(_site(stack, frames, user))
        by_state[state] += weight
        by_thread[thread][state] += weight
    _background_sleepers(states, profile, by_state, by_thread)
    native = any(f.kind == "native" for f in frames) and any(f.kind == "python" for f in frames)
    return SampleStates(
        states=tuple(states),
        sites=tuple(sites),
        by_state=dict(by_state),
        by_thread={t: dict(s) for t, s in by_thread.items()},
        native=native,
    )


def _background_sleepers(
    states: list[str],
    profile: Profile,
    by_state: dict[str, float],
    by_thread: dict[str | None, dict[str, float]],
) -> None:
    """A thread that only sleeps (nothing else but idle) is a timer or poller, not a serving
    thread: its sleep is idle."""
    quiet = {
        t
        for t, s in by_thread.items()
        if t is not None and s.get(SLEEP, 0.0) > 0 and set(s) <= {SLEEP, IDLE}
    }
    for n, thread in enumerate(profile.threads):
        if thread in quiet and states[n] == SLEEP:
            states[n] = IDLE
    for thread in quiet:
        moved = by_thread[thread].pop(SLEEP)
        by_thread[thread][IDLE] = by_thread[thread].get(IDLE, 0.0) + moved
        by_state[SLEEP] -= moved
        by_state[IDLE] = by_state.get(IDLE, 0.0) + moved


def _state(
    stack: tuple[int, ...],
    frames: tuple[Frame, ...],
    plain: list[str | None],
    caller_rules: list[StateRule],
    memo: dict[tuple[int, str | None], str | None],
) -> str:
    """The state of one stack, from its leaf up. A frame's state under a caller rule depends on
    the frame and its caller's kind only: ``memo`` keeps it per (frame, caller kind), so a
    profile of many stacks matches each distinct pair once, not each occurrence."""
    found: str | None = None
    for pos in range(len(stack) - 1, -1, -1):
        i = stack[pos]
        state = plain[i]
        if caller_rules and (found is None or state is None):
            key = (i, _caller_kind(stack, pos, frames))
            if key not in memo:
                memo[key] = _frame_state(frames[i], caller_rules, key[1])
            state = memo[key] or state
        if state is None:
            if frames[i].kind in _NATIVE or _go_park(frames[i]):
                # a native frame no rule names, or where a goroutine parks (runtime.gopark
                # under sync.Mutex.Lock or a channel receive): part of the chain
                continue
            break
        if state == IDLE:
            return IDLE
        found = found or state
    return found or RUNNING


def _go_park(frame: Frame) -> bool:
    return frame.kind == "go" and _GO_PARK.match(frame.name) is not None


def _caller_kind(stack: tuple[int, ...], pos: int, frames: tuple[Frame, ...]) -> str | None:
    """The kind of the first frame above ``pos`` that is not a bare address."""
    for j in range(pos - 1, -1, -1):
        frame = frames[stack[j]]
        if not _ADDRESS.match(frame.name):
            return frame.kind
    return None


def matches(rule: Rule | StateRule, frame: Frame) -> bool:
    """A frame rule (categories or thread states) matches ``frame``: its runtime, its name's
    pattern and its file's pattern, each when the rule gives it."""
    if rule.runtime and frame.kind not in RUNTIME_KINDS.get(rule.runtime, {rule.runtime}):
        return False
    if rule.name is not None and not rule.name.search(frame.name):
        return False
    return rule.file is None or bool(frame.file and rule.file.search(frame.file))


def _frame_state(
    frame: Frame, rules: tuple[StateRule, ...] | list[StateRule], caller: str | None
) -> str | None:
    for rule in rules:
        if rule.called_from and rule.called_from != caller:
            continue
        if matches(rule, frame):
            return rule.state
    return None


def is_library(file: str | None) -> bool:
    """The standard library or an installed package, from the file's path."""
    if not file:
        return False
    path = file.replace("\\", "/")
    if path.startswith("<") or _LIBRARY_DIRS.search(path):
        return True
    if path.startswith("/"):
        return False
    return path.split("/", 1)[0].removesuffix(".py") in _STDLIB


def _is_user(frame: Frame) -> bool:
    """A frame of the program's own code: not the runtime, its standard library, nor an
    installed package (Python site-packages, Go's module cache, node_modules, the JDK)."""
    if frame.kind == "python":
        return not is_library(frame.file)
    path = (frame.file or "").replace("\\", "/")
    if frame.kind == "go":
        # the package is the name up to the first dot after its last slash; the standard
        # library's first path element has no dot (encoding/json, sync, runtime), main's is main
        package = frame.name.split("/")[-1].split(".", 1)[0]
        first = frame.name.split("/", 1)[0] if "/" in frame.name else package
        own = first == "main" or "." in first
        return own and not _GO_LIBRARY_DIRS.search(path)
    if frame.kind == "js":
        return bool(path) and not path.startswith("node:") and "/node_modules/" not in path
    if frame.kind in ("java", "jit"):
        return not frame.name.startswith("(") and not _JAVA_LIBRARY.match(frame.name)
    return False


def _site(stack: tuple[int, ...], frames: tuple[Frame, ...], user: list[bool]) -> int | None:
    for i in reversed(stack):
        if user[i]:
            return i
    for i in reversed(stack):
        if frames[i].kind not in _NATIVE and not _ADDRESS.match(frames[i].name):
            return i
    return stack[-1] if stack else None


def frame_site(frame: Frame) -> str:
    """``name (module.py:42)``: the file's last two path parts and the line, when known."""
    if not frame.file:
        return frame.name
    short = "/".join(frame.file.replace("\\", "/").split("/")[-2:])
    if frame.kind == "python" and not is_library(frame.file):
        short = short.rsplit("/", 1)[-1]
    return f"{frame.name} ({short}:{frame.line})" if frame.line else f"{frame.name} ({short})"


def profile_runtime(profile: Profile) -> str | None:
    """The runtime a profile's code runs on (python, go, node, jvm), from its exporter, format
    and frame kinds; None when the frames do not tell."""
    exporter = (profile.exporter or "").lower()
    if exporter.startswith("py-spy"):
        return "python"
    counts: dict[str, int] = defaultdict(int)
    for frame in profile.frames:
        counts[frame.kind] += 1
    named = {
        "python": counts["python"],
        "go": counts["go"],
        "node": counts["js"],
        "jvm": counts["java"] + counts["jit"],
    }
    best = max(named, key=lambda k: named[k])
    if named[best] > 0:
        return best
    if profile.format == "cpuprofile":
        return "node"
    if profile.format == "pprof":
        return "go"
    return None
