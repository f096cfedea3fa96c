"""Text sections of a ``find-bottleneck`` report: the verdict, the profile, categories,
functions, hot paths, threads, the GIL estimate and the host's utilization; and the page's key
figures."""

from __future__ import annotations

from rich.console import Console

from throughput_expert.model.analysis.bottleneck import BottleneckAnalysis
from throughput_expert.model.units import fmt_pct
from throughput_expert.render.html_common import Figure, bottleneck_figure
from throughput_expert.render.text_common import (
    BAD,
    KEEP,
    Col,
    bullets,
    grid,
    heading,
    label,
    line,
    num,
)

__all__ = ["SECTIONS", "figures"]


def _bottleneck(out: Console, r: BottleneckAnalysis) -> None:
    b = r.bottleneck
    heading(out, "Bottleneck")
    what = label(b.type) if b.type else "none found"
    if "combined-binding" in b.evidence_ids and b.category:
        # another resource binds: the category, site and state are the profile's top work
        what = f"{what} binds; the profile's top work: {label(b.category)}"
    where = f" ({label(b.category)})" if b.category and label(b.category) not in what else ""
    component = f" at {b.component}" if b.component else ""
    state = f", {label(b.state)}" if b.state else ""
    line(out, f"  {what}{where}{component}{state}", style=BAD if b.type else None, hang=2)
    line(out, f"  {b.reason}", hang=2)


def _profile(out: Console, r: BottleneckAnalysis) -> None:
    p = r.profile
    heading(out, "Profile")
    idle = ", idle samples included" if p.idle_included else ""
    by = f" by {p.exporter}" if p.exporter else ""
    line(
        out,
        f"  {p.format}{by}: {p.measures} in {p.unit}, total {num(p.total)}, "
        f"{p.stacks} unique stacks{idle}",
    )
    if p.sample_means:
        line(out, f"  a sample means {p.sample_means}")
    if r.on_cpu is not None:
        line(out, f"  on CPU {fmt_pct(r.on_cpu)}, waiting {fmt_pct(1 - r.on_cpu)}")
    bullets(out, p.notes, "notes")


def _categories(out: Console, r: BottleneckAnalysis) -> None:
    if not r.categories:
        return
    heading(out, "Where the time goes (categories)")
    cols = (
        Col("category", "left", KEEP, wrap=True, min_width=12),
        Col("share", keep=KEEP),
        Col("of active", keep=2),
        Col("kind", "left", keep=1),
        Col("top function", "left", KEEP, wrap=True, min_width=20),
    )
    rows = [
        [
            c.label,
            fmt_pct(c.share),
            fmt_pct(c.share_of_active) if c.share_of_active is not None else "-",
            "waiting" if c.waiting else "on CPU",
            _short(c.top_function),
        ]
        for c in r.categories
    ]
    grid(out, cols, rows)


def _states(out: Console, r: BottleneckAnalysis) -> None:
    if not r.states:
        return
    heading(out, "Thread states (from frames)")
    cols = (
        Col("state", "left", KEEP, wrap=True, min_width=12),
        Col("share", keep=KEEP),
        Col("of active", keep=2),
        Col("limits", "left", keep=3),
        Col("top site", "left", KEEP, wrap=True, min_width=20),
    )
    rows = [
        [
            s.label,
            fmt_pct(s.share),
            fmt_pct(s.share_of_active) if s.share_of_active is not None else "-",
            ("yes", BAD) if s.limits else "no",
            _short(s.top_site),
        ]
        for s in r.states
    ]
    grid(out, cols, rows)
    line(out, "  limits: whether the state limits throughput", style="dim")


def _functions(out: Console, r: BottleneckAnalysis) -> None:
    if not r.functions:
        return
    heading(out, "Functions (self / total)")
    cols = (
        Col("function", "left", KEEP, wrap=True, min_width=20),
        Col("self", keep=KEEP),
        Col("total", keep=KEEP),
    )
    rows = [
        [_short(f.function), fmt_pct(f.self_share), fmt_pct(f.total_share)] for f in r.functions
    ]
    grid(out, cols, rows)


def _hot_paths(out: Console, r: BottleneckAnalysis) -> None:
    if not r.hot_paths:
        return
    heading(out, "Hot paths")
    for h in r.hot_paths:
        # a stack breaks after its frames' separators, not inside a frame's name
        line(
            out,
            f"  {fmt_pct(h.share):>6}  {label(h.category)}: {h.path.replace(';', '; ')}",
            hang=8,
        )


def _threads(out: Console, r: BottleneckAnalysis) -> None:
    if r.threads is None:
        return
    heading(out, "Threads")
    cols = (
        Col("thread", "left", keep=1, wrap=True, min_width=8),
        Col("name", "left", KEEP, wrap=True, min_width=10),
        Col("share", keep=KEEP),
        Col("on CPU", keep=2),
        Col("top category", "left", keep=3, wrap=True, min_width=10),
        Col("states", "left", KEEP, wrap=True, min_width=16),
    )
    rows = []
    for t in r.threads:
        states = ", ".join(
            f"{label(k)} {fmt_pct(v)}"
            for k, v in sorted((t.states or {}).items(), key=lambda kv: -kv[1])
        )
        rows.append(
            [
                str(t.thread),
                t.name,
                fmt_pct(t.share),
                fmt_pct(t.on_cpu) if t.on_cpu is not None else "-",
                label(t.top_category),
                states or "-",
            ]
        )
    grid(out, cols, rows, what="threads")


def _gil(out: Console, r: BottleneckAnalysis) -> None:
    g = r.gil
    if g is None:
        return
    heading(out, "GIL (py-spy --gil against --idle)")
    line(out, f"  {g.law}; waiting for the GIL: {fmt_pct(g.waiting_share)} of samples")
    cols = (
        Col("function", "left", KEEP, wrap=True, min_width=20),
        Col("GIL held", keep=KEEP),
        Col("read as", "left", KEEP, wrap=True, min_width=12),
    )
    grid(out, cols, [[_short(f.function), fmt_pct(f.gil_held), f.read_as] for f in g.functions])


def _utilization(out: Console, r: BottleneckAnalysis) -> None:
    if not r.utilization:
        return
    heading(out, "Utilization measured")
    for resource, busy in r.utilization.items():
        line(out, f"  {label(resource)}: {fmt_pct(busy)}")


def _short(text: str | None, width: int = 60) -> str:
    if not text:
        return "-"
    return text if len(text) <= width else "…" + text[-(width - 1) :]


SECTIONS = (
    _bottleneck,
    _profile,
    _categories,
    _states,
    _functions,
    _hot_paths,
    _threads,
    _gil,
    _utilization,
)


def figures(r: BottleneckAnalysis) -> list[Figure]:
    """The verdict and, for a profile with idle samples, the share on CPU."""
    b = r.bottleneck
    found: list[Figure] = [bottleneck_figure(b.type, b.category, b.component)]
    if r.on_cpu is not None:
        found.append(("On CPU", fmt_pct(r.on_cpu), "of profiled samples"))
    return found
