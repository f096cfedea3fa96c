"""Text sections of a ``find-bottleneck`` report: the profile, categories, functions, hot paths,
threads and the GIL estimate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from throughput_expert.render.text_common import heading, line, num, pct, table

__all__ = ["SECTIONS"]


def _profile(out: Console, a: Mapping[str, Any]) -> None:
    p = a["profile"]
    heading(out, "Profile")
    idle = ", idle samples included" if p.get("idle_included") else ""
    by = f" by {p['exporter']}" if p.get("exporter") else ""
    line(
        out,
        f"  {p['format']}{by}: {p['measures']} in {p['unit']}, total {num(p['total'])}, "
        f"{p['stacks']} unique stacks{idle}",
    )
    if a.get("on_cpu_pct") is not None:
        line(out, f"  on CPU {pct(a['on_cpu_pct'])}, waiting {pct(100 - a['on_cpu_pct'])}")
    for note in p.get("notes") or []:
        line(out, f"  - {note}")


def _categories(out: Console, a: Mapping[str, Any]) -> None:
    heading(out, "Where the time goes (categories)")
    rows = table("category", "share", "of active", "kind", "top function")
    for c in a["categories"]:
        active = c.get("share_of_active_pct")
        rows.add_row(
            c["label"],
            pct(c["share_pct"]),
            pct(active) if active is not None else "-",
            "waiting" if c["waiting"] else "on CPU",
            _short(c.get("top_function")),
        )
    out.print(rows)


def _functions(out: Console, a: Mapping[str, Any]) -> None:
    if not a["functions"]:
        return
    heading(out, "Functions (self / total)")
    rows = table("function", "self", "total")
    for f in a["functions"]:
        rows.add_row(
            _short(f["function"]),
            pct(f["self_pct"]),
            pct(f["total_pct"]),
        )
    out.print(rows)


def _hot_paths(out: Console, a: Mapping[str, Any]) -> None:
    if not a["hot_paths"]:
        return
    heading(out, "Hot paths")
    for h in a["hot_paths"]:
        line(out, f"  {pct(h['share_pct']):>8}  [{h['category']}] {h['path']}")


def _threads(out: Console, a: Mapping[str, Any]) -> None:
    heading(out, "Threads")
    rows = table("thread", "name", "share", "on CPU", "top category")
    for t in a["threads"]:
        on_cpu = t.get("on_cpu_pct")
        rows.add_row(
            str(t["thread"]),
            t.get("name") or "",
            pct(t["share_pct"]),
            pct(on_cpu) if on_cpu is not None else "-",
            t["top_category"],
        )
    out.print(rows)


def _gil(out: Console, a: Mapping[str, Any]) -> None:
    g = a["gil"]
    heading(out, "GIL (py-spy --gil against --idle)")
    line(out, f"  {g['law']}; waiting for the GIL: {pct(g['waiting_share_pct'])} of samples")
    rows = table("function", "GIL held", "read as")
    for f in g["functions"]:
        rows.add_row(_short(f["function"]), pct(f["gil_held_pct"]), f["read_as"])
    out.print(rows)


def _short(text: str | None, width: int = 60) -> str:
    if not text:
        return "-"
    return text if len(text) <= width else "…" + text[-(width - 1) :]


SECTIONS = (
    ("profile", _profile),
    ("categories", _categories),
    ("functions", _functions),
    ("hot_paths", _hot_paths),
    ("threads", _threads),
    ("gil", _gil),
)
