"""The finished HTML page: every key in words, sections closed, plots with sensible axes and
labelled targets, and, in headless Chromium at 1280 px, no sideways scroll and no raw key in the
visible text (code excepted), on each command's page from the repository's examples.

Chromium is found on PATH; without it the browser tests skip, or fail when CI is set.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from throughput_expert import (
    analyze,
    design_batching,
    find_bottleneck,
    optimize_concurrency,
    scaling_plan,
    sweep,
)
from throughput_expert.model import Evidence, Recommendation, Report, Series
from throughput_expert.render import html_plots
from throughput_expert.render.as_html import HTMLRenderer
from throughput_expert.render.html_common import label, prose, value_html, words

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BUNDLED = ROOT / "src" / "throughput_expert" / "examples"
CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "python"
RAW_KEY = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _reports() -> dict[str, Report]:
    return {
        "analyze": analyze([BUNDLED / "message-consumer.json"]),
        "analyze-metrics": analyze([EXAMPLES / "metrics.json"], target_rps=5000),
        "find-bottleneck": find_bottleneck(
            [CORPUS / "lock_contention.idle.speedscope.json"],
            gil_profile=CORPUS / "lock_contention.gil.speedscope.json",
        ),
        "optimize-concurrency": optimize_concurrency(
            "io", 4, cpu_cores=2, sweep=EXAMPLES / "sweep.json"
        ),
        "design-batching": design_batching(
            "database-insert",
            target_throughput=50000,
            measurements=EXAMPLES / "batch-trial.csv",
        ),
        "scaling-plan": scaling_plan(EXAMPLES / "architecture.yaml", target_rps=50000),
        "scaling-plan-three-tier": scaling_plan(BUNDLED / "three-tier.yaml", target_rps=6000),
        "sweep": sweep(from_files=[EXAMPLES / "sweep.json"]),
    }


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {name: HTMLRenderer().render(r) for name, r in _reports().items()}


NAMES = [
    "analyze",
    "analyze-metrics",
    "find-bottleneck",
    "optimize-concurrency",
    "design-batching",
    "scaling-plan",
    "scaling-plan-three-tier",
    "sweep",
]


class _Text(HTMLParser):
    """The page's text as a reader sees it, code, plots and the embedded JSON left out."""

    SKIP = frozenset(("code", "pre", "svg", "script", "style", "title"))

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self.details: list[dict[str, str | None]] = []
        self.summaries: list[str] = []
        self._summary: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        if tag == "details":
            self.details.append(dict(attrs))
        if tag == "summary":
            self._summary = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip -= 1
        if tag == "summary" and self._summary is not None:
            self.summaries.append("".join(self._summary))
            self._summary = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
            if self._summary is not None:
                self._summary.append(data)


def _text(page: str) -> _Text:
    parser = _Text()
    parser.feed(page)
    return parser


# -- words, not keys ------------------------------------------------------------------------------


def test_keys_are_words() -> None:
    assert label("demand_reduction_factor") == "Demand must fall by"
    assert label("avg_processing_time_ms") == "Mean processing time"
    assert label("max_rps_at_target") == "Rate at the target"
    assert label("queue_depth_vs_time") == "Queue depth vs time"  # unknown: humanised
    assert label("cpu_ceiling_rps") == "CPU ceiling"  # the unit is the value's to show
    assert words("io_disk") == words("disk_io") == "Disk I/O"
    assert words("workers") == "Worker pool" and words("cpu") == "CPU"
    assert words("order-consumer") == "order-consumer"  # a name as the user wrote it


def test_outside_text_is_escaped_words_or_code() -> None:
    out = prose("the shared disk_io at 55 %; try io_uring <b>&</b>; see demand-disk_io.")
    assert "disk I/O at 55 %" in out
    assert "<code>io_uring</code>" in out and "<code>demand-disk_io</code>" in out
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in out and "<b>" not in out
    assert value_html("rps", 10000.0) == "10K\u00a0rps"
    assert value_html("type", "io_disk") == "Disk I/O"


@pytest.mark.parametrize("name", NAMES)
def test_no_raw_key_in_the_text(pages: dict[str, str], name: str) -> None:
    found = _text(pages[name])
    text = " ".join(found.parts)
    assert RAW_KEY.findall(text) == [], name
    shown = pages[name].split('<script type="application/json"')[0]  # the JSON keeps its keys
    assert "(disk_io)" not in shown and "io_disk (" not in shown


@pytest.mark.parametrize("name", NAMES)
def test_every_section_is_closed_and_titled_in_words(pages: dict[str, str], name: str) -> None:
    found = _text(pages[name])
    assert found.details, "no sections"
    assert all("open" not in d for d in found.details), name
    assert all(s and "_" not in s and s[0].isupper() for s in found.summaries), found.summaries


def test_the_sections_are_designed(pages: dict[str, str]) -> None:
    page = pages["analyze"]
    for heading in ("Busy now", "Rate at the target", "Demand per request", "At the target rate"):
        assert f"<th>{heading}</th>" in page
    assert "its demand must fall 5.71×" in page  # the headroom table, not "demand_reduction..."
    steps = re.search(r'<details id="plan-steps">.*?</details>', page, re.S)
    assert steps, "no plan table"
    for heading in ("Step", "Change", "Projected throughput", "Binding resource", "Gain"):
        assert f"<th>{heading}</th>" in steps.group(0)
    evidence = re.search(r'<details id="evidence">.*?</details>', page, re.S)
    assert (
        evidence and "<th>Law</th>" in evidence.group(0) and "<th>Inputs</th>" in evidence.group(0)
    )
    assert "service-demand law" in evidence.group(0)


def test_the_cards_are_in_plain_words(pages: dict[str, str]) -> None:
    cards = re.search(r'<section class="figures">(.*?)</section>', pages["analyze"], re.S)
    assert cards
    text = " ".join(_text(cards.group(1)).parts)
    assert "Disk I/O" in text and "in order-consumer" in text
    assert "io_disk" not in cards.group(1) and "disk_io" not in cards.group(1)


def test_a_wide_table_becomes_cards(pages: dict[str, str]) -> None:
    components = re.search(r'<details id="a-components">.*?</details>', pages["scaling-plan"], re.S)
    assert components and '<div class="cards">' in components.group(0)


def test_outside_text_is_escaped_and_utf8_safe() -> None:
    evil = "<img src=x onerror=alert(1)> \ud800 & co"
    report = Report(
        command="task",
        summary=evil,
        series={"x_vs_y": Series("x", "y", ((1.0, 2.0), (2.0, 3.0)))},
        recommendations=(Recommendation(evil, None, "low", "low", evil, ("e1",), evil),),
        evidence=(Evidence("e1", evil, evil, {"a_b": evil}, evil),),
    )
    page = HTMLRenderer().render(report)
    page.encode("utf-8")  # a lone surrogate would raise here
    assert "<img" not in page and "&lt;img src=x" in page and "\ufffd" in page


# -- the plots ------------------------------------------------------------------------------------


def _doc(targets: Mapping[str, float], busy: Mapping[str, float]) -> dict[str, Any]:
    resources = {r: {"utilization_pct": busy[r], "target_pct": t} for r, t in targets.items()}
    series = {
        f"utilization_{r}": {
            "x_label": "throughput (rps)",
            "y_label": "utilization (%)",
            "points": [[0.0, 0.0], [10000.0, busy[r]], [50000.0, busy[r] * 5]],
        }
        for r in targets
    }
    return {
        "analysis": {
            "current_throughput": {"rps": 10000.0},
            "headroom": {"resources": resources, "ceiling_rps": 8750.0},
            "target_rps": 50000.0,
        },
        "series": series,
    }


def _utilization_svg(doc: Mapping[str, Any]) -> str:
    (chart,) = [c for c in html_plots.charts(doc) if c.name.endswith("utilization")]
    return chart.svg


def _svg_texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_coincident_targets_are_one_labelled_line() -> None:
    svg = _utilization_svg(_doc({"cpu": 70.0, "disk_io": 70.0}, {"cpu": 45.0, "disk_io": 80.0}))
    labels = [t for t in _svg_texts(svg) if t.startswith("target 70 %")]
    assert labels and set(labels) == {"target 70 %: CPU, Disk I/O"}
    assert len(labels) == 2  # on the line, and once in the legend


def test_distinct_targets_are_distinct_labelled_lines() -> None:
    svg = _utilization_svg(_doc({"cpu": 70.0, "memory": 80.0}, {"cpu": 45.0, "memory": 60.0}))
    texts = _svg_texts(svg)
    assert "target 70 %: CPU" in texts and "target 80 %: Memory" in texts
    dashes = set(re.findall(r"stroke-dasharray: ([\d.,\s]+)", svg))
    assert len(dashes) >= 3  # two targets, each its own dash, besides today's dotted line


def test_the_utilization_axis_stops_near_120_pct() -> None:
    svg = _utilization_svg(_doc({"cpu": 70.0, "disk_io": 70.0}, {"cpu": 45.0, "disk_io": 80.0}))
    ticks = [float(t) for t in _svg_texts(svg) if re.fullmatch(r"\d+(\.\d+)?", t)]
    assert 120.0 in ticks and max(t for t in ticks if t <= 1000) <= 120.0
    # a chart whose lines stay low stops at 100 %, not 120
    low = _utilization_svg(_doc({"cpu": 70.0}, {"cpu": 10.0}))
    assert "120" not in _svg_texts(low) and "100" in _svg_texts(low)


def test_todays_load_is_drawn_on_top() -> None:
    svg = _utilization_svg(_doc({"cpu": 70.0}, {"cpu": 45.0}))
    assert "today: 10K rps" in _svg_texts(svg)
    # an SVG paints in document order: today's marker comes after every line of the plot
    axes = svg[: svg.index("-legend_1")]
    today = axes.index('-today"')
    lines = [m.start() for m in re.finditer(r'id="p\d+-line2d_\d+"', axes[:today])]
    after = re.findall(r'id="p\d+-(line2d|patch)_\d+"', axes[today:])
    # after it: only the dot at today's utilization (a line2d) and the axes' frame (patches)
    assert len(lines) > 10 and after.count("line2d") <= 1
    assert lines and max(lines) < today


# -- in a real browser, at 1280 px ----------------------------------------------------------------

PROBE = """<script>
const e = document.documentElement;
for (const d of document.querySelectorAll('details')) d.open = true;
function visible(n) {
  let t = '';
  for (const c of n.childNodes) {
    if (c.nodeType === 3) t += c.textContent;
    else if (c.nodeType === 1 && !['CODE', 'PRE', 'svg'].includes(c.tagName)
             && getComputedStyle(c).display !== 'none') t += ' ' + visible(c) + ' ';
  }
  return t;
}
const out = {scroll_width: e.scrollWidth, client_width: e.clientWidth,
             text: visible(document.querySelector('main')),
             plots: document.querySelectorAll('figure.plot svg').length,
             targets: Array.from(document.querySelectorAll('figure.plot svg text'))
               .map(t => t.textContent).filter(t => t.startsWith('target '))};
const p = document.createElement('pre'); p.id = 'tpx-probe';
p.textContent = JSON.stringify(out); document.body.appendChild(p);
</script>"""


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium is not installed (apt-get install -y chromium; scripts/test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tpx-page-") as tmp:
        yield Path(tmp)


def _probe(chromium: str, page: str, where: Path) -> dict[str, Any]:
    """The page with every section open, measured in Chromium at 1280 px (a copy of the page,
    its CSP dropped so the measuring script runs; the page itself runs no script)."""
    copy = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    where.write_text(copy.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="tpx-profile-") as profile:
        run = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--hide-scrollbars",
                "--proxy-server=127.0.0.1:9",
                f"--user-data-dir={profile}",
                "--window-size=1280,1600",
                "--dump-dom",
                where.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'<pre id="tpx-probe">(.*?)</pre>', run.stdout, re.S)
    assert found, "the probe did not run"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


@pytest.mark.parametrize("name", ["analyze", "find-bottleneck", "scaling-plan", "sweep"])
def test_page_at_1280_px(chromium: str, workdir: Path, pages: dict[str, str], name: str) -> None:
    seen = _probe(chromium, pages[name], workdir / f"{name}.html")
    assert seen["client_width"] == 1280
    assert seen["scroll_width"] <= seen["client_width"], f"{name} scrolls sideways"
    assert RAW_KEY.findall(seen["text"]) == [], name
    assert seen["plots"] >= 1
    if name == "analyze":  # CPU and disk share the 70 % target: one line, labelled on the plot
        assert "target 70 %: CPU, Disk I/O" in seen["targets"]


def test_the_probe_sees_a_wide_page_and_a_raw_key(chromium: str, workdir: Path) -> None:
    # the checks above can fail: a 2000 px wide block and a raw key are caught
    page = HTMLRenderer().render(Report(command="task", summary="s"))
    bad = page.replace(
        "<main>",
        '<main><div style="width:2000px">demand_reduction_factor</div>',
    )
    seen = _probe(chromium, bad, workdir / "bad.html")
    assert seen["scroll_width"] > seen["client_width"]
    assert RAW_KEY.findall(seen["text"]) == ["demand_reduction_factor"]
