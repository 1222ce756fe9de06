"""The expression language's tokens: text to a lazy stream of :class:`Token`.

A character outside the language becomes a ``bad`` token, which the parser
(:mod:`matcalc.parsing`) reports, with a hint from :data:`MISTAKES`, when it
reaches it; number literals become exact fractions, their size bounded by
:mod:`matcalc.limits`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from . import limits
from .errors import LimitError


@dataclass(frozen=True)
class Token:
    kind: str  # number | name | op | bad | end
    text: str
    pos: int


_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|==|[-+*/@()\[\],.=ᵀ−])"
)
_ALIASES = {"−": "-"}
#: characters people type for an operation the language spells otherwise, and the fix
MISTAKES = {
    "^": "use ** for powers (and @ for matrix powers)",
    "'": "strings are not part of the expression language (for the transpose use .T)",
    '"': "strings are not part of the expression language",
    "’": "use .T for the transpose",
    "⊤": "use .T for the transpose",
    "·": "use * for scaling and the elementwise product, @ for the matrix product",
    "×": "use * for scaling and the elementwise product, @ for the matrix product",
    "⊙": "use * for the elementwise product",
    "⊗": "use kron(A, B) for the Kronecker product",
    ";": "write one identity at a time",
    "{": "use [ ] for literal arrays",
}


def tokenize(text: str) -> Iterator[Token]:
    """Tokens, lazily, so that errors are reported in reading order. A character
    outside the language becomes a ``bad`` token, reported when it is reached."""
    if len(text) > limits.MAX_TEXT_LENGTH:
        raise LimitError(
            f"input is too long ({len(text):,} characters; the limit is "
            f"{limits.MAX_TEXT_LENGTH:,})",
            position=limits.MAX_TEXT_LENGTH,
        )
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # the parser reports it when it gets there
            yield Token("bad", text[pos], pos)
            pos += 1
            continue
        kind = match.lastgroup
        if kind != "space":
            value = match.group()
            yield Token(kind or "op", _ALIASES.get(value, value), pos)
        pos = match.end()
    yield Token("end", "", len(text))


def literal_value(token: Token) -> Fraction:
    """A number token's exact value, its length and size bounded (:mod:`matcalc.limits`)."""
    text = token.text
    if len(text) > limits.MAX_LITERAL_LENGTH:
        raise LimitError(
            f"number literal {text[:12]}... is too long (limit "
            f"{limits.MAX_LITERAL_LENGTH} characters)",
            position=token.pos,
            token=text[:12],
        )
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > limits.MAX_LITERAL_EXPONENT:
        raise LimitError(
            f"number {text} is out of range (decimal exponent limit "
            f"{limits.MAX_LITERAL_EXPONENT})",
            position=token.pos,
            token=text,
        )
    return checked_constant(Fraction(text), token.pos, text)


def checked_constant(value: Fraction, pos: int, text: str) -> Fraction:
    """``value``, unless its exact value is beyond the bounds of :mod:`matcalc.limits`:
    its magnitude, the numerator of a fraction or its denominator beyond
    ``MAX_CONSTANT``."""
    if abs(value) > limits.MAX_CONSTANT:
        raise LimitError(
            f"constant {text} is too large (limit {limits.MAX_CONSTANT:.0e} in magnitude)",
            position=pos,
            token=text,
        )
    if abs(value.numerator) > limits.MAX_CONSTANT:
        raise LimitError(
            f"constant {text} has too many significant digits: its exact value "
            f"{value.numerator}/{value.denominator} has a numerator above "
            f"{limits.MAX_CONSTANT:.0e}",
            position=pos,
            token=text,
        )
    if value.denominator > limits.MAX_CONSTANT:
        raise LimitError(
            f"constant {text} is too small or too precise: its exact value has a "
            f"denominator above {limits.MAX_CONSTANT:.0e}",
            position=pos,
            token=text,
        )
    return value
