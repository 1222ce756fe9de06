"""The two table records that are not identities: autograd examples and errata.

An **autograd example** (``[[autograd]]``) is a PyTorch computation whose
result is compared with a claimed formula, as the notes do with
``x.grad == 4 * x``::

    [[autograd]]
    id = "accumulation"
    source = "..."                      # and source_zh
    vars = { x = "n" }
    backward = ["2 * dot(x, x)", "sum(x)"]  # .backward() on each, in turn, no zero_()
    grad = "x"                          # x.grad is compared ...
    claim = "4 * x + ones(n)"           # ... with this, at random points

Instead of ``backward`` a record may name a ``program`` from
:data:`matcalc.autograd.PROGRAMS`, for the computations the expression language
cannot write (Python control flow); the program's outputs are then names the
``value`` and ``claim`` expressions may use (``value`` defaults to the leaf's
``.grad``). ``expect`` (``holds``, ``fails``, ``ill-formed``) is what the
comparison must find: an erratum shows a slip by a claim that does not hold.

An **erratum** (``[[erratum]]``) records a slip in a source: the source's own
words (``quote``; ``quote_en`` translates them), what is wrong (``wrong``,
``wrong_zh``), the correct statement (``correct``, ``correct_zh``) and the
evidence, computed by matcalc's engines whenever the tables are checked:

* ``[[erratum.claim]]``: an identity (``f``, ``wrt``, ``vars``, ``layout``,
  ``claim``) verified by both engines, whose verdict must be ``expect``;
* ``[[erratum.autograd]]``: an autograd computation as above;
* ``[[erratum.jacobian]]``: the shape of torch's own Jacobian of ``f`` with
  respect to ``wrt`` (vectors are columns), which must be ``shape``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import TableError
from .layout import LAYOUTS
from .tomlfields import (
    assume_field,
    check_keys,
    list_field,
    table_field,
    text_field,
    text_mapping,
)

EXPECT = ("holds", "fails", "ill-formed")


@dataclass(frozen=True)
class AutogradExample:
    section: str
    id: str
    source: str
    vars: tuple[tuple[str, str], ...]
    claim: str
    backward: tuple[str, ...] = ()
    program: str = ""
    f: str = ""
    grad: str = ""
    value: str = ""
    expect: str = "holds"
    assume: tuple[tuple[str, tuple[str, ...]], ...] = ()
    note: str = ""
    note_zh: str = ""
    source_zh: str = ""
    file: str = ""

    @property
    def key(self) -> str:
        return f"{self.section}/{self.id}"


@dataclass(frozen=True)
class ClaimEvidence:
    f: str
    wrt: str
    vars: tuple[tuple[str, str], ...]
    layout: str
    claim: str
    expect: str
    assume: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def identity(self) -> str:
        return f"d({self.f})/d({self.wrt}) = {self.claim}"


@dataclass(frozen=True)
class JacobianEvidence:
    f: str
    wrt: str
    vars: tuple[tuple[str, str], ...]
    shape: str


@dataclass(frozen=True)
class Erratum:
    section: str
    id: str
    source: str
    quote: str
    quote_en: str
    wrong: str
    wrong_zh: str
    correct: str
    correct_zh: str
    claims: tuple[ClaimEvidence, ...] = ()
    autograd: tuple[AutogradExample, ...] = ()
    jacobians: tuple[JacobianEvidence, ...] = ()
    source_zh: str = ""
    file: str = ""

    @property
    def key(self) -> str:
        return f"{self.section}/{self.id}"


_AUTOGRAD_KEYS = {"id", "source", "source_zh", "vars", "assume", "backward", "program", "f",
                  "grad", "value", "claim", "expect", "note", "note_zh"}
_ERRATUM_KEYS = {"id", "source", "source_zh", "quote", "quote_en", "wrong", "wrong_zh",
                 "correct", "correct_zh", "claim", "autograd", "jacobian"}
_CLAIM_KEYS = {"f", "wrt", "vars", "assume", "layout", "claim", "expect"}
_JACOBIAN_KEYS = {"f", "wrt", "vars", "shape"}


def load_autograd(raw: dict[str, Any], section: str, where: str, index: int,
                  evidence: bool = False) -> AutogradExample:
    label = (f"autograd #{index + 1}" if evidence
             else f"autograd '{text_field(raw, 'id', where, f'autograd #{index + 1}')}'")
    keys = _AUTOGRAD_KEYS - ({"id", "source", "source_zh"} if evidence else set())
    check_keys(raw, keys, where, label)
    backward = tuple(list_field(raw.get("backward", []), where, label, "backward"))
    if not all(isinstance(b, str) and b.strip() for b in backward):
        raise TableError(f"{where}: {label}: field 'backward' must be a list of expressions")
    program = text_field(raw, "program", where, label, default="")
    if bool(backward) == bool(program):
        raise TableError(f"{where}: {label}: needs either 'backward' (expressions to call "
                         ".backward() on) or 'program' (a built-in computation), not both")
    if program:
        from .autograd import PROGRAMS

        if program not in PROGRAMS:
            raise TableError(f"{where}: {label}: unknown program '{program}' (known: "
                             f"{', '.join(sorted(PROGRAMS))})")
    grad = text_field(raw, "grad", where, label, default="")
    value = text_field(raw, "value", where, label, default="")
    if bool(grad) == bool(value):
        raise TableError(f"{where}: {label}: needs either 'grad' (a leaf whose .grad is "
                         "compared) or 'value' (an expression), not both")
    return AutogradExample(
        section=section,
        id=text_field(raw, "id", where, label) if not evidence else f"evidence-{index + 1}",
        source=text_field(raw, "source", where, label) if not evidence else "",
        vars=tuple(text_mapping(raw.get("vars"), where, label, "vars").items()),
        claim=text_field(raw, "claim", where, label),
        backward=backward,
        program=program,
        f=text_field(raw, "f", where, label, default=""),
        grad=grad,
        value=value,
        expect=_expect(raw, where, label),
        assume=assume_field(raw.get("assume", {}), where, label),
        note=text_field(raw, "note", where, label, default=""),
        note_zh=text_field(raw, "note_zh", where, label, default=""),
        source_zh=text_field(raw, "source_zh", where, label, default=""),
        file=where,
    )


def load_erratum(raw: dict[str, Any], section: str, where: str, index: int) -> Erratum:
    label = f"erratum '{text_field(raw, 'id', where, f'erratum #{index + 1}')}'"
    check_keys(raw, _ERRATUM_KEYS, where, label)
    claims = []
    for n, item in enumerate(list_field(raw.get("claim", []), where, label, "claim")):
        item_label = f"{label}: claim #{n + 1}"
        item = table_field(item, where, item_label)
        check_keys(item, _CLAIM_KEYS, where, item_label)
        layout = text_field(item, "layout", where, item_label)
        if layout not in LAYOUTS:
            raise TableError(f"{where}: {item_label}: layout '{layout}' is not one of "
                             f"{', '.join(LAYOUTS)}")
        claims.append(ClaimEvidence(
            f=text_field(item, "f", where, item_label), wrt=text_field(item, "wrt", where, item_label),
            vars=tuple(text_mapping(item.get("vars"), where, item_label, "vars").items()),
            layout=layout, claim=text_field(item, "claim", where, item_label),
            expect=_expect(item, where, item_label),
            assume=assume_field(item.get("assume", {}), where, item_label)))
    autograd = tuple(load_autograd(table_field(item, where, f"{label}: autograd #{n + 1}"), section,
                                   where, n, evidence=True)
                     for n, item in enumerate(list_field(raw.get("autograd", []), where, label,
                                                    "autograd")))
    jacobians = []
    for n, item in enumerate(list_field(raw.get("jacobian", []), where, label, "jacobian")):
        item_label = f"{label}: jacobian #{n + 1}"
        item = table_field(item, where, item_label)
        check_keys(item, _JACOBIAN_KEYS, where, item_label)
        jacobians.append(JacobianEvidence(
            f=text_field(item, "f", where, item_label), wrt=text_field(item, "wrt", where, item_label),
            vars=tuple(text_mapping(item.get("vars"), where, item_label, "vars").items()),
            shape=text_field(item, "shape", where, item_label)))
    if not (claims or autograd or jacobians):
        raise TableError(f"{where}: {label}: no evidence (add [[erratum.claim]], "
                         "[[erratum.autograd]] or [[erratum.jacobian]])")
    return Erratum(
        section=section,
        id=text_field(raw, "id", where, label),
        source=text_field(raw, "source", where, label),
        quote=text_field(raw, "quote", where, label),
        quote_en=text_field(raw, "quote_en", where, label),
        wrong=text_field(raw, "wrong", where, label),
        wrong_zh=text_field(raw, "wrong_zh", where, label),
        correct=text_field(raw, "correct", where, label),
        correct_zh=text_field(raw, "correct_zh", where, label),
        claims=tuple(claims),
        autograd=autograd,
        jacobians=tuple(jacobians),
        source_zh=text_field(raw, "source_zh", where, label, default=""),
        file=where,
    )


def _expect(raw: dict[str, Any], where: str, label: str) -> str:
    value = raw.get("expect", "holds")
    if value not in EXPECT:
        raise TableError(f"{where}: {label}: field 'expect' must be one of "
                         f"{', '.join(EXPECT)}, not {value!r}")
    return value
