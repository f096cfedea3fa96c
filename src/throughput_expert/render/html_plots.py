"""The HTML page's plots: matplotlib figures saved as inline SVG (no JavaScript, no fetches).

Every series in the Report is drawn. Series that belong together share a chart (the utilization
lines; the USL's measured points and fitted curve; batching throughput and latency); marks on a
chart (the knee, the peak, the target, today's rate) are numbers already in ``analysis``. Two
analysis tables are drawn as bars: utilization against its target, and a profile's categories.
The renderer computes nothing: it only places the Report's numbers.

matplotlib is imported inside ``charts`` so that importing the renderers stays fast.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from throughput_expert.errors import InputError, Parameter
from throughput_expert.model.units import fmt_count, fmt_pct, fmt_rate
from throughput_expert.render.html_common import dig, label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Chart", "charts"]

JSON = Any
Series = Mapping[str, JSON]
LineStyle = str | tuple[float, tuple[float, ...]]

BLUE, RED, GREEN, PURPLE, ORANGE, TEAL, GREY = (
    "#2563eb",
    "#dc2626",
    "#16a34a",
    "#9333ea",
    "#ea580c",
    "#0891b2",
    "#6b7280",
)
PALETTE = (BLUE, ORANGE, GREEN, PURPLE, TEAL, RED)

_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, drawn by the browser
    "svg.hashsalt": "tpx",  # stable ids: the same report gives the same page
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#9ca3af",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": f"cycler(color={list(PALETTE)!r})",
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
}


@dataclass(frozen=True)
class Chart:
    """One drawn plot: ``name`` identifies it in the page (``data-plot``)."""

    name: str
    title: str
    svg: str
    caption: str = ""
    series: tuple[str, ...] = ()  # the Report's series drawn on it


Builder = Callable[[Mapping[str, JSON], dict[str, Series]], "Chart | None"]


def charts(doc: Mapping[str, JSON]) -> list[Chart]:
    """The plots of a Report's JSON form, in page order; an empty Report has none."""
    series = dict(doc.get("series") or {})
    analysis = doc.get("analysis") or {}
    if not series and not _has_tables(analysis):
        return []  # nothing to draw: do not import matplotlib at all
    out: list[Chart] = []
    with _style():
        for build in _BUILDERS:
            before = list(series)
            chart = build(analysis, series)
            if chart is not None:
                drawn = tuple(n for n in before if n not in series)
                out.append(replace(chart, series=drawn))
        for name in list(series):
            out.append(replace(_generic(name, series.pop(name)), series=(name,)))
    return [_unique(c, i) for i, c in enumerate(out)]


def _has_tables(a: Mapping[str, JSON]) -> bool:
    return bool(dig(a, "headroom", "resources")) or bool(a.get("categories"))


@contextmanager
def _style() -> Iterator[None]:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - a dependency; this says which
        raise InputError(
            "the html format draws its plots with matplotlib: pip install matplotlib",
            source=Parameter("format"),
        ) from exc

    # matplotlib types rc keys as a Literal; ours are checked by matplotlib when set
    with matplotlib.rc_context(cast("dict[Any, Any]", _STYLE)):  # restores the caller's rc after
        yield


# -- drawing helpers ------------------------------------------------------------------------------


def _figure(rows: int = 1, height: float = 3.4) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, height * rows), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)
    return fig, [ax for (ax,) in axes]


def _axes(
    ax: Axes, s: Series | None, x_label: str = "", y_label: str = "", numeric: str = "xy"
) -> None:
    """Axis labels, and tick labels in the shared number form ("10K") on the numeric axes."""
    from matplotlib.ticker import FuncFormatter

    ax.set_xlabel(x_label or (s or {}).get("x_label", ""))
    ax.set_ylabel(y_label or (s or {}).get("y_label", ""))
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if name in numeric:
            axis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_count(v)))


def _xy(s: Series) -> tuple[list[float], list[float]]:
    """The drawable points (a non-finite number is null in JSON and is skipped)."""
    pts = [(p[0], p[1]) for p in s.get("points") or [] if p[0] is not None and p[1] is not None]
    return [x for x, _ in pts], [y for _, y in pts]


def _line(ax: Axes, s: Series, name: str, color: str | None = None) -> None:
    xs, ys = _xy(s)
    if not xs:
        ax.text(0.5, 0.5, "no points", transform=ax.transAxes, ha="center", color=GREY)
        return
    marker = "o" if len(xs) <= 30 else None
    ax.plot(xs, ys, color=color, marker=marker, markersize=3, label=name)


def _vline(ax: Axes, x: Any, text: str, color: str = GREY, style: LineStyle = "--") -> None:
    if isinstance(x, int | float):
        ax.axvline(x, color=color, linestyle=style, linewidth=1.1, label=text)


def _hline(ax: Axes, y: Any, text: str, color: str = GREY, style: LineStyle = "--") -> None:
    if isinstance(y, int | float):
        ax.axhline(y, color=color, linestyle=style, linewidth=1.1, label=text)


def _legend(ax: Axes) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", ncols=2 if len(ax.get_legend_handles_labels()[0]) > 4 else 1)


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]  # the XML prolog and doctype do not belong in HTML


def _unique(chart: Chart, index: int) -> Chart:
    """Prefix every id (and every reference to one) so several SVGs can share one page."""
    prefix = f"p{index}-"
    svg = re.sub(r'\bid="', f'id="{prefix}', chart.svg)
    svg = svg.replace('href="#', f'href="#{prefix}').replace("url(#", f"url(#{prefix}")
    return replace(chart, name=f"{index}-{chart.name}", svg=svg)


def _chart(name: str, title: str, fig: Figure, caption: str = "") -> Chart:
    for ax in fig.axes:
        _legend(ax)
    return Chart(name, title, _svg(fig), caption)


# -- the charts -----------------------------------------------------------------------------------


def _headroom(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    resources = dig(a, "headroom", "resources") or {}
    if not resources:
        return None
    names = list(resources)
    busy = [resources[n].get("utilization_pct") or 0 for n in names]
    fig, (ax,) = _figure(height=0.45 * len(names) + 1.3)
    colors = [RED if resources[n].get("over_target") else BLUE for n in names]
    ax.barh(names, busy, color=colors, height=0.5, label="utilization now (red: over target)")
    targets = [resources[n].get("target_pct") for n in names]
    ax.scatter(targets, names, marker="|", s=450, color="#111827", zorder=3, label="target")
    for i, value in enumerate(busy):
        ax.text(value, i, f"  {fmt_pct(value / 100)}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max([100.0, *busy]) * 1.15)
    ax.grid(axis="y", visible=False)
    _axes(ax, None, "utilization (%)", "", numeric="x")
    ceiling = dig(a, "headroom", "ceiling_rps")
    binding = dig(a, "headroom", "binding_resource")
    caption = f"ceiling {fmt_rate(ceiling)} at {binding}'s target" if ceiling else ""
    return _chart("headroom", "Utilization against its saturation target", fig, caption)


def _latency(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    s = series.pop("latency_vs_throughput", None)
    if s is None:
        return None
    fig, (ax,) = _figure()
    _line(ax, s, "modelled latency")
    lat = a.get("latency") or {}
    _vline(ax, lat.get("knee_rps"), f"latency doubles: {fmt_rate(lat.get('knee_rps'))}", ORANGE)
    _vline(ax, lat.get("saturation_rps"), f"saturation: {fmt_rate(lat.get('saturation_rps'))}", RED)
    _marks_now_and_ceiling(ax, a, target=False)  # a target past saturation would squash the curve
    ax.set_ylim(bottom=0)
    _axes(ax, s)
    return _chart("latency_vs_throughput", "Latency as load grows", fig, lat.get("model") or "")


def _marks_now_and_ceiling(ax: Axes, a: Mapping[str, JSON], target: bool = True) -> None:
    now = dig(a, "current_throughput", "rps")
    _vline(ax, now, f"now: {fmt_rate(now)}", GREY, ":")
    ceiling = dig(a, "headroom", "ceiling_rps")
    _vline(ax, ceiling, f"ceiling: {fmt_rate(ceiling)}", PURPLE, "-.")
    if target:
        _vline(ax, a.get("target_rps"), f"target: {fmt_rate(a.get('target_rps'))}", GREEN, "-.")


def _utilization(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    names = [n for n in series if n.startswith("utilization_")]
    if not names:
        return None
    fig, (ax,) = _figure(height=3.8)
    top = 0.0
    for color, name in zip(PALETTE, names, strict=False):
        s = series.pop(name)
        resource = name.removeprefix("utilization_")
        _line(ax, s, resource, color)
        target = dig(a, "headroom", "resources", resource, "target_pct")
        _hline(ax, target, f"{resource} target {fmt_pct((target or 0) / 100)}", color, (0, (4, 3)))
        top = max([top, target or 0, *_xy(s)[1]])
    _marks_now_and_ceiling(ax, a)
    ax.set_ylim(0, min(max(top * 1.05, 100.0), 200.0))  # the region that matters: 0 to 2x busy
    _axes(ax, None, "throughput (rps)", "utilization (%)")
    return _chart("utilization", "Utilization by resource as load grows", fig)


def _load_vs_capacity(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    names = [n for n in series if n.startswith("load_vs_capacity_")]
    if not names:
        return None
    fig, (ax,) = _figure(height=3.8)
    for color, name in zip(PALETTE, names, strict=False):
        _line(ax, series.pop(name), name.removeprefix("load_vs_capacity_"), color)
    _hline(ax, 100, "today's capacity", RED, (0, (4, 3)))
    order: Sequence[Mapping[str, JSON]] = a.get("saturation_order") or []
    for i, step in enumerate(order[:3]):
        at = step.get("saturates_at_entry_rps")
        text = f"{i + 1}. {step.get('component')} saturates at {fmt_rate(at)}"
        if isinstance(at, int | float):
            ax.scatter([at], [100], marker="o", s=40, color="#111827", zorder=4, label=text)
    now = a.get("entry_rate_rps")
    _vline(ax, now, f"now: {fmt_rate(now)}", GREY, ":")
    _vline(ax, a.get("target_rps"), f"target: {fmt_rate(a.get('target_rps'))}", GREEN, "-.")
    ax.set_ylim(bottom=0)
    _axes(ax, None, "entry rate (rps)", "% of today's capacity")
    return _chart("load_vs_capacity", "Load against today's capacity, by component", fig)


def _usl(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    measured, fit = series.pop("usl_measured", None), series.pop("usl_fit", None)
    if measured is None and fit is None:
        return None
    u = _find(a, "usl") or {}
    fig, (ax,) = _figure()
    if fit is not None:
        xs, ys = _xy(fit)
        ax.plot(xs, ys, color=BLUE, label="USL fit")
    if measured is not None:
        xs, ys = _xy(measured)
        ax.scatter(xs, ys, color=ORANGE, zorder=3, s=22, label="measured")
    peak_n, peak_x = u.get("peak_concurrency"), u.get("peak_throughput_rps")
    if isinstance(peak_n, int | float) and isinstance(peak_x, int | float):
        text = f"peak {fmt_rate(peak_x)} at N = {peak_n:.3g}"
        ax.scatter([peak_n], [peak_x], marker="*", s=160, color=RED, zorder=4, label=text)
    rec = u.get("recommended_concurrency")
    _vline(ax, rec, f"recommended N = {rec}", GREEN)
    _hline(ax, u.get("asymptote_rps"), f"asymptote {fmt_rate(u.get('asymptote_rps'))}", PURPLE)
    ax.set_ylim(bottom=0)
    _axes(ax, measured or fit)
    return _chart("usl", "Universal Scalability Law: measured and fitted", fig, _usl_caption(u))


def _usl_caption(u: Mapping[str, JSON]) -> str:
    if not u:
        return ""
    if not u.get("available"):
        return f"no fit: {u.get('why')}"
    return (
        f"σ = {u['sigma']:.3g}, κ = {u['kappa']:.3g}, R² = {u['r_squared']:.3g} over "
        f"{u['points']} points at {u['levels']} levels"
    )


def _find(a: Mapping[str, JSON], key: str) -> Any:
    """``a[key]``, or the first ``a[sub][key]`` (the task report nests each advisor)."""
    if isinstance(a.get(key), Mapping):
        return a[key]
    subs = (v.get(key) for v in a.values() if isinstance(v, Mapping))
    return next((v for v in subs if isinstance(v, Mapping)), None)


def _threads(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    s = series.pop("throughput_vs_threads", None)
    if s is None:
        return None
    fig, (ax,) = _figure()
    _line(ax, s, s.get("y_label", ""))
    pools: Sequence[Mapping[str, JSON]] = a.get("pools") or []
    for color, p in zip((GREEN, TEAL, PURPLE), pools, strict=False):
        _vline(ax, p.get("threads"), f"{p.get('pool')} pool: {p.get('threads')}", color)
    if pools:
        now = pools[0].get("current_threads")
        _vline(ax, now, f"now: {now}", GREY, ":")
    _hline(ax, a.get("cpu_ceiling_rps"), f"CPU ceiling {fmt_rate(a.get('cpu_ceiling_rps'))}", RED)
    _hline(ax, a.get("target_rps"), f"target {fmt_rate(a.get('target_rps'))}", GREEN, "-.")
    ax.set_ylim(bottom=0)
    _axes(ax, s)
    return _chart("throughput_vs_threads", "Throughput by pool size", fig)


def _batching(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    found = [
        (n, series.pop(n))
        for n in ("throughput_vs_batch_size", "latency_vs_batch_size")
        if n in series
    ]
    if not found:
        return None
    fig, axes = _figure(rows=len(found), height=2.8)
    batch = a.get("batch_size")
    for ax, (name, s) in zip(axes, found, strict=True):
        _line(ax, s, label(name), BLUE if name.startswith("throughput") else ORANGE)
        _vline(ax, batch, f"chosen batch: {batch}", GREEN)
        if name.startswith("throughput"):
            _hline(ax, a.get("target_rps"), f"target {fmt_rate(a.get('target_rps'))}", RED, "-.")
        ax.set_ylim(bottom=0)
        _axes(ax, s, x_label=s.get("x_label", "") if ax is axes[-1] else " ")
    return _chart("batching", "Throughput and added latency by batch size", fig)


def _categories(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    cats: Sequence[Mapping[str, JSON]] = a.get("categories") or []
    if not cats:
        return None
    fig, (ax,) = _figure(height=0.42 * len(cats) + 1.3)
    names = [str(c.get("label")) for c in cats]
    shares = [c.get("share_pct") or 0 for c in cats]
    colors = [ORANGE if c.get("waiting") else BLUE for c in cats]
    ax.barh(names, shares, color=colors, height=0.55)
    for i, value in enumerate(shares):
        ax.text(value, i, f"  {fmt_pct(value / 100)}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max([1.0, *shares]) * 1.2)
    ax.grid(axis="y", visible=False)
    _axes(ax, None, "share of samples (%)", "", numeric="x")
    return _chart("categories", "Where the time goes (blue: on CPU, orange: waiting)", fig)


def _generic(name: str, s: Series) -> Chart:
    fig, (ax,) = _figure()
    _line(ax, s, s.get("y_label", ""))
    _axes(ax, s)
    return _chart(name, label(name), fig)


_BUILDERS: tuple[Builder, ...] = (
    _headroom,
    _utilization,
    _load_vs_capacity,
    _latency,
    _usl,
    _threads,
    _batching,
    _categories,
)
