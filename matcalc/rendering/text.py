"""Rendering verdicts for people: plain text (CLI, ``str()``) and HTML (Jupyter)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ..evidence import Counterexample, Grid, NumericEvidence, SymbolicEvidence, sizes_text

if TYPE_CHECKING:  # a verdict renders itself through this module, which only formats it
    from ..verdict import Verdict

#: longest derivative (in characters) shown entry by entry
MAX_SHOWN = 400


def grid_text(grid: Grid) -> str:
    """``[[1, 2], [3, 4]]``; a column as ``[1, 2]ᵀ``, a scalar bare."""
    if len(grid) == 1 and len(grid[0]) == 1:
        return grid[0][0]
    if all(len(row) == 1 for row in grid):
        return "[" + ", ".join(row[0] for row in grid) + "]ᵀ"
    return "[" + ", ".join("[" + ", ".join(row) + "]" for row in grid) + "]"


def symbolic_line(e: SymbolicEvidence) -> str:
    head = f"{e.status} at {sizes_text(e.sizes)}"
    cost = f" [{e.entries} entries, {e.seconds:.2f} s]" if e.entries else ""
    return f"{head}: {e.detail}{cost}"


def numeric_line(e: NumericEvidence) -> str:
    if not e.points:
        return f"{e.status}: {e.detail}"
    sizes = sorted({sizes_text(p.sizes) for p in e.points})
    return (f"{e.status}: {e.detail} ({'; '.join(sizes)}); max error {e.max_error:.1e} "
            f"(tolerance {e.tolerance:.0e}) [{e.engine}, {e.seconds:.2f} s]")


def counterexample_lines(ce: Counterexample) -> list[str]:
    kind = "exact" if ce.exact else "float64"
    # a counterexample whose two sides print the same shows nothing (both engines
    # print enough digits to tell them apart: pointtest and numeric's shown_pair)
    assert ce.lhs != ce.rhs, "a counterexample whose true value and claim print the same"
    lines = [f"counterexample ({kind}, {sizes_text(ce.sizes)}):"]
    width = max([len(n) for n in ce.point] + [10])
    for name, value in ce.point.items():
        lines.append(f"  {name.ljust(width)} = {grid_text(value)}")
    lines.append(f"  {'true value'.ljust(width)} = {grid_text(ce.lhs)}")
    lines.append(f"  {'claim'.ljust(width)} = {grid_text(ce.rhs)}")
    return lines


def render_text(v: Verdict) -> str:
    lines = []
    if v.disagreement:
        lines.append("!! " + v.disagreement)
    scope = f" {v.scope}" if v.scope else ""
    lines.append(f"{v.status.upper()}{scope}  {v.identity.strip()}   [{v.layout} layout]")
    lines.append(f"  {v.summary}")
    for finding in v.diagnosis:
        lines.append(f"  * {finding.message}")
    for hint in v.hints:
        lines.append(f"  hint: {hint}")
    if v.variables:
        declared = ", ".join(f"{k}: {s}" for k, s in v.variables.items())
        assumed = "; ".join(f"{k} {', '.join(t)}" for k, t in v.assumptions.items())
        lines.append(f"  variables: {declared}" + (f" (assuming {assumed})" if assumed else ""))
    if v.lhs_shape and v.rhs_shape:
        lines.append(f"  shapes: {v.lhs} is {v.lhs_shape}; {v.rhs} is {v.rhs_shape}")
    if v.closed_form:
        lines.append(f"  derivative in {v.layout} layout (verified): {v.closed_form}")
    if v.symbolic:
        lines.append(f"  symbolic: {symbolic_line(v.symbolic)}")
    if v.numeric:
        lines.append(f"  numeric:  {numeric_line(v.numeric)}")
    derivative = v.symbolic.derivative if v.symbolic else None
    if derivative and v.status != "ill-formed":
        shown = grid_text(derivative)
        if len(shown) <= MAX_SHOWN:
            lines.append(f"  derivative at {sizes_text(v.symbolic.sizes)}: {shown}")
    if v.counterexample:
        lines.extend("  " + line for line in counterexample_lines(v.counterexample))
    return "\n".join(lines)


_COLOURS = {"holds": "#1a7f37", "fails": "#cf222e", "ill-formed": "#9a6700"}


def render_html(v: Verdict) -> str:
    e = html.escape
    colour = _COLOURS[v.status]
    rows = [("summary", v.summary)]
    rows += [("diagnosis", f.message) for f in v.diagnosis]
    rows += [("hint", h) for h in v.hints]
    if v.lhs_shape and v.rhs_shape:
        rows.append(("shapes", f"{v.lhs} is {v.lhs_shape}; {v.rhs} is {v.rhs_shape}"))
    if v.closed_form:
        rows.append(("derivative", v.closed_form))
    if v.symbolic:
        rows.append(("symbolic", symbolic_line(v.symbolic)))
    if v.numeric:
        rows.append(("numeric", numeric_line(v.numeric)))
    if v.counterexample:
        rows.append(("counterexample", "\n".join(counterexample_lines(v.counterexample)[1:])))
    body = "".join(
        f"<tr><th style='text-align:left;vertical-align:top;padding-right:1em'>{e(k)}</th>"
        f"<td style='white-space:pre-wrap;font-family:monospace'>{e(val)}</td></tr>"
        for k, val in rows
    )
    alarm = (f"<p style='color:#cf222e;font-weight:bold'>{e(v.disagreement)}</p>"
             if v.disagreement else "")
    from .formula import verdict_mathml

    formula = verdict_mathml(v) or ""
    return (
        f"<div class='matcalc-verdict'>{alarm}<p><span style='background:{colour};color:white;"
        f"padding:2px 6px;border-radius:3px;font-weight:bold'>{e(v.status)}</span>"
        f"{' <strong>' + e(v.scope) + '</strong>' if v.scope else ''} "
        f"<code>{e(v.identity.strip())}</code> <em>({e(v.layout)} layout)</em></p>"
        f"{formula}<table>{body}</table></div>"
    )


def derivation_text(d: object) -> str:
    head = f"d({d.f})/d({d.wrt})"
    if getattr(d, "order", 1) == 2:
        head = f"d({head})/d({d.wrt})"
    lines = [f"{head}   [{d.layout} layout, shape {d.shape}]"]
    if d.expr is not None:
        if getattr(d, "named", None):
            lines.append(f"  = {d.named}")
            lines.extend(f"    where {name} = {text}" for name, text in d.where)
            lines.append(f"  written out: {d.expr}")
        else:
            lines.append(f"  = {d.expr}")
        if d.verdict is not None:
            lines.append(f"  verified: {d.verdict.summary}")
            if d.verdict.symbolic:
                lines.append(f"    symbolic: {symbolic_line(d.verdict.symbolic)}")
            if d.verdict.numeric:
                lines.append(f"    numeric:  {numeric_line(d.verdict.numeric)}")
    if d.note:
        lines.append(f"  {d.note}")
    lines.append(f"  method: {d.method}")
    if d.componentwise is not None:
        shown = grid_text(d.componentwise)
        flat = " (rows of the flattened tensor)" if d.shape.count(",") > 1 else ""
        if d.expr is None or len(shown) <= MAX_SHOWN:
            lines.append(f"  componentwise at {sizes_text(d.sizes)}{flat}: {shown}")
    return "\n".join(lines)


def derivation_html(d: object) -> str:
    from .formula import derivation_mathml

    e = html.escape
    body = e(derivation_text(d))
    formula = derivation_mathml(d) or ""
    return f"<div class='matcalc-derivation'>{formula}<pre>{body}</pre></div>"
