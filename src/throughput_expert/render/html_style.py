"""The HTML page's stylesheet, inlined in the page (no fetches): system fonts, light, printable."""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
:root { --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --soft: #f9fafb; --blue: #2563eb;
  --red: #dc2626; --green: #16a34a; --amber: #d97706; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans",
  sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 28px 40px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 18px; }
.cmd { font: 600 13px ui-monospace, "DejaVu Sans Mono", monospace; color: var(--muted);
  letter-spacing: .02em; }
h1.summary { font-size: 17px; font-weight: 600; margin: 6px 0 14px; line-height: 1.4; }
h2 { font-size: 17px; margin: 28px 0 12px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
h4, h5, h6 { font-size: 13px; margin: 10px 0 4px; color: var(--muted); }
.first { background: #eff6ff; border-left: 4px solid var(--blue); padding: 10px 14px;
  margin: 0 0 14px; border-radius: 4px; }
.first .k { font-weight: 700; margin-right: 6px; }
.gain { color: var(--green); font-weight: 600; white-space: nowrap; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
  gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px;
  background: var(--soft); }
.card .k { font-size: 12px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; }
.card .v { font-size: 19px; font-weight: 650; }
.card .n { font-size: 12px; color: var(--muted); }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 16px; }
figure.plot { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
figure.plot figcaption { font-size: 14px; margin-bottom: 4px; }
figure.plot figcaption span { display: block; font-size: 12px; color: var(--muted); }
figure.plot svg { display: block; width: 100%; height: auto; }
ol.recs { padding-left: 22px; margin: 0; }
ol.recs > li { margin-bottom: 14px; }
.rec-title { font-weight: 600; }
.chips { margin: 4px 0; font-size: 12px; }
.chip { display: inline-block; border-radius: 10px; padding: 1px 8px; margin-right: 6px;
  background: var(--soft); border: 1px solid var(--line); }
.lvl-low { color: var(--green); } .lvl-medium { color: var(--amber); }
.lvl-high { color: var(--red); }
.ev-links { color: var(--muted); }
ol.recs p { margin: 4px 0; }
pre { background: #0f172a; color: #e2e8f0; padding: 10px 12px; border-radius: 6px;
  overflow-x: auto; font-size: 12.5px; white-space: pre-wrap; }
.plan { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
.plan h3 { margin-top: 0; }
.plan ul { padding-left: 18px; margin: 0; }
details { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; padding: 0 14px; }
details > summary { cursor: pointer; font-weight: 600; font-size: 15px; padding: 9px 0; }
details[open] { padding-bottom: 12px; }
details details { margin: 8px 0; }
p.verdict { margin: 4px 0 8px; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0 8px; max-width: 100%; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top;
  overflow-wrap: break-word; }
table.grid { width: 100%; }
table.grid tr.over th, table.grid tr.over td:nth-child(2) { color: var(--red); }
table.steps td:first-child { white-space: nowrap; }
table.evidence td:first-child code { white-space: nowrap; overflow-wrap: normal; }
table.evidence .law { color: var(--muted); max-width: 22em; }
.sub { font-size: 12px; color: var(--muted); }
.pair { white-space: normal; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
  gap: 10px; }
.cards > div { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px;
  min-width: 0; }
.cards h5 { margin: 2px 0 4px; color: var(--ink); font-size: 14px; }
table.grid th, table.grid td { border-bottom: 1px solid var(--line); padding: 4px 10px; }
table.grid tr:first-child th { background: var(--soft); }
table.kv th { font-weight: 500; color: var(--muted); padding-right: 18px; }
.na { color: var(--muted); }
.more { color: var(--muted); font-style: italic; }
.ev:target { background: #fefce8; }
footer { margin-top: 30px; font-size: 12px; color: var(--muted); }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px;
  overflow-wrap: anywhere; }
h1 code, p code, td code, th code, li code, .card code { background: var(--soft);
  padding: 0 3px; border-radius: 3px; }
main, section, header { min-width: 0; overflow-wrap: break-word; }
pre code, li pre code { background: none; padding: 0; }
a code { white-space: nowrap; overflow-wrap: normal; }
"""
