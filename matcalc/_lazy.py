"""Lazy imports, so that ``matcalc --help`` and parsing never load torch or SymPy."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A stand-in for a module that is imported on first attribute access.

    After the first access the real module's namespace is copied in, so later
    look-ups cost what an ordinary module attribute costs.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)


np = LazyModule("numpy")
sp = LazyModule("sympy")
torch = LazyModule("torch")


def load(module: LazyModule) -> None:
    """Import the real module now (so that a stage's timer and time budget
    measure its work, not the one-time cost of importing its engine)."""
    if "__file__" not in module.__dict__:
        module.__dict__.update(importlib.import_module(module.__name__).__dict__)
