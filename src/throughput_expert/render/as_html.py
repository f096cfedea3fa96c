"""The HTML renderer: one self-contained page, readable offline, that carries its own data.

The page embeds exactly what the JSON renderer outputs, in ``<script type="application/json"
id="report">`` (``<``, ``>`` and ``&`` written as JSON escapes, so no string can close the
element), and presents it: the verdict and key figures at the top, then the plots (matplotlib,
inline SVG: no JavaScript at all), then the recommendations and plan; the analysis in sections,
the evidence, the assumptions and the inputs, each in a ``<details>`` closed by default. Keys are
shown as words, never as the JSON's names (``html_common.label``), and outside text is escaped
and made UTF-8 safe. The page fits 1280 px without sideways scrolling: tables wrap, and a table
of records too wide to wrap becomes one card per record. A Content-Security-Policy forbids
every fetch, so the page works offline and cannot leak: styles are inline, plots are inline.

Layout of the module: ``HTMLRenderer.render`` builds the page from the Report's JSON form;
``html_summary`` writes the top, ``html_plots`` the figures, ``html_details`` the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from throughput_expert.model import Report
from throughput_expert.render import html_details, html_plots, html_summary
from throughput_expert.render.as_json import json_text
from throughput_expert.render.base import Renderer
from throughput_expert.render.html_common import esc, prose
from throughput_expert.render.html_style import CSS

__all__ = ["HTMLRenderer", "embed_json"]

#: nothing may be fetched; inline styles only; no script runs (the JSON block is data)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class HTMLRenderer(Renderer):
    name = "html"

    def render(self, report: Report) -> str:
        doc = report.to_dict()
        data = json_text(doc)  # what the JSON renderer writes, without a second to_dict
        title = f"tpx {doc['command']}"
        body = "".join(
            (
                _header(doc),
                _plots(doc),
                html_summary.recommendations(doc["recommendations"]),
                html_summary.plan(doc["implementation_plan"]),
                html_details.analysis(doc["analysis"]),
                html_details.evidence(doc["evidence"]),
                html_details.assumptions(doc["assumptions"]),
                html_details.inputs(doc["inputs"]),
                _footer(doc),
            )
        )
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
            f"<body><main>{body}</main>\n"
            f'<script type="application/json" id="report">\n{embed_json(data)}</script>\n'
            "</body></html>\n"
        )


def embed_json(text: str) -> str:
    """JSON text safe inside ``<script>``: ``<``, ``>``, ``&`` become ``\\u003c``... escapes.

    They can only occur inside JSON strings, where the escape parses to the same character, so
    ``JSON.parse`` of the block gives exactly the JSON renderer's document.
    """
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _header(doc: Mapping[str, Any]) -> str:
    return (
        f'<header><div class="cmd">tpx {esc(doc["command"])}</div>'
        f'<h1 class="summary">{prose(doc["summary"])}</h1>'
        f"{html_summary.first_action(doc)}"
        f"{html_summary.key_figures(doc)}</header>"
    )


def _plots(doc: Mapping[str, Any]) -> str:
    drawn = html_plots.charts(doc)
    if not drawn:
        return ""
    figures = "".join(
        f'<figure class="plot" data-plot="{esc(c.name)}" data-series="{esc(" ".join(c.series))}">'
        f"<figcaption><b>{prose(c.title)}</b>"
        + (f"<span>{prose(c.caption)}</span>" if c.caption else "")
        + f"</figcaption>{c.svg}</figure>"
        for c in drawn
    )
    return f'<section><h2>Plots</h2><div class="plots">{figures}</div></section>'


def _footer(doc: Mapping[str, Any]) -> str:
    return (
        f"<footer>throughput-expert report, schema version {esc(doc['schema_version'])}. "
        "Every number comes from a measurement or a law; see the evidence. The report's JSON "
        "is embedded in this page (<code>script#report</code>).</footer>"
    )
