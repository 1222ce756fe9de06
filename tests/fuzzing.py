"""Random inputs for fuzzing matcalc: grammar-aware, raw, and mutated.

:func:`well_typed` builds an expression of a requested shape from the
language of ``docs/design.md`` §2 (so the engines run on it), :func:`ill_typed`
combines operands without regard to shape, :func:`raw_text` is arbitrary text
over the language's alphabet and beyond, and :func:`mutate` damages a valid
identity by a character. :func:`case` draws one input of any of these kinds.
The test suite drives these through hypothesis (``tests/test_fuzz.py``);
``scripts/fuzz.py`` runs them at scale and counts crashes, hangs and any code
execution.
"""

from __future__ import annotations

import builtins
import contextlib
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: the declarations every fuzzed input is checked against
VARS = {"s": "", "t": "", "x": "n", "y": "n", "u": "m", "A": "n n", "X": "n n",
        "B": "m n", "C": "n m"}
ASSUME = {"X": ["spd"]}

_BY_SHAPE = {
    "s": ["s", "t"],
    "n": ["x", "y"],
    "m": ["u"],
    "nn": ["A", "X"],
    "mn": ["B"],
    "nm": ["C"],
}
_ELEMENTWISE = ["exp", "sin", "cos", "tanh", "sigmoid", "abs", "relu"]
_POSITIVE = ["log", "sqrt"]
_ALPHABET = list("abcdexyzsuABCXnm0123456789+-*/@().,=[] _'\"^:;!{}\\") + [
    "**", "==", ".T", "ᵀ", "−", "×", "∂", "é", "\x00", "\n", "trace(", "d(", ")/d(", "inv(",
    "__import__", "lambda", "eval", "os.system", "1e999", "10**100", "eye(1000000000)"]


def _pick(rng: random.Random, options: list[str]) -> str:
    return options[rng.randrange(len(options))]


def well_typed(rng: random.Random, shape: str = "s", depth: int = 3) -> str:
    """An expression with ``shape``: s (scalar), n or m (columns), nT (a row),
    nn, mn, nm (matrices)."""
    if depth <= 0 or rng.random() < 0.25:
        return _leaf(rng, shape)
    d = depth - 1
    options = _COMBINATORS[shape]
    return "(" + options[rng.randrange(len(options))](rng, d) + ")"  # safe as any operand


def _leaf(rng: random.Random, shape: str) -> str:
    if shape == "s":
        return _pick(rng, _BY_SHAPE["s"] + [str(rng.randint(1, 5)), "0.5"])
    if shape == "nT":
        return _pick(rng, _BY_SHAPE["n"]) + ".T"
    if shape == "nn" and rng.random() < 0.2:
        return "eye(n)"
    return _pick(rng, _BY_SHAPE[shape])


def _w(shape: str):  # noqa: ANN202 - a tiny combinator
    return lambda rng, d: well_typed(rng, shape, d)


_COMBINATORS = {
    "s": [
        lambda r, d: f"sum({well_typed(r, _pick(r, ['n', 'nn', 'mn']), d)})",
        lambda r, d: f"trace({well_typed(r, 'nn', d)})",
        lambda r, d: f"norm({well_typed(r, _pick(r, ['n', 'nn']), d)})",
        lambda r, d: f"dot({well_typed(r, 'n', d)}, {well_typed(r, 'n', d)})",
        lambda r, d: f"{well_typed(r, 'nT', d)} @ {well_typed(r, 'nn', d)} @ {well_typed(r, 'n', d)}",
        lambda r, d: f"{well_typed(r, 's', d)} {_pick(r, ['+', '-', '*'])} {well_typed(r, 's', d)}",
        lambda r, d: f"{_pick(r, _ELEMENTWISE)}({well_typed(r, 's', d)})",
        lambda r, d: f"({well_typed(r, 's', d)})**{r.randint(2, 3)}",
        lambda r, d: f"{_pick(r, ['det', 'logdet'])}(X)",
        lambda r, d: f"mean({well_typed(r, 'n', d)})",
        lambda r, d: f"norm1({well_typed(r, 'n', d)})",
        lambda r, d: f"log(1 + {well_typed(r, 's', d)}**2)",
    ],
    "n": [
        lambda r, d: f"{well_typed(r, 'nn', d)} @ {well_typed(r, 'n', d)}",
        lambda r, d: f"{well_typed(r, 'nm', d)} @ {well_typed(r, 'm', d)}",
        lambda r, d: f"{well_typed(r, 'n', d)} {_pick(r, ['+', '-', '*'])} {well_typed(r, 'n', d)}",
        lambda r, d: f"{well_typed(r, 's', d)} * {well_typed(r, 'n', d)}",
        lambda r, d: f"{_pick(r, _ELEMENTWISE)}({well_typed(r, 'n', d)})",
        lambda r, d: f"softmax({well_typed(r, 'n', d)})",
        lambda r, d: f"({well_typed(r, 'nT', d)}).T",
        lambda r, d: f"diag({well_typed(r, 'nn', d)})",
        lambda r, d: f"inv(X) @ {well_typed(r, 'n', d)}",
        lambda r, d: f"{_pick(r, _POSITIVE)}(1 + {well_typed(r, 'n', d)}**2)",
    ],
    "m": [
        lambda r, d: f"{well_typed(r, 'mn', d)} @ {well_typed(r, 'n', d)}",
        lambda r, d: f"{well_typed(r, 'm', d)} + {well_typed(r, 'm', d)}",
        lambda r, d: f"{_pick(r, _ELEMENTWISE)}({well_typed(r, 'm', d)})",
    ],
    "nT": [
        lambda r, d: f"({well_typed(r, 'n', d)}).T",
        lambda r, d: f"{well_typed(r, 'nT', d)} @ {well_typed(r, 'nn', d)}",
        lambda r, d: f"{well_typed(r, 's', d)} * {well_typed(r, 'nT', d)}",
    ],
    "nn": [
        lambda r, d: f"{well_typed(r, 'nn', d)} @ {well_typed(r, 'nn', d)}",
        lambda r, d: f"{well_typed(r, 'n', d)} @ {well_typed(r, 'nT', d)}",
        lambda r, d: f"({well_typed(r, 'nn', d)}).T",
        lambda r, d: f"{well_typed(r, 'nn', d)} + {well_typed(r, 'nn', d)}",
        lambda r, d: f"{well_typed(r, 's', d)} * {well_typed(r, 'nn', d)}",
        lambda r, d: f"{well_typed(r, 'nm', d)} @ {well_typed(r, 'mn', d)}",
        lambda r, d: "inv(X)",
        lambda r, d: f"diag({well_typed(r, 'n', d)})",
        lambda r, d: f"{_pick(r, _ELEMENTWISE)}({well_typed(r, 'nn', d)})",
    ],
    "mn": [
        lambda r, d: f"{well_typed(r, 'mn', d)} @ {well_typed(r, 'nn', d)}",
        lambda r, d: f"({well_typed(r, 'nm', d)}).T",
        lambda r, d: f"{well_typed(r, 'm', d)} @ {well_typed(r, 'nT', d)}",
    ],
    "nm": [
        lambda r, d: f"({well_typed(r, 'mn', d)}).T",
        lambda r, d: f"{well_typed(r, 'nn', d)} @ {well_typed(r, 'nm', d)}",
    ],
}

_ALL_VARS = [v for names in _BY_SHAPE.values() for v in names]
_OPS = ["+", "-", "*", "/", "@", "**"]
_FUNCTIONS = ["trace", "det", "inv", "logdet", "norm", "sum", "mean", "dot", "exp", "log",
              "sqrt", "softmax", "diag", "vec", "kron", "outer", "detach", "norm1", "sigmoid"]


def ill_typed(rng: random.Random, depth: int = 3) -> str:
    """An expression built with no regard to shapes (often, not always, ill-typed)."""
    if depth <= 0 or rng.random() < 0.3:
        return _pick(rng, _ALL_VARS + ["2", "eye(n)", "ones(m)", "zeros(n, m)", "[1, 2]"])
    roll = rng.random()
    if roll < 0.5:
        return f"{ill_typed(rng, depth - 1)} {_pick(rng, _OPS)} {ill_typed(rng, depth - 1)}"
    if roll < 0.8:
        fn = _pick(rng, _FUNCTIONS)
        args = ", ".join(ill_typed(rng, depth - 1) for _ in range(2 if fn in
                                                                 ("dot", "kron", "outer") else 1))
        return f"{fn}({args})"
    return f"({ill_typed(rng, depth - 1)}).T"


def raw_text(rng: random.Random, length: int = 40) -> str:
    return "".join(_pick(rng, _ALPHABET) for _ in range(rng.randint(0, length)))


def mutate(rng: random.Random, text: str) -> str:
    """``text`` with one character deleted, inserted or replaced."""
    if not text:
        return _pick(rng, _ALPHABET)
    i = rng.randrange(len(text))
    roll = rng.random()
    if roll < 0.33:
        return text[:i] + text[i + 1:]
    if roll < 0.66:
        return text[:i] + _pick(rng, _ALPHABET) + text[i:]
    return text[:i] + _pick(rng, _ALPHABET) + text[i + 1:]


WRT = {"s": "s", "x": "x", "X": "X", "A": "A", "B": "B", "u": "u"}
_SHAPE_OF = {"s": "s", "t": "s", "x": "n", "y": "n", "u": "m", "A": "nn", "X": "nn", "B": "mn",
             "C": "nm"}


def identity(rng: random.Random) -> str:
    """A well-typed function differentiated by one of its variables, with a
    random claim of the numerator-layout shape where one is easy to draw."""
    f = well_typed(rng, _pick(rng, ["s", "s", "n"]), 3)
    try:
        out = _shape_of_text(f)
    except Exception:  # noqa: BLE001 - a generator slip: fall back to a shapeless claim
        return f"d({f})/d(x) = {ill_typed(rng, 2)}"
    present = [v for v in _ALL_VARS if mentions(f, v)]
    wrt = _pick(rng, present) if present else "x"
    claim_shape = _claim_shape(out, _SHAPE_OF[wrt])
    claim = well_typed(rng, claim_shape, 2) if claim_shape else ill_typed(rng, 2)
    return f"d({f})/d({wrt}) = {claim}"


def mentions(text: str, name: str) -> bool:
    """Whether ``name`` occurs in ``text`` as a variable (not inside a longer name or as a call)."""
    import re

    return re.search(rf"(?<![A-Za-z_]){name}(?![A-Za-z_0-9(])", text) is not None


def _shape_of_text(f: str) -> str:
    from matcalc.parsing import parse_expression, parse_shape, scope_from

    node = parse_expression(f, scope_from({k: parse_shape(v) for k, v in VARS.items()}))
    return "s" if node.shape[0].is_unit and node.shape[1].is_unit else "n"


def _claim_shape(out: str, wrt: str) -> str | None:
    """The numerator-layout shape of d(out)/d(wrt), where the generator has one."""
    table = {("s", "s"): "s", ("s", "n"): "nT", ("s", "nn"): "nn", ("n", "s"): "n",
             ("n", "n"): "nn"}
    return table.get((out, wrt))


@dataclass
class Case:
    kind: str
    text: str
    expression: bool = field(default=False)  # an expression (for derive), not an identity


#: how often each kind of input is drawn
MIX = {"identity": 0.30, "ill-typed": 0.15, "raw": 0.20, "mutated": 0.25, "expression": 0.10}
#: the long run's mix: more of the cheap kinds, so that 100,000 inputs take under an hour
LONG_RUN_MIX = {"identity": 0.17, "ill-typed": 0.20, "raw": 0.30, "mutated": 0.30,
                "expression": 0.03}


def case(rng: random.Random, mix: dict[str, float] | None = None) -> Case:
    """One fuzz input, of a kind drawn with the weights of ``mix``."""
    kinds, weights = zip(*(mix or MIX).items())
    chosen = rng.choices(kinds, weights)[0]
    if chosen == "identity":
        return Case("identity", identity(rng))
    if chosen == "ill-typed":
        return Case("ill-typed", f"d({ill_typed(rng)})/d({_pick(rng, list(WRT))}) = "
                                 f"{ill_typed(rng)}")
    if chosen == "raw":
        return Case("raw", raw_text(rng))
    if chosen == "mutated":
        return Case("mutated", mutate(rng, identity(rng)))
    return Case("expression", well_typed(rng, "s", 3), expression=True)


@contextlib.contextmanager
def watch_execution() -> Iterator[list[str]]:
    """Record, while active, every string that matcalc's own code hands to
    ``eval``, ``exec`` or ``sympy.sympify`` (libraries may exec their own code;
    only calls made from matcalc count). The list must stay empty."""
    import sympy

    calls: list[str] = []

    def guard(name: str, real: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if args and isinstance(args[0], str) and caller.startswith("matcalc"):
                calls.append(f"{name} from {caller}: {args[0][:60]!r}")
            return real(*args, **kwargs)

        return wrapper

    saved = builtins.eval, builtins.exec, sympy.sympify
    builtins.eval, builtins.exec = guard("eval", saved[0]), guard("exec", saved[1])
    sympy.sympify = guard("sympify", saved[2])
    try:
        yield calls
    finally:
        builtins.eval, builtins.exec, sympy.sympify = saved
