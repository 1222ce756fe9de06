"""matcalc: a symbolic-vs-numeric matrix calculus checker.

>>> import matcalc
>>> matcalc.verify("d(x.T @ A @ x)/d(x) = x.T @ (A + A.T)", vars={"x": "n", "A": "n n"}).status
'holds'

The public names are loaded on first use, so ``import matcalc`` (and the
CLI's ``--help``) does not import SymPy or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (
    DeclarationError,
    LimitError,
    MatcalcError,
    OptionError,
    ParseError,
    ShapeError,
    TableError,
    UndecidedError,
    UnknownNameError,
)
from ._version import __version__

_LAZY = {
    "verify": "matcalc.api",
    "derive": "matcalc.api",
    "check_gradient": "matcalc.gradcheck",
    "Derivation": "matcalc.derivation",
    "Verdict": "matcalc.verdict",
    "Finding": "matcalc.verdict",
    "LAYOUTS": "matcalc.layout",
    "load_tables": "matcalc.tables",
}

__all__ = [
    "__version__",
    "DeclarationError",
    "LimitError",
    "MatcalcError",
    "OptionError",
    "ParseError",
    "ShapeError",
    "TableError",
    "UndecidedError",
    "UnknownNameError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'matcalc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
