"""The layout cheat sheet, generated from the tables and their verification.

Nothing on the sheet is written by hand: every formula is an entry of
``matcalc/data/tables/`` rendered by :mod:`matcalc.rendering.notation`, every
shape comes from :mod:`matcalc.layout`, and every evidence cell from the
:class:`EntryResult` of checking that record. The evidence is stated so that it
is the same on every run (proof kind, sizes, number of points, an error bound),
which lets the test suite detect a stale sheet by regenerating it.

The sheet is first built as a list of blocks (headings, paragraphs, tables whose
cells hold text and formula trees); :func:`to_markdown` writes Markdown with
``$...$`` LaTeX for reading on a code host, and :mod:`.sheet_html` one
self-contained HTML page whose formulas are MathML (no scripts, no network).
Two languages (``en``, ``zh``); two selections: the full sheet, and the
essentials (the study notes' core tables and their errata, two A4 pages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import expr as E
from ..evidence import sizes_text
from ..layout import layout_plan
from ..shapes import SCALAR, Shape, fmt
from ..tablecheck import EntryResult, parse_dims
from ..tables import Entry, Section, Tables
from .sheet_labels import LABELS, LAYOUT_NAMES, pick, source_of, tags_text, translate
from .sheet_model import Block, Cell, Table, display_tree, math_latex
from .sheet_records import accumulation_table, autograd_table, errata_table

#: the sections of ``--essentials``: scalar by vector, vector by vector, the shape
#: rules, the chain rule, and the errata
ESSENTIALS = ("notes-3.1", "notes-3.3", "notes-3.4", "notes-3.5", "notes-errata")

@dataclass(frozen=True)
class Line:
    """One identity entry, ready to render."""

    entry: Entry
    f: E.Expr
    wrt: E.Var
    claims: dict[str, E.Expr]
    shapes: dict[str, Shape]
    ok: bool
    evidence: str
    assumptions: str


def _proof_word(kind: str | None) -> str:
    return {"exact": "exact", "polynomial identity test": "PIT",
            "exact and polynomial identity test": "exact+PIT"}.get(kind or "", "")


def evidence_text(result: EntryResult, lang: str) -> str:
    """A deterministic one-line summary of how an entry was verified."""
    words = LABELS[lang]
    if not result.ok:
        failing = "; ".join(c.label for c in result.failures())
        return f"✗ {words['failed']}: {failing}"
    verdicts = [c.verdict for c in result.checks if c.verdict is not None
                and not c.label.startswith("pitfall")]
    proofs = sorted({_proof_word(v.symbolic.proof) for v in verdicts
                     if v.symbolic is not None and v.symbolic.status == "proved"})
    sizes = sorted({sizes_text(v.symbolic.sizes) for v in verdicts if v.symbolic is not None})
    points = {len(v.numeric.points) for v in verdicts if v.numeric is not None}
    worst = max((v.numeric.max_error for v in verdicts if v.numeric is not None), default=0.0)
    parts = []
    if proofs:
        parts.append(f"✓ {'/'.join(p for p in proofs if p)} ({'; '.join(sizes)})")
    else:
        parts.append(f"✓ {words['numeric_only']}")
    if points:
        bound = "1e-12" if worst <= 1e-12 else "1e-8"
        parts.append(f"torch {max(points)} {words['points']}, err < {bound}")
    for check in result.checks:
        if check.label == "kink":
            where, _, rest = check.detail.partition(" autograd picks ")
            picked, _, interval = rest.partition(", inside the subdifferential ")
            parts.append(f"{where}: autograd picks {picked} ∈ {interval}")
        elif check.label == "shape entries":
            parts.append("index rule ✓")
    text = " · ".join(parts)
    return translate(text) if lang == "zh" else text


def lines_for(section: Section, results: dict[str, EntryResult], lang: str) -> list[Line]:
    out = []
    for entry in section.entries:
        result = results[entry.key]
        claims = {layout: display_tree(entry, layout, text) for layout, text in entry.claims}
        f = display_tree(entry, "numerator", entry.f)
        wrt = display_tree(entry, "numerator", entry.wrt)
        shapes = {layout: layout_plan(f.shape, wrt.shape, layout).shape
                  for layout in ("numerator", "denominator")}
        for layout, text in entry.shape:
            shapes[layout] = parse_dims(text)
        assumed = tags_text(entry.assume, lang)
        out.append(Line(entry, f, wrt, claims, shapes, result.ok, evidence_text(result, lang),
                        assumed))
    return out


def shape_text(shape: Shape, lang: str) -> str:
    return LABELS[lang]["scalar"] if shape == SCALAR else fmt(shape)


def _kind_text(shape: Shape, lang: str) -> str:
    w = LABELS[lang]
    if shape == SCALAR:
        return w["scalar"]
    if shape[1].is_unit:
        return f"{w['vector']} {fmt(shape)}"
    return f"{w['matrix']} {fmt(shape)}"


def _is_shape_rule(section: Section) -> bool:
    return bool(section.entries) and all(e.shape and e.note for e in section.entries)


# ---------------------------------------------------------------------------
# Building the sheet


def sections_of(tables: Tables, essentials: bool) -> list[Section]:
    if not essentials:
        return list(tables.sections)
    return [s for s in tables.sections if s.id in ESSENTIALS]


def build(tables: Tables, results: dict[str, EntryResult], lang: str = "en",
          essentials: bool = False) -> list[Block]:
    w = LABELS[lang]
    sections = sections_of(tables, essentials)
    blocks: list[Block] = [("title", w["essentials_title" if essentials else "title"]),
                           ("generated", w["generated"]),
                           ("p", "", w["essentials_promise" if essentials else "promise"])]
    pitfalls = [(line, p) for s in sections for line in lines_for(s, results, lang)
                for p in line.entry.pitfalls] if not essentials else []
    numbered = [(s.id, pick(lang, s.title, s.title_zh)) for s in sections]
    if pitfalls:
        numbered.append(("pitfalls", w["pitfalls"]))
    if not essentials:
        blocks.append(("toc", [(anchor, f"{n}. {title}")
                               for n, (anchor, title) in enumerate(numbered, 1)]))
    blocks += [("h3", w["conventions"]), ("ul", w["convention_text"])]
    if not essentials:
        blocks.append(("p", "source", w["evidence_legend"]))
    for number, section in enumerate(sections, 1):
        blocks.append(("h2", section.id, f"{number}. {pick(lang, section.title, section.title_zh)}"))
        blocks.append(("p", "source", f"{w['source']}: {source_of(section, lang)}"))
        intro = pick(lang, section.intro, section.intro_zh)
        if intro and not essentials:
            blocks.append(("p", "", intro))
        lines = lines_for(section, results, lang)
        if lines:
            table = (_shape_rule_table(lines, lang, essentials) if _is_shape_rule(section)
                     else _identity_table(lines, lang, essentials))
            blocks.append(("table", table))
        for line in lines:
            if line.entry.accumulation:
                blocks.append(("table", accumulation_table(line, results[line.entry.key],
                                                           lang)))
        if section.autograd:
            blocks.append(("table", autograd_table(section, results, lang)))
        if section.errata:
            blocks.append(("table", errata_table(section, results, lang, essentials)))
    if pitfalls:
        blocks.append(("h2", "pitfalls", f"{len(numbered)}. {w['pitfalls']}"))
        blocks.append(("p", "", w["pitfall_intro"]))
        blocks.append(("table", _pitfall_table(pitfalls, results, lang)))
    return blocks


def _claim_cell(line: Line, layout: str, lang: str) -> Cell:
    """The claim in ``layout`` and its shape; a tensor-valued derivative shows its vec form."""
    w = LABELS[lang]
    cell = Cell(cls="math")
    if layout in line.claims:
        cell.math(line.claims[layout])
    elif layout == "numerator" and "vec" in line.claims:
        cell.math(line.claims["vec"], before=f"{w['vec_form']}:")
    else:
        cell.text(f"({w['tensor']})")
    return cell.text(shape_text(line.shapes[layout], lang), "small")


def _instances_cell(cell: Cell, entry: Entry, lang: str) -> None:
    if not entry.instances:
        return
    cell.text(f"{LABELS[lang]['instances']}:", "small")
    for instance in entry.instances:
        variables = {**dict(entry.vars), **dict(instance.vars)}
        for name, macro in instance.macros:
            tree = display_tree(entry, "numerator", macro, variables, instance)
            cell.parts += [("text", " "), ("small", f"{name} ="), ("text", " "), ("math", tree)]
        cell.parts.append(("small", ";"))


def _identity_table(lines: Sequence[Line], lang: str, compact: bool) -> Table:
    w = LABELS[lang]
    rows = []
    for line in lines:
        e = line.entry
        notes = Cell(cls="note")
        if compact:
            notes.text(pick(lang, e.note, e.note_zh) or "✓", "small")
        else:
            notes.text(line.evidence, "evidence" if line.ok else "failed")
            notes.text(pick(lang, e.note, e.note_zh), "small")
            if line.assumptions:
                notes.text(f"{w['assuming']} {line.assumptions}", "small")
            _instances_cell(notes, e, lang)
            notes.text(f"{w['source']}: {source_of(e, lang)}", "small")
        rows.append((e.key, [Cell(cls="math").math(line.f), Cell(cls="math").math(line.wrt),
                             _claim_cell(line, "numerator", lang),
                             _claim_cell(line, "denominator", lang), notes]))
    return Table([w["y"], w["wrt"], w["numerator"], w["denominator"],
                  w["note"] if compact else w["evidence_note"]], rows, "identities")


def _shape_rule_table(lines: Sequence[Line], lang: str, compact: bool) -> Table:
    w = LABELS[lang]
    rows = []
    for line in lines:
        e = line.entry
        layout = "numerator" if "numerator" in line.claims else "vec"
        kinds = Cell().text(f"{_kind_text(line.wrt.shape, lang)} → "
                            f"{_kind_text(line.f.shape, lang)}")
        shapes = Cell().text(f"{fmt(line.shapes['numerator'])} / "
                             f"{fmt(line.shapes['denominator'])}")
        claim = Cell(cls="math").math(line.claims[layout])
        if layout == "vec":
            claim.parts.insert(0, ("small", f"{w['vec_form']}: "))
        example = Cell(cls="math").math(line.f).text(f"∂/∂{line.wrt.name}", "small")
        cells = [kinds, shapes, Cell().text(pick(lang, e.note, e.note_zh)), example, claim]
        if not compact:
            cells.append(Cell(cls="note").text(line.evidence,
                                               "evidence" if line.ok else "failed"))
        rows.append((e.key, cells))
    header = [f"{w['input']} → {w['output']}", f"{w['shape']}: {w['numerator']} / "
              f"{w['denominator']}", w["rule"], w["example"], f"{w['numerator']} / {w['vec']}"]
    return Table(header + ([] if compact else [w["evidence"]]), rows, "shape-rules")


def _pitfall_table(pitfalls: Sequence[tuple[Line, Any]], results: dict[str, EntryResult],
                   lang: str) -> Table:
    w = LABELS[lang]
    rows = []
    for line, pitfall in pitfalls:
        claim = display_tree(line.entry, pitfall.layout, pitfall.claim)
        verdict = _pitfall_verdict(results[line.entry.key], pitfall, lang)
        layout_name = LAYOUT_NAMES[lang][pitfall.layout]
        published = Cell(cls="math").math(claim).text(f"{layout_name} · {verdict}", "small")
        correct = Cell(cls="math")
        if pitfall.correct:
            correct.math(display_tree(line.entry, pitfall.layout, pitfall.correct))
            correct.text(layout_name, "small")
        else:
            layout = pitfall.layout if pitfall.layout in line.claims else next(iter(line.claims))
            correct.math(line.claims[layout])
            if line.assumptions and pitfall.assume != line.entry.assume:
                correct.text(f"{w['if']}: {line.assumptions}", "small")
        why = Cell(cls="note").text(pick(lang, pitfall.why, pitfall.why_zh))
        why.text(f"{w['source']}: {source_of(pitfall, lang)}", "small")
        rows.append(("", [Cell(cls="math").math(line.f), published, correct, why]))
    return Table([w["y"], w["pitfall_claim"], w["correct"],
                  f"{w['pitfall_why']} · {w['source']}"], rows, "pitfalls")


def _pitfall_verdict(result: EntryResult, pitfall: Any, lang: str) -> str:
    w = LABELS[lang]
    for check in result.checks:
        if check.label.startswith(f"pitfall ({pitfall.layout})") and check.verdict is not None:
            status = check.verdict.status
            return f"✗ {w.get(status, status)}" if check.ok else f"!! {w['holds']}"
    return "?"


# ---------------------------------------------------------------------------
# Markdown


def _md_parts(parts: Sequence[tuple[str, Any]]) -> str:
    out = []
    for kind, value in parts:
        if kind == "math":
            out.append(f"${math_latex(value)}$")
        elif kind == "br":
            out.append("<br>")
        elif kind in ("strong", "verdict"):
            out.append(f"**{value}**")
        else:
            out.append(str(value))
    return "".join(out).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "title":
            out += [f"# {block[1]}", ""]
        elif kind == "generated":
            out.insert(0, f"<!-- {_strip_tags(block[1])} -->")
        elif kind == "p":
            out += [f"*{block[2]}*" if block[1] == "source" else block[2], ""]
        elif kind == "h2":
            out += [f'<a id="{block[1]}"></a>', "", f"## {block[2]}", ""]
        elif kind == "h3":
            out += [f"**{block[1]}.**", ""]
        elif kind == "ul":
            out += [f"- {item}" for item in block[1]] + [""]
        elif kind == "toc":
            out += [" · ".join(f"[{text}](#{anchor})" for anchor, text in block[1]), ""]
        elif kind == "table":
            table: Table = block[1]
            out.append("| " + " | ".join(table.header) + " |")
            out.append("|" + "---|" * len(table.header))
            for _, cells in table.rows:
                out.append("| " + " | ".join(_md_parts(c.parts) for c in cells) + " |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _strip_tags(text: str) -> str:
    return text.replace("<code>", "`").replace("</code>", "`")


# ---------------------------------------------------------------------------

#: the committed sheets under docs/: file name -> (format, language, essentials)
SHEETS = {
    "cheatsheet.md": ("md", "en", False),
    "cheatsheet.html": ("html", "en", False),
    "cheatsheet.zh.md": ("md", "zh", False),
    "cheatsheet.zh.html": ("html", "zh", False),
    "essentials.md": ("md", "en", True),
    "essentials.html": ("html", "en", True),
    "essentials.zh.md": ("md", "zh", True),
    "essentials.zh.html": ("html", "zh", True),
}


def render(tables: Tables, results: dict[str, EntryResult], fmt_name: str = "md",
           lang: str = "en", essentials: bool = False) -> str:
    blocks = build(tables, results, lang, essentials)
    if fmt_name == "md":
        return to_markdown(blocks)
    from .sheet_html import to_html

    return to_html(blocks, lang, essentials)
