"""The cheat sheet as one self-contained HTML page: MathML formulas, no
scripts, no network, and a print style for A4 (nothing wider than the page:
cells wrap, long sums are set one term per line)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from .sheet_labels import LABELS
from .sheet_model import Block, Table, math_mathml

#: a formula longer than this (as text) is set one term of its sum per line
WRAP = 26

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
       sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #1f2328;
       overflow-wrap: anywhere; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
nav ol { columns: 2; font-size: 14px; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; font-size: 14px; }
th, td { border: 1px solid #d0d7de; padding: 5px 7px; vertical-align: middle; }
th { background: #f6f8fa; text-align: left; }
td.math { font-size: 16px; }
td.note { font-size: 12px; color: #57606a; min-width: 170px; }
span.evidence { color: #1a7f37; }
span.failed { color: #cf222e; font-weight: bold; }
span.small { color: #57606a; font-size: 12px; }
span.quote { font-style: italic; }
td.evidence-list { font-size: 13px; }
td.nowrap { white-space: nowrap; }
span.verdict { font-weight: 600; white-space: nowrap; }
.source { color: #57606a; font-style: italic; }
math { font-size: 1.05em; }
table.identities td:nth-child(5), table.autograd td:nth-child(4) { width: 28%; }
table.errata td:nth-child(1) { width: 27%; }
table.errata td:nth-child(3) { width: 36%; }
@page { size: A4; margin: 11mm 10mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10.5px; }
  h1 { font-size: 18px; margin: 0 0 .3em; }
  h2 { font-size: 14px; margin: .9em 0 .3em; break-after: avoid; }
  h3 { font-size: 12px; margin: .4em 0 .2em; }
  p, ul { margin: .3em 0; }
  nav ol { font-size: 10px; margin: .2em 0; }
  table { font-size: 9.5px; margin: .3em 0; }
  th, td { padding: 2px 4px; }
  td.math { font-size: 9.5px; }
  td.note { min-width: 100px; }
  td.note, span.small { font-size: 8.5px; }
  td.evidence-list { font-size: 9px; }
  tr { break-inside: avoid; }
}
body.essentials table { font-size: 13px; }
@media print {
  body.essentials { font-size: 9.5px; }
  body.essentials h2 { margin: .5em 0 .2em; font-size: 12px; }
  body.essentials table { font-size: 8.5px; margin: .2em 0; }
  body.essentials td.math { font-size: 10.5px; }
  body.essentials td.note { min-width: 0; }
  body.essentials td.note, body.essentials span.small { font-size: 8px; }
  body.essentials th, body.essentials td { padding: 1px 3px; }
}
"""


def _h(text: str) -> str:
    return html.escape(text)


def _parts(parts: Sequence[tuple[str, Any]]) -> str:
    out = []
    for kind, value in parts:
        if kind == "math":
            out.append(math_mathml(value, WRAP))
        elif kind == "br":
            out.append("<br>")
        elif kind == "strong":
            out.append(f"<strong>{_h(value)}</strong>")
        elif kind == "text":
            out.append(_h(value))
        else:
            out.append(f'<span class="{kind}">{_h(value)}</span>')
    return "".join(out)


def _table(table: Table) -> str:
    head = "".join(f"<th>{_h(h)}</th>" for h in table.header)
    rows = []
    for row_id, cells in table.rows:
        attr = f' id="{_h(row_id)}"' if row_id else ""
        tds = "".join(f'<td class="{c.cls}">{_parts(c.parts)}</td>' if c.cls
                      else f"<td>{_parts(c.parts)}</td>" for c in cells)
        rows.append(f"<tr{attr}>{tds}</tr>")
    return (f'<table class="{table.cls}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def to_html(blocks: Sequence[Block], lang: str, essentials: bool = False) -> str:
    words = LABELS[lang]
    title = next(b[1] for b in blocks if b[0] == "title")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(title)}</title><style>{_CSS}</style></head>",
        f'<body class="{"essentials" if essentials else "full"}">',
    ]
    for block in blocks:
        kind = block[0]
        if kind == "title":
            parts.append(f"<h1>{_h(block[1])}</h1>")
        elif kind == "generated":
            parts.append(f"<p>{block[1]}</p>")
        elif kind == "p":
            cls = f" class='{block[1]}'" if block[1] else ""
            parts.append(f"<p{cls}>{_h(block[2])}</p>")
        elif kind == "h2":
            parts.append(f'<h2 id="{_h(block[1])}">{_h(block[2])}</h2>')
        elif kind == "h3":
            parts.append(f"<h3>{_h(block[1])}</h3>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{_h(t)}</li>" for t in block[1]) + "</ul>")
        elif kind == "toc":
            items = "".join(f'<li><a href="#{_h(a)}">{_h(t.split(". ", 1)[1])}</a></li>'
                            for a, t in block[1])
            parts.append(f'<nav><h3>{_h(words["contents"])}</h3><ol>{items}</ol></nav>')
        elif kind == "table":
            parts.append(_table(block[1]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
