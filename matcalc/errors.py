"""The exceptions matcalc raises for bad input.

Every error a user can provoke derives from :class:`MatcalcError`; the
subclasses say which stage refused the input. Errors that point into the text
the user typed carry the character ``position`` (0-based) and the offending
``token``, and the message names both.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MatcalcError(Exception):
    """Root of every error matcalc raises for input it cannot accept."""

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        token: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.position = position
        self.token = token
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.message
        if self.position is not None:
            text += f" (at position {self.position})"
        if self.hint:
            text += f"; {self.hint}"
        return text


class ParseError(MatcalcError):
    """The text is not a well-formed expression, identity or declaration."""


class UnknownNameError(MatcalcError):
    """A function, variable, dimension or option that matcalc does not know."""


class DeclarationError(MatcalcError):
    """A variable declaration, assumption or size pin that cannot be used."""


class ShapeError(MatcalcError):
    """Operands whose shapes do not fit the operation."""


class LimitError(MatcalcError):
    """Input beyond matcalc's resource bounds (length, depth, size, exponent)."""


class OptionError(MatcalcError):
    """An option (seed, time budget, number of jobs, output file) that cannot be used."""


class UndecidedError(MatcalcError):
    """Neither engine could reach a decision (time limit, unsupported input)."""


class TableError(MatcalcError):
    """A malformed identity table (names the file, the entry and the field)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean ...?' hint for a misspelt name, or None."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
