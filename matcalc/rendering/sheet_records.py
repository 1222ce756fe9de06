"""Cheat-sheet tables for the records that are not plain identities: the two
accumulation orders of the chain rule with their costs, autograd examples, and
the errata of the study notes. Every verdict shown is the one the check just
computed."""

from __future__ import annotations

from typing import Any

import sympy

from .. import expr as E
from ..declarations import declare
from ..parsing import parse_expression
from ..records import AutogradExample, Erratum
from ..shapes import fmt
from ..tablecheck import Check, EntryResult, parse_dims
from ..tables import Section
from .sheet_labels import LABELS, LAYOUT_NAMES, pick, source_of, translate
from .sheet_model import Cell, Equation, Table, display_tree


def multiplications(tree: E.Expr) -> sympy.Expr:
    """Scalar multiplications of the product of Jacobians ``tree``, taken as dense
    matrices, as a polynomial in the dimension names: (a×b)(b×c) costs a·b·c. Only
    the chain of products counts, not computing the Jacobians' entries."""
    def size(dim: Any) -> sympy.Expr:
        text = str(dim)
        return sympy.Integer(int(text)) if text.isdigit() else sympy.Symbol(text, positive=True)

    if not (isinstance(tree, E.Apply) and tree.op == "matmul"):
        return sympy.Integer(0)
    left, right = tree.args
    (a, b), (_, c) = left.shape, right.shape
    return sympy.expand(size(a) * size(b) * size(c) + multiplications(left)
                        + multiplications(right))


def _poly_text(poly: sympy.Expr) -> str:
    text = str(poly).replace("**2", "²").replace("**3", "³").replace("*", "")
    return text


def accumulation_table(line: Any, result: EntryResult, lang: str) -> Table:
    """The forward and reverse orders of the chain rule's product of Jacobians,
    each verified, with its cost; the cheaper one is marked."""
    w = LABELS[lang]
    entry = line.entry
    costs = {}
    for order, claim in entry.accumulation:
        tree = parse_expression(claim, declare(dict(entry.vars)).scope("numerator"))
        costs[order] = multiplications(tree)
    at_ten = {order: cost.subs({s: 10 for s in cost.free_symbols}) for order, cost in costs.items()}
    cheapest = min(at_ten.values())
    rows = []
    for order, claim in entry.accumulation:
        check = next((c for c in result.checks if c.label == f"{order} accumulation"), None)
        verdict = ("✓ " + w["holds"]) if check is not None and check.ok else f"✗ {w['failed']}"
        cost = Cell().text(_poly_text(costs[order]))
        if at_ten[order] == cheapest and len(set(at_ten.values())) > 1:
            cost.text(f"← {w['cheaper']}", "strong")
        rows.append((f"{entry.key}/{order}", [
            Cell(cls="math").math(line.f), Cell().text(w[order]),
            Cell(cls="math").math(display_tree(entry, "numerator", claim)),
            cost, Cell(cls="note").text(verdict, "evidence" if check and check.ok else "failed")]))
    return Table([w["y"], w["order"], f"∂y/∂{line.wrt.name} ({w['numerator']})", w["cost"],
                  w["verdict"]], rows, "accumulation")


def _program_text(example: AutogradExample, lang: str) -> str:
    from ..autograd import PROGRAMS

    program = PROGRAMS[example.program]
    return pick(lang, program.description, program.description_zh)


def _computation_cell(example: AutogradExample, lang: str) -> Cell:
    w = LABELS[lang]
    cell = Cell()
    if example.program:
        return cell.text(_program_text(example, lang))
    cell.parts.append(("text", w["backward_on"] + " "))
    for index, step in enumerate(example.backward):
        if index:
            cell.parts.append(("text", f", {w['then']} "))
        cell.parts.append(("math", display_tree(example, "numerator", step)))
    return cell


def _result_tree(example: AutogradExample) -> tuple[str, Any]:
    if example.grad:
        return ("text", f"{example.grad}.grad")
    return ("math", _outputs_tree(example, example.value))


def _outputs_tree(example: AutogradExample, text: str) -> Any:
    """Parse with the program's outputs declared beside the variables."""
    from ..autograd import PROGRAMS

    variables = dict(example.vars)
    if example.program:
        shapes = declare(variables).shape_map
        variables.update(PROGRAMS[example.program].outputs(shapes))
    return display_tree(example, "numerator", text, variables)


def autograd_table(section: Section, results: dict[str, EntryResult], lang: str) -> Table:
    w = LABELS[lang]
    rows = []
    for example in section.autograd:
        result = results[example.key]
        kind, value = _result_tree(example)
        evidence = Cell(cls="note").text(_check_text(result.checks[0], lang),
                                         "evidence" if result.ok else "failed")
        evidence.text(pick(lang, example.note, example.note_zh), "small")
        evidence.text(f"{w['source']}: {source_of(example, lang)}", "small")
        rows.append((example.key, [_computation_cell(example, lang),
                                   Cell(parts=[(kind, value)], cls="math nowrap"),
                                   Cell(cls="math").math(_outputs_tree(example, example.claim)),
                                   evidence]))
    return Table([w["computation"], w["compared"], w["claim"], w["evidence_note"]], rows,
                 "autograd")


def _check_text(check: Check, lang: str) -> str:
    """A check's outcome in a few words, the same on every run."""
    mark = "✓" if check.ok else "✗"
    status = check.detail.split(":", 1)[0].split(" (")[0]
    if check.label.startswith("autograd"):
        points = check.detail.split(" at ", 1)[1].split(" random")[0] if " at " in \
            check.detail and "random" in check.detail else ""
        words = f"PyTorch: {LABELS[lang].get(status, status)}"
        if points:
            words += f", {points} {LABELS[lang]['points']}"
        return f"{mark} {words}"
    return f"{mark} {LABELS[lang].get(status, status)}"


def _verdict_mark(found: str, ok: bool, expected: str, lang: str) -> str:
    """✓ holds, ✗ fails, ✗ ill-formed; and loudly when the engines found
    something other than what the erratum states."""
    w = LABELS[lang]
    mark = "✓" if found == "holds" else "✗"
    text = f"{mark} {w.get(found, found)}"
    return text if ok else f"{text} — {w['failed']} ({w.get(expected, expected)}?)"


def errata_table(section: Section, results: dict[str, EntryResult], lang: str,
                 compact: bool) -> Table:
    w = LABELS[lang]
    rows = []
    for erratum in section.errata:
        result = results[erratum.key]
        said = Cell().text(erratum.quote if lang == "zh" else erratum.quote_en, "quote")
        said.text(source_of(erratum, lang), "small")
        fix = Cell()
        if not compact:
            fix.text(pick(lang, erratum.wrong, erratum.wrong_zh))
        fix.text(f"{w['correction']}:", "strong")
        fix.parts.append(("text", " " + pick(lang, erratum.correct, erratum.correct_zh)))
        rows.append((erratum.key, [said, fix, _evidence_cell(erratum, result, lang, compact)]))
    header = [w["notes_say"], (f"{w['wrong']} · {w['correction']}" if not compact
                               else w["correction"]), w["errata_evidence"]]
    return Table(header, rows, "errata")


def _evidence_cell(erratum: Erratum, result: EntryResult, lang: str, compact: bool) -> Cell:
    """One line per piece of evidence: the claim, its layout and the verdict found."""
    w = LABELS[lang]
    cell = Cell(cls="evidence-list")
    checks = iter(result.checks)
    for item in erratum.claims:
        check = next(checks)
        lhs = display_tree(erratum, item.layout, f"d({item.f})/d({item.wrt})", dict(item.vars))
        rhs = display_tree(erratum, item.layout, item.claim, dict(item.vars))
        found = check.verdict.status if check.verdict is not None else "?"
        if cell.parts:
            cell.parts.append(("br", ""))
        cell.parts += [("math", Equation(lhs, rhs)),
                       ("small", f" ({LAYOUT_NAMES[lang][item.layout]}): "),
                       ("verdict", _verdict_mark(found, check.ok, item.expect, lang))]
    for example in erratum.autograd:
        check = next(checks)
        if cell.parts:
            cell.parts.append(("br", ""))
        kind, value = _result_tree(example)
        claim = _outputs_tree(example, example.claim)
        status = check.detail.split(" ", 1)[0].rstrip(":")
        cell.parts += [("small", "PyTorch: "), (kind, value), ("text", " = "), ("math", claim),
                       ("small", ": "), ("verdict", _verdict_mark(status, check.ok,
                                                                 example.expect, lang))]
    for item in erratum.jacobians:
        check = next(checks)
        got = check.detail.split(" has shape ", 1)[1].split(" (")[0] if " has shape " in \
            check.detail else "?"
        if cell.parts:
            cell.parts.append(("br", ""))
        cell.parts += [("small", f"{w['torch_jacobian']} "),
                       ("math", display_tree(erratum, "numerator", item.f, dict(item.vars))),
                       ("small", f" (∂/∂{item.wrt}) {w['has_shape']} {got} = "
                                 f"{fmt(parse_dims(item.shape))}"),
                       ("verdict", " ✓" if check.ok else f" ✗ {w['failed']}")]
    if lang == "zh":
        cell.parts = [(k, translate(v) if k == "small" else v) for k, v in cell.parts]
    return cell
