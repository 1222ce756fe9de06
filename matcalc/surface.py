"""Who is asking: the Python API or the command line.

Errors and hints name options the way the caller writes them: ``--assume
A:symmetric`` and ``--method both`` on the command line, ``assume={"A":
["symmetric"]}`` and ``method="both"`` in Python. The surface is a context
variable, so it belongs to the call (and thread) that set it; the library's
default is Python, and :func:`matcalc.cli.main` runs its command inside
:func:`command_line`.

>>> option("seed"), assume_hint("A", ["symmetric"])
('seed', 'assume={"A": ["symmetric"]}')
>>> with command_line():
...     option("seed"), assume_hint("A", ["symmetric"]), var_hint("A", "m n")
('--seed', '--assume A:symmetric', '--var A:m,n')
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterator, Sequence
from typing import Any

_surface: contextvars.ContextVar[str] = contextvars.ContextVar("matcalc_surface",
                                                               default="python")

#: keyword arguments whose command-line flag is spelt differently
_FLAGS = {"vars": "--var", "sizes": "--size", "jobs": "--jobs"}


@contextlib.contextmanager
def command_line() -> Iterator[None]:
    """Run the block as the command line: messages name flags, not keywords."""
    token = _surface.set("cli")
    try:
        yield
    finally:
        _surface.reset(token)


def on_command_line() -> bool:
    return _surface.get() == "cli"


def option(name: str) -> str:
    """The option ``name`` (a keyword argument of the API) as the caller spells it."""
    if on_command_line():
        return _FLAGS.get(name, "--" + name.replace("_", "-"))
    return name


def setting(name: str, value: Any) -> str:
    """An option set to a value: ``--method both`` or ``method="both"``."""
    if on_command_line():
        return f"{option(name)} {value}"
    return f"{name}={json.dumps(value)}"


def var_hint(name: str, shape: str) -> str:
    """A declaration of ``name`` with ``shape`` (``"m n"``, ``"n"``, ``""``)."""
    dims = shape.replace(",", " ").split()
    if on_command_line():
        return f"--var {name}:{','.join(dims)}"
    return f"vars={{{json.dumps(name)}: {json.dumps(' '.join(dims))}}}"


def assume_hint(name: str, tags: Sequence[str]) -> str:
    """An assumption ``tags`` on ``name``."""
    if on_command_line():
        return f"--assume {name}:{','.join(tags)}"
    return f"assume={{{json.dumps(name)}: {json.dumps(list(tags))}}}"


def size_hint(dim: str, value: int) -> str:
    """Pinning dimension ``dim`` to ``value``."""
    if on_command_line():
        return f"--size {dim}={value}"
    return f"sizes={{{json.dumps(dim)}: {value}}}"
