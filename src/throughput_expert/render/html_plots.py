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
from throughput_expert.render.html_common import dig, label, words

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
        out += _build(analysis, series, _BUILDERS)
        # a task's report prefixes each advisor's series with its part ("batching/..."): each
        # part's series are drawn as that advisor's own, against its part of the analysis
        for part in dict.fromkeys(n.split("/", 1)[0] for n in series if "/" in n):
            sub = analysis.get(part)
            if not isinstance(sub, Mapping):
                continue
            prefix = f"{part}/"
            mine = {
                n.removeprefix(prefix): series.pop(n) for n in list(series) if n.startswith(prefix)
            }
            for chart in _build(sub, mine, _SERIES_BUILDERS):
                named = tuple(prefix + n for n in chart.series)
                out.append(replace(chart, title=f"{label(part)}: {chart.title}", series=named))
            series.update({prefix + n: s for n, s in mine.items()})  # left: drawn generically
        names = list(series)
        for name in names[:MAX_GENERIC_CHARTS]:
            out.append(replace(_generic(name, series.pop(name)), series=(name,)))
        if len(names) > MAX_GENERIC_CHARTS and out:  # bounded work
            more = len(names) - MAX_GENERIC_CHARTS
            note = f"{more} more curves are not drawn; all are in the report's JSON (in this page)"
            last = out[-1]
            out[-1] = replace(last, caption=f"{last.caption} {note}".strip())
    return [_unique(c, i) for i, c in enumerate(out)]


# Curves drawn one chart each (a series no builder takes; a command's report has at most 3):
# each costs ~0.1 s of CPU, so a saved report of hundreds would take minutes; past this many the
# rest stay in the embedded JSON. Curves of one kind (utilization by resource, load by component)
# share one chart of at most one line per colour, whatever their number.
MAX_GENERIC_CHARTS = 6


def _build(
    analysis: Mapping[str, JSON], series: dict[str, Series], builders: Sequence[Builder]
) -> list[Chart]:
    """The charts ``builders`` draw, each naming the series it took from ``series``."""
    out: list[Chart] = []
    for build in builders:
        before = list(series)
        chart = build(analysis, series)
        if chart is not None:
            drawn = tuple(n for n in before if n not in series)
            out.append(replace(chart, series=drawn))
    return out


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

    import warnings

    # matplotlib types rc keys as a Literal; ours are checked by matplotlib when set
    with (
        matplotlib.rc_context(cast("dict[Any, Any]", _STYLE)),  # restores the caller's rc after
        warnings.catch_warnings(),
    ):
        # a layout matplotlib cannot fit (extreme values) still draws, and a name from the file
        # the font has no glyph for (a control character, a script DejaVu lacks) draws as a
        # box: their warnings would reach stderr on a successful run. matplotlib issues them
        # with warn_external, as if from its caller, so no filter by module catches them all.
        warnings.filterwarnings("ignore", category=UserWarning)
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


def _legend(fig: Figure) -> None:
    """One legend under the plot (never over the lines), each label once."""
    seen: dict[str, Any] = {}
    for ax in fig.axes:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(text, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncols=3)


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
    _legend(fig)
    return Chart(name, title, _svg(fig), caption)


def _now(ax: Axes, x: Any, ys: Sequence[tuple[float, str]] = ()) -> None:
    """Today's load, drawn over every other line: a dotted line, a triangle on the x axis, and a
    dot on each curve at today's value (``ys``: value and colour)."""
    if not isinstance(x, int | float):
        return
    ax.axvline(x, color="#111827", linestyle=":", linewidth=1.6, zorder=6, gid="today-line")
    ax.plot(
        [x],
        [0],
        marker="^",
        markersize=9,
        color="#111827",
        linestyle="none",
        zorder=7,
        clip_on=False,
        transform=ax.get_xaxis_transform(),
        label=f"today: {fmt_rate(x)}",
        gid="today",
    )
    for y, color in ys:
        ax.plot(
            [x],
            [y],
            marker="o",
            markersize=6,
            color=color,
            markeredgecolor="white",
            linestyle="none",
            zorder=7,
        )


# -- the charts -----------------------------------------------------------------------------------


def _headroom(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    resources = dig(a, "headroom", "resources") or {}
    if not resources:
        return None
    keys = list(resources)[:MAX_BARS]
    names = [words(n) for n in keys]
    busy = [resources[n].get("utilization_pct") or 0 for n in keys]
    fig, (ax,) = _figure(height=0.45 * len(names) + 1.6)
    colors = [RED if resources[n].get("over_target") else BLUE for n in keys]
    ax.barh(names, busy, color=colors, height=0.5, label="busy now (red: over its target)")
    targets = [resources[n].get("target_pct") for n in keys]
    ax.scatter(
        targets, names, marker="|", s=450, color="#111827", zorder=3, label="saturation target"
    )
    for i, value in enumerate(busy):
        ax.text(value, i, f"  {fmt_pct(value / 100)}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max([100.0, *busy]) * 1.15)
    ax.grid(axis="y", visible=False)
    _axes(ax, None, "utilization (%)", "", numeric="x")
    ceiling = dig(a, "headroom", "ceiling_rps")
    binding = dig(a, "headroom", "binding_resource")
    caption = f"ceiling {fmt_rate(ceiling)} at {words(binding)}'s target" if ceiling else ""
    caption = f"{caption} {_more_bars(len(resources))}".strip()
    return _chart("headroom", "Utilization against its saturation target", fig, caption)


def _latency(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    s = series.pop("latency_vs_throughput", None)
    if s is None:
        return None
    fig, (ax,) = _figure()
    _line(ax, s, "modelled latency")
    lat = a.get("latency") or {}
    _vline(ax, lat.get("knee_rps"), f"latency doubles: {fmt_rate(lat.get('knee_rps'))}", ORANGE)
    saturation = lat.get("saturation_rps")
    _vline(ax, saturation, f"saturation: {fmt_rate(saturation)}", RED, "-")
    _marks_now_and_ceiling(ax, a, target=False)  # a target past saturation would squash the curve
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    _axes(ax, s)
    return _chart("latency_vs_throughput", "Latency as load grows", fig, lat.get("model") or "")


def _marks_now_and_ceiling(
    ax: Axes,
    a: Mapping[str, JSON],
    target: bool = True,
    today: Sequence[tuple[float, str]] = (),
) -> None:
    _now(ax, dig(a, "current_throughput", "rps"), today)
    ceiling = dig(a, "headroom", "ceiling_rps")
    _vline(ax, ceiling, f"ceiling: {fmt_rate(ceiling)}", PURPLE, "-.")
    if target:
        _vline(ax, a.get("target_rps"), f"target: {fmt_rate(a.get('target_rps'))}", GREEN, "-.")


def _utilization(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    """Each resource's utilization as load grows, its saturation target (resources sharing a
    target share one labelled line), today's load on top; the y axis stops at 120 % (or the
    largest value drawn, when smaller): past 100 % the line only says "over"."""
    names = [n for n in series if n.startswith("utilization_")]
    if not names:
        return None
    drawn, rest = _take(series, names, [f"utilization_{r}" for r in _busiest(a)])
    fig, (ax,) = _figure(height=3.8)
    top = 0.0
    targets: dict[float, list[tuple[str, str]]] = {}
    today: list[tuple[float, str]] = []
    now = dig(a, "current_throughput", "rps")
    for color, (name, s) in zip(PALETTE, drawn, strict=False):
        resource = name.removeprefix("utilization_")
        _line(ax, s, words(resource), color)
        target = dig(a, "headroom", "resources", resource, "target_pct")
        if isinstance(target, int | float):
            targets.setdefault(float(target), []).append((words(resource), color))
        busy = dig(a, "headroom", "resources", resource, "utilization_pct")
        if isinstance(busy, int | float) and isinstance(now, int | float):
            today.append((float(busy), color))
        top = max([top, target or 0, *_xy(s)[1]])
    _targets(ax, targets)
    _marks_now_and_ceiling(ax, a, today=today)
    ax.set_ylim(0, min(max(top * 1.05, 100.0), 120.0))
    ax.set_xlim(left=0)
    _axes(ax, None, "throughput (rps)", "utilization (%)")
    caption = _more_curves(rest, "the busiest resources")
    return _chart("utilization", "Utilization by resource as load grows", fig, caption)


def _busiest(a: Mapping[str, JSON]) -> list[str]:
    """The resources of the headroom table, busiest first."""
    resources = dig(a, "headroom", "resources") or {}

    def busy(name: str) -> float:
        value = resources[name].get("utilization_pct") if isinstance(resources, Mapping) else None
        return float(value) if isinstance(value, int | float) else 0.0

    return sorted(resources, key=busy, reverse=True) if isinstance(resources, Mapping) else []


#: one dash pattern per distinct target line, so lines at nearby heights stay apart
_DASHES: tuple[LineStyle, ...] = ((0, (6, 3)), (0, (2, 2)), (0, (8, 3, 2, 3)), (0, (3, 5)))


def _targets(ax: Axes, targets: Mapping[float, Sequence[tuple[str, str]]]) -> None:
    """One horizontal line per distinct target, in the resource's colour (grey when shared),
    a dash of its own, and its label written on the line: "target 70 %: CPU, Disk I/O"."""
    for i, (value, owners) in enumerate(sorted(targets.items())):
        color = owners[0][1] if len(owners) == 1 else "#374151"
        text = f"target {fmt_pct(value / 100)}: {', '.join(n for n, _ in owners)}"
        ax.axhline(
            value,
            color=color,
            linestyle=_DASHES[i % len(_DASHES)],
            linewidth=1.3,
            zorder=2,
            label=text,
        )
        ax.annotate(
            text,
            xy=(0.99, value),  # at the right: the lines have left the chart by then
            xycoords=("axes fraction", "data"),
            xytext=(0, 3),
            textcoords="offset points",
            fontsize=8,
            color=color,
            ha="right",
            va="bottom",
            zorder=8,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
        )


def _load_vs_capacity(a: Mapping[str, JSON], series: dict[str, Series]) -> Chart | None:
    names = [n for n in series if n.startswith("load_vs_capacity_")]
    if not names:
        return None
    order: Sequence[Mapping[str, JSON]] = a.get("saturation_order") or []
    first = [f"load_vs_capacity_{step.get('component')}" for step in order]
    drawn, rest = _take(series, names, first)
    fig, (ax,) = _figure(height=3.8)
    for color, (name, s) in zip(PALETTE, drawn, strict=False):
        _line(ax, s, name.removeprefix("load_vs_capacity_"), color)
    _hline(ax, 100, "today's capacity", "#374151", (0, (4, 3)))
    for i, step in enumerate(order[:3]):
        at = step.get("saturates_at_entry_rps")
        text = f"{i + 1}. {step.get('component')} saturates at {fmt_rate(at)}"
        if isinstance(at, int | float):
            ax.scatter([at], [100], marker="o", s=40, color="#111827", zorder=4, label=text)
    _now(ax, a.get("entry_rate_rps"))
    _vline(ax, a.get("target_rps"), f"target: {fmt_rate(a.get('target_rps'))}", GREEN, "-.")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    _axes(ax, None, "entry rate (rps)", "% of today's capacity")
    caption = _more_curves(rest, "the components that saturate first")
    title = "Load against today's capacity, by component"
    return _chart("load_vs_capacity", title, fig, caption)


def _take(
    series: dict[str, Series], names: Sequence[str], first: Sequence[str]
) -> tuple[list[tuple[str, Series]], int]:
    """Every series of ``names`` taken from ``series`` (none is left to a chart of its own); the
    ones to draw, one per colour: all when they fit, else those named in ``first`` (the
    analysis's order: first to saturate, busiest) before the rest; and how many are not drawn."""
    taken = {n: series.pop(n) for n in names}
    if len(names) > len(PALETTE):
        ahead = [n for n in dict.fromkeys(first) if n in taken]
        early = set(ahead)
        names = ahead + [n for n in names if n not in early]
    drawn = [(n, taken[n]) for n in names[: len(PALETTE)]]
    return drawn, len(taken) - len(drawn)


def _more_curves(rest: int, which: str) -> str:
    """The caption of a chart that draws one curve per colour and leaves ``rest`` out."""
    if not rest:
        return ""
    return (
        f"{len(PALETTE)} curves drawn ({which}); {rest:,} more are in the report's JSON "
        "(in this page)"
    )


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
    pools: Sequence[Mapping[str, JSON]] = a.get("pools") or []
    now = pools[0].get("current_threads") if pools else None
    if isinstance(now, int | float):
        ax.axvline(
            now, color="#111827", linestyle=":", linewidth=1.6, zorder=6, label=f"today: N = {now}"
        )
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
    sizes: dict[Any, list[str]] = {}  # pools of one size share one labelled line
    for p in pools:
        sizes.setdefault(p.get("threads"), []).append(str(p.get("pool")))
    for i, (size, names) in enumerate(sizes.items()):
        text = f"{' and '.join(names)} pool{'s' if len(names) > 1 else ''}: {size} threads"
        _vline(ax, size, text, (GREEN, TEAL, PURPLE)[i % 3], _DASHES[i % len(_DASHES)])
    if pools:
        now = pools[0].get("current_threads")
        if isinstance(now, int | float):
            ax.axvline(
                now,
                color="#111827",
                linestyle=":",
                linewidth=1.6,
                zorder=6,
                label=f"today: {now} thread{'' if now == 1 else 's'}",
            )
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
    every: Sequence[Mapping[str, JSON]] = a.get("categories") or []
    if not every:
        return None
    cats = every[:MAX_BARS]
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
    title = "Where the time goes (blue: on CPU, orange: waiting)"
    return _chart("categories", title, fig, _more_bars(len(every)))


# Bars in one bar chart (its height grows with each): a report has a few resources and a dozen
# categories; a saved report edited to hold thousands draws the first ones.
MAX_BARS = 30


def _more_bars(total: int) -> str:
    if total <= MAX_BARS:
        return ""
    return (
        f"{total - MAX_BARS:,} more bars are not drawn; all are in the report's JSON (in this page)"
    )


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

#: the builders that draw a series (not an analysis table): those a task's parts use
_SERIES_BUILDERS: tuple[Builder, ...] = tuple(
    b for b in _BUILDERS if b not in (_headroom, _categories)
)
