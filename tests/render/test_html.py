"""The HTML renderer on a report from every command, an empty one included; each page opened in
headless Chromium (Debian's ``chromium``): no console message, every plot drawn, a screenshot.

Chromium is found on PATH; without it the browser tests skip, or fail when CI is set.
``scripts/screenshots`` writes each command's screenshot in docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from throughput_expert import (
    analyze,
    design_batching,
    find_bottleneck,
    optimize_concurrency,
    scaling_plan,
)
from throughput_expert.model import Evidence, Recommendation, Report, Series
from throughput_expert.render.as_html import HTMLRenderer
from throughput_expert.render.as_json import JSONRenderer
from throughput_expert.render.as_text import TextRenderer
from throughput_expert.render.base import Renderer
from throughput_expert.render.report_file import render_saved

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src" / "throughput_expert" / "examples"
TINY = ROOT / "tests" / "sources" / "profiles" / "fixtures" / "tiny.speedscope.json"
SCREENSHOTS = ROOT / "docs" / "screenshots"
# the published SPECSDM91 sweep (see tests/advisors/test_concurrency.py): 7 levels, a USL peak
SWEEP = (
    "concurrency,throughput_rps\n1,64.9\n18,995.9\n36,1652.4\n72,1853.2\n108,1828.9\n"
    "144,1775.0\n216,1702.2\n"
)
EMPTY = Report(command="task", summary="Nothing measured.")  # no typed record: any analysis
LOCAL_FORMATS: dict[str, Callable[[], Renderer]] = {
    "json": JSONRenderer,
    "text": TextRenderer,
    "html": HTMLRenderer,
}


def _reports(tmp: Path) -> dict[str, Report]:
    sweep = tmp / "sweep.csv"
    sweep.write_text(SWEEP)
    return {
        "analyze": analyze([EXAMPLES / "message-consumer.json"]),
        "find-bottleneck": find_bottleneck([TINY]),
        "optimize-concurrency": optimize_concurrency(
            "mixed", 10, cpu_cores=8, wait_time="100ms", compute_time="10ms"
        ),
        "optimize-concurrency-sweep": optimize_concurrency("io", 150, cpu_cores=8, sweep=sweep),
        "design-batching": design_batching(
            "database-insert", current_latency="5ms", target_throughput="10K"
        ),
        "scaling-plan": scaling_plan(EXAMPLES / "three-tier.yaml", target_rps=6000),
        "empty": EMPTY,
    }


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Report, str]]:
    tmp = tmp_path_factory.mktemp("html")
    return {k: (r, HTMLRenderer().render(r)) for k, r in _reports(tmp).items()}


NAMES = [
    "analyze",
    "find-bottleneck",
    "optimize-concurrency",
    "optimize-concurrency-sweep",
    "design-batching",
    "scaling-plan",
    "empty",
]


# -- the page itself ------------------------------------------------------------------------------


def _embedded(page: str) -> str:
    found = re.search(r'<script type="application/json" id="report">(.*?)</script>', page, re.S)
    assert found, "no embedded report"
    return found.group(1)


@pytest.mark.parametrize("name", NAMES)
def test_page_embeds_exactly_the_json_report(
    pages: dict[str, tuple[Report, str]], name: str
) -> None:
    report, page = pages[name]
    block = _embedded(page)
    assert json.loads(block) == json.loads(JSONRenderer().render(report)) == report.to_dict()
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert report.to_dict()["summary"].split(":")[0] in page


@pytest.mark.parametrize("name", NAMES)
def test_every_series_is_plotted(pages: dict[str, tuple[Report, str]], name: str) -> None:
    report, page = pages[name]
    plotted = {s for group in re.findall(r'data-series="([^"]*)"', page) for s in group.split()}
    assert plotted == set(report.series)
    if report.series:
        assert page.count('<figure class="plot"') >= 1
    assert page.count("<svg") == page.count('<figure class="plot"')


@pytest.mark.parametrize("name", NAMES)
def test_page_fetches_nothing(pages: dict[str, tuple[Report, str]], name: str) -> None:
    _, page = pages[name]
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    outside = page.replace(_embedded(page), "")
    assert re.findall(r'(?:src|href|action)\s*=\s*"(?!#)[^"]*"', outside) == []
    assert re.findall(r"url\((?!#)", outside) == []
    assert "@import" not in outside and "<link" not in outside and "<iframe" not in outside


def test_units_come_from_the_units_module(pages: dict[str, tuple[Report, str]]) -> None:
    _, page = pages["analyze"]
    page = page.replace("\u00a0", " ")  # a number keeps its unit on its line
    assert "8.75K rps" in page and "80 %" in page and "341 µs" in page


def test_the_plots_and_summary_order(pages: dict[str, tuple[Report, str]]) -> None:
    _, page = pages["analyze"]
    at = [
        page.index(s)
        for s in (
            "First action",
            "<h2>Plots",
            "<h2>Recommendations",
            "Evidence: the laws applied (",
        )
    ]
    assert at == sorted(at)
    assert '<details id="evidence">' in page and '<details id="assumptions">' in page


def test_usl_chart_marks_the_peak_and_recommendation(pages: dict[str, tuple[Report, str]]) -> None:
    _, page = pages["optimize-concurrency-sweep"]
    assert 'data-series="usl_measured usl_fit"' in page
    assert "peak 1.88K rps at N = 96.5" in page and "recommended N = 59" in page


def test_script_end_tags_in_data_cannot_break_out() -> None:
    evil = "</script><script>alert(1)</script> & <b>"
    report = Report(
        command="task",
        summary=evil,
        series={"x_vs_y": Series("x", "y", ((1.0, 2.0), (2.0, 3.0)))},
        recommendations=(Recommendation(evil, None, "low", "low", evil, ("e1",), evil),),
        evidence=(Evidence("e1", evil, evil, {evil: evil}, evil),),
    )
    page = HTMLRenderer().render(report)
    block = _embedded(page)
    assert "<" not in block and ">" not in block and "&" not in block
    assert json.loads(block) == report.to_dict()
    assert page.count("<script") == 1 and "alert(1)</script>" not in page


def test_an_unknown_series_gets_a_plot_of_its_own() -> None:
    report = Report(
        command="task",
        summary="s",
        series={"queue_depth_vs_time": Series("time (s)", "depth", ((0.0, 1.0), (1.0, None)))},  # type: ignore[arg-type]
    )
    page = HTMLRenderer().render(report)
    assert 'data-series="queue_depth_vs_time"' in page and "Queue depth vs time" in page


def test_the_same_report_gives_the_same_page(pages: dict[str, tuple[Report, str]]) -> None:
    report, page = pages["analyze"]
    assert HTMLRenderer().render(report) == page


def test_empty_report_renders_without_plots(pages: dict[str, tuple[Report, str]]) -> None:
    _, page = pages["empty"]
    assert "Nothing measured." in page and "<svg" not in page and "<h2>Plots" not in page


def test_the_cli_does_not_import_matplotlib() -> None:
    code = (
        "import sys; from throughput_expert.cli import build_parser; build_parser(); "
        "import throughput_expert.render.as_html; print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- a saved report renders without recomputing ------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "text", "html"])
def test_a_saved_report_renders_as_the_fresh_one(
    pages: dict[str, tuple[Report, str]], tmp_path: Path, fmt: str
) -> None:
    report, _ = pages["analyze"]
    saved = tmp_path / "report.json"
    saved.write_text(JSONRenderer().render(report))
    fresh = LOCAL_FORMATS[fmt]().render(report)
    assert render_saved(saved, fmt, lambda name: LOCAL_FORMATS[name]()) == fresh


# -- in a real browser -----------------------------------------------------------------------------


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
def browser_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tpx-chromium-") as tmp:
        yield Path(tmp)


def _run_chromium(chromium: str, page: Path, *action: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="tpx-profile-") as profile:
        return subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--proxy-server=127.0.0.1:9",  # nothing may go out; CSP blocks it first
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                *action,
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )


def _console(stderr: str) -> list[str]:
    """Console messages (errors, CSP refusals, logs) as Chromium logs them on stderr."""
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


class _Plots(HTMLParser):
    """Counts the drawing elements inside each ``figure.plot`` of the loaded DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.plots: dict[str, dict[str, int]] = {}
        self._current: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure" and a.get("class") == "plot":
            self._current, self._depth = a.get("data-plot") or "?", 0
            self.plots[self._current] = {}
        if self._current is not None:
            self._depth += tag == "figure"
            counts = self.plots[self._current]
            counts[tag] = counts.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if self._current is not None and tag == "figure":
            self._depth -= 1
            if self._depth == 0:
                self._current = None


def _png(path: Path) -> tuple[tuple[int, int], int, float, tuple[int, ...]]:
    """Size, distinct colours, share of non-white pixels and the top-left pixel of a PNG."""
    from PIL import Image  # pillow comes with matplotlib

    with Image.open(path) as img:
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 24) or []
        white = sum(n for n, c in colours if c == (255, 255, 255))
        corner = rgb.getpixel((0, 0))
        assert isinstance(corner, tuple)
        return rgb.size, len(colours), 1 - white / (rgb.width * rgb.height), corner


@pytest.mark.parametrize("name", NAMES)
def test_page_in_chromium(
    chromium: str, browser_dir: Path, pages: dict[str, tuple[Report, str]], name: str
) -> None:
    report, page = pages[name]
    html_file = browser_dir / f"{name}.html"
    html_file.write_text(page, encoding="utf-8")

    dom = _run_chromium(chromium, html_file, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console(dom.stderr) == []
    assert json.loads(_embedded(dom.stdout).replace("&lt;", "<")) == report.to_dict()
    plots = _Plots()
    plots.feed(dom.stdout)
    assert len(plots.plots) == page.count('<figure class="plot"')
    for plot, counts in plots.plots.items():
        assert counts.get("svg") == 1, plot
        assert counts.get("path", 0) + counts.get("use", 0) >= 10, (plot, counts)

    shot = browser_dir / f"{name}.png"
    run = _run_chromium(chromium, html_file, f"--screenshot={shot}", "--window-size=1200,2400")
    assert run.returncode == 0, run.stderr[-2000:]
    assert _console(run.stderr) == []
    assert shot.stat().st_size > 15_000
    size, colours, ink, corner = _png(shot)
    assert size == (1200, 2400) and corner == (255, 255, 255)  # the page background
    assert colours > (100 if report.series else 20), "the screenshot is (nearly) one colour"
    assert ink > (0.03 if report.series else 0.001), f"only {ink:.2%} of the page is drawn"


def test_chromium_reports_a_blocked_fetch(
    chromium: str, browser_dir: Path, pages: dict[str, tuple[Report, str]]
) -> None:
    # the check above is not vacuous: an external image is refused by the CSP, and said so
    _, page = pages["empty"]
    bad = browser_dir / "bad.html"
    bad.write_text(page.replace("<main>", '<main><img src="https://example.invalid/x.png">'))
    run = _run_chromium(chromium, bad, "--dump-dom")
    assert any("Content Security Policy" in ln for ln in _console(run.stderr)), run.stderr[-2000:]


def test_the_screenshots_are_there() -> None:
    # scripts/screenshots writes them; the README and docs/html-report.md show them
    commands = (
        "analyze",
        "find-bottleneck",
        "optimize-concurrency",
        "design-batching",
        "scaling-plan",
        "sweep",
        "task",
    )
    for name in commands:
        for shot in (SCREENSHOTS / f"{name}.png", SCREENSHOTS / f"{name}-details.png"):
            assert shot.exists() and 10_000 < shot.stat().st_size < 400_000, shot
            assert _png(shot)[0][0] == 1280, shot
    for doc in (ROOT / "README.md", ROOT / "docs" / "html-report.md"):
        text = doc.read_text(encoding="utf-8")
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text):
            assert (doc.parent / image).exists(), (doc.name, image)
