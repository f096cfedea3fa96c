"""Bounded work on large reports (issue #19): a plan of 1,000 components renders its page, its
text and its summary with a bounded number of rows, cards, charts and names, each saying how many
more the JSON holds; and the scaling advisor's walks over the call graph stay linear.

Not timed (speed is ``benchmarks/large_inputs.py``'s): these count what is drawn.
"""

from __future__ import annotations

import html
import json
import random
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from throughput_expert import scaling_plan
from throughput_expert.advisors.scaling import recs
from throughput_expert.model import Evidence, Recommendation, Report, Series
from throughput_expert.model.units import fmt_count
from throughput_expert.render import html_plots
from throughput_expert.render.as_html import HTMLRenderer
from throughput_expert.render.as_text import TextRenderer
from throughput_expert.render.html_common import MAX_ROWS
from throughput_expert.render.text_common import MAX_VALUES, num

SERVICES, STORES = 600, 400  # 1,000 components: the architecture's cap


def _architecture(path: Path) -> Path:
    """600 services in a chain (each calls the next) and 400 databases that cannot add
    instances for writes (read share 0 %, disk 80 % busy): every database blocks the target."""
    lines = ["system: large", "entry_rate: 1000 rps", "components:"]
    for i in range(SERVICES):
        calls = {f"db{i % STORES}": 1, **({f"s{i + 1}": 1} if i + 1 < SERVICES else {})}
        lines += [
            f"  - name: s{i}",
            "    kind: service",
            "    instances: 2",
            "    cores: 4",
            f'    utilization: {{cpu: "{20 + i % 50}%"}}',
            "    calls: {" + ", ".join(f"{k}: {v}" for k, v in calls.items()) + "}",
        ]
    for i in range(STORES):
        lines += [
            f"  - name: db{i}",
            "    kind: database",
            "    instances: 1",
            '    read_share: "0%"',
            f'    utilization: {{cpu: "30%", disk_io: "{40 + i % 50}%"}}',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def large_plan(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = tmp_path_factory.mktemp("large")
    return scaling_plan(_architecture(folder / "arch.yaml"), target_rps=5000)


@pytest.fixture(scope="module")
def page(large_plan: Report) -> str:
    return HTMLRenderer().render(large_plan)


def _section(page: str, anchor: str) -> str:
    found = re.search(rf'<details id="{anchor}">(.*?)</details>', page, re.S)
    assert found, f"no section {anchor}"
    return found.group(1)


def _embedded(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="report">(.*?)</script>', page, re.S)
    assert found
    doc: dict[str, Any] = json.loads(found.group(1))
    return doc


def test_the_plan_is_as_large_as_the_cap(large_plan: Report) -> None:
    doc = large_plan.to_dict()
    assert len(doc["analysis"]["components"]) == SERVICES + STORES
    assert len(doc["recommendations"]) > MAX_ROWS
    assert len(doc["evidence"]) > MAX_ROWS


def test_the_page_shows_the_first_rows_of_each_table_and_says_how_many_more(page: str) -> None:
    components = _section(page, "a-components")
    cards = '<div class="cards">' in components  # past WIDE columns: one card per record
    records = components.count('<table class="kv">') if cards else components.count("<tr>") - 1
    assert records == MAX_ROWS
    more = SERVICES + STORES - MAX_ROWS
    assert f"… {more:,} more rows in the report's JSON (embedded in this page)" in components
    evidence = _section(page, "evidence")
    assert evidence.count('<tr class="ev"') == MAX_ROWS
    assert "more pieces of evidence in the report's JSON" in evidence
    recs_part = page.split("<h2>Recommendations</h2>", 1)[1].split("</section>", 1)[0]
    assert recs_part.count("<li>") == MAX_ROWS
    assert "more recommendations in the report's JSON" in recs_part


def test_the_page_still_embeds_every_component(page: str, large_plan: Report) -> None:
    doc = _embedded(page)
    assert doc == large_plan.to_dict()
    assert len(doc["analysis"]["components"]) == SERVICES + STORES


def test_load_curves_share_one_chart_of_the_first_to_saturate(page: str) -> None:
    plots = re.findall(r'<figure class="plot" data-plot="([^"]*)" data-series="([^"]*)"', page)
    assert len(plots) == 1  # no chart of its own for any of the 1,000 curves
    name, series = plots[0]
    assert name.endswith("load_vs_capacity")
    drawn = series.split()
    assert len(drawn) == SERVICES + STORES  # every curve taken by the one chart ...
    caption = html.unescape(page.split(f'data-plot="{name}"', 1)[1].split("</figcaption>", 1)[0])
    more = SERVICES + STORES - len(html_plots.PALETTE)
    assert f"{more:,} more are in the report's JSON" in caption  # ... and the rest said
    order = _embedded(page)["analysis"]["saturation_order"]
    first = order[0]["component"]
    assert f">{first}<" in page.split(f'data-plot="{name}"', 1)[1].split("</figure>", 1)[0]


def test_generic_charts_are_capped() -> None:
    series = {
        f"curve_{i}": Series("x", "y", tuple((float(x), float(x * i)) for x in range(5)))
        for i in range(html_plots.MAX_GENERIC_CHARTS + 5)
    }
    report = Report(command="task", summary="Many curves.", series=series)
    drawn = html_plots.charts(report.to_dict())
    assert len(drawn) == html_plots.MAX_GENERIC_CHARTS
    assert "5 more curves are not drawn" in drawn[-1].caption


def test_the_text_shows_the_first_rows(large_plan: Report) -> None:
    text = TextRenderer(width=100).render(large_plan)
    assert f"… {SERVICES + STORES - MAX_ROWS} more components in the JSON report" in text
    assert "more recommendations in the JSON report" in text
    assert "more components in the JSON report" in text.split("What breaks next", 1)[1]
    assert len(text.splitlines()) < 20 * MAX_ROWS


def test_a_long_list_of_values_shows_its_first_ones() -> None:
    values = [float(i) for i in range(5000)]
    shown = num(values)
    assert shown.startswith("0, 1, 2")
    assert shown.endswith(f", … {5000 - MAX_VALUES:,} more")
    assert len(shown.split(", ")) == MAX_VALUES + 1
    assert num(values[:3]) == "0, 1, 2"


def test_text_notes_and_tables_are_capped() -> None:
    trial = Evidence(
        id="E0",
        claim="A measured trial.",
        law="T(b) = c0 + c1·b",
        inputs={"batch_sizes": [float(i) for i in range(10_000)]},
        result={"x": 1.0},
    )
    ev = Evidence(id="E1", claim="A law.", law="Little's law", inputs={"x": 1.0}, result=1.0)
    rec = Recommendation(
        optimization="Do one thing",
        expected_improvement_pct=None,
        effort="low",
        risk="low",
        rationale="Because.",
    )
    report = Report(
        command="task",
        summary="Big.",
        evidence=(trial,) + (ev,) * 199,
        recommendations=(rec,) * 100,
    )
    text = TextRenderer(width=100).render(report)
    assert "… 140 more pieces of evidence in the JSON report" in text
    assert "… 40 more recommendations in the JSON report" in text
    assert f"… {10_000 - MAX_VALUES:,} more" in text
    assert "9999" not in text
    # the page cuts a list of values where the text does
    page = HTMLRenderer().render(report)
    assert f"… {10_000 - MAX_VALUES:,} more" in page
    assert ">9999<" not in page and ", 9999," not in page


# -- the summary names a few components -------------------------------------------------------


def test_the_summary_names_a_few_components_and_how_many_more(large_plan: Report) -> None:
    summary = large_plan.summary
    named = re.findall(r"\b(?:s|db)\d+ \d+→\d+", summary)
    assert len(named) == recs.SUMMARY_NAMES
    changed = [
        c
        for c in large_plan.to_dict()["analysis"]["components"]
        if c.get("instances_needed") and c["instances_needed"] != c["instances_now"]
    ]
    assert len(changed) > recs.SUMMARY_NAMES
    assert f"and {len(changed) - recs.SUMMARY_NAMES:,} more components" in summary
    assert len(summary) < 1000


# -- the advisor's graph walks ----------------------------------------------------------------


def _random_dag(rng: random.Random, n: int, edges: int) -> dict[str, list[str]]:
    callees: dict[str, list[str]] = {}
    for _ in range(edges):
        a, b = sorted(rng.sample(range(n), 2))
        callees.setdefault(f"c{a}", []).append(f"c{b}")
    return callees


@pytest.mark.parametrize("seed", range(5))
def test_stuck_below_matches_a_walk_of_every_path(seed: int) -> None:
    rng = random.Random(seed)
    callees = _random_dag(rng, 60, 150)
    stuck = {f"c{i}" for i in rng.sample(range(60), 8)}
    below = recs._stuck_below(callees, stuck)
    for name in callees:
        assert below.get(name, frozenset()) == recs._walk(callees, name, stuck), name


def test_stuck_below_survives_a_cycle() -> None:
    callees = {"a": ["b"], "b": ["c"], "c": ["a", "d"]}
    below = recs._stuck_below(callees, {"a", "d"})
    assert below["a"] == frozenset({"d"})  # the start itself is not below it
    assert below["b"] == frozenset({"a", "d"})


def _plan(name: str, today: float, planned: float | None) -> Any:
    return SimpleNamespace(
        component=SimpleNamespace(name=name),
        saturates_at=today,
        fanout=1.0,
        record=SimpleNamespace(
            capacity_at_plan=planned, instances_needed=None if planned is None else 3
        ),
    )


def _gains_by_scan(plans: list[Any]) -> dict[str, tuple[float | None, str]]:
    """The system gains as first written: every cap rescanned at each step."""
    today = {p.component.name: p.saturates_at for p in plans}
    planned = {
        p.component.name: p.record.capacity_at_plan
        for p in plans
        if p.record.capacity_at_plan is not None
    }
    base = min(today.values())
    out: dict[str, tuple[float | None, str]] = {}
    done: set[str] = set()
    for name in sorted(planned, key=lambda n: today.get(n, float("inf"))):
        done.add(name)
        caps = {n: planned[n] if n in done else today[n] for n in today}
        limit = min(caps, key=lambda n: caps[n])
        gain = caps[limit] / base - 1
        if gain > 1e-9:
            note = f" The system then carries {fmt_count(caps[limit])} rps at the entry"
            note += "." if limit in done else f", until {limit} saturates."
            out[name] = (gain * 100, note)
        else:
            out[name] = (
                None,
                f" Alone it lifts nothing: {limit} caps the system at "
                f"{fmt_count(caps[limit])} rps at the entry too (scale it as well).",
            )
    return out


@pytest.mark.parametrize("seed", range(5))
def test_system_gains_match_a_scan_of_every_cap(seed: int) -> None:
    rng = random.Random(seed)
    plans = [
        _plan(
            f"c{i}",
            float(rng.choice((100, 200, 300, 400))),  # ties on purpose
            None if rng.random() < 0.2 else float(rng.choice((150, 300, 450, 600))),
        )
        for i in range(40)
    ]
    assert recs.system_gains(plans) == _gains_by_scan(plans)
