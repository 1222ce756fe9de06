"""The user's own functions, as the numeric checks see them.

A :class:`UserFunction` wraps a Python callable on torch tensors (or NumPy
arrays) called with keyword arguments: the example inputs fix the shapes (a 0-d
value is a scalar, a 1-d one a column vector, a 2-d one a matrix), every
floating value is handed over in float64, and the output comes back as a
float64 tensor. It gives the Jacobian of the function at a point in the native
order of :mod:`matcalc.layout` (the output's axes, then the input's) either by
torch autograd or by central differences, and says whether the function's
graph goes through a hand-written backward (a custom
``torch.autograd.Function``), where autograd is the thing under test rather
than the truth.

Only the user's callables are called: nothing here evaluates text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import limits
from ._lazy import torch
from .errors import DeclarationError, LimitError
from .parsing import variable_name
from .shapes import ONE, SCALAR, Dim, Shape, column

#: central differences step, in float64 (as torch.autograd.gradcheck's default eps)
STEP = 1e-6
#: the random points around the examples are example + PERTURBATION * scale * N(0, 1)
PERTURBATION = 0.1
#: most evaluations of the function that central differences may cost at one point
MAX_EVALUATIONS = 20_000


class UserFunction:
    """``f(**inputs)`` for one user callable and its example inputs."""

    def __init__(self, f: Callable[..., Any], inputs: Mapping[str, Any], what: str = "f") -> None:
        if not callable(f):
            raise DeclarationError(f"{what} must be a callable, not {type(f).__name__}",
                                   token=repr(f)[:40])
        if not isinstance(inputs, Mapping) or not inputs:
            raise DeclarationError("inputs must be a non-empty dict of example values, e.g. "
                                   "inputs={'x': torch.randn(3)}")
        self.f = f
        self.name = callable_name(f, what)
        self.numpy = not any(_is_tensor(v) for v in inputs.values())
        self.examples: dict[str, Any] = {}
        self.floating: set[str] = set()
        for name, value in inputs.items():
            variable_name(name)
            tensor = to_tensor(value, f"input {name!r}")
            if tensor.is_floating_point():
                tensor = tensor.to(torch.float64)
                self.floating.add(name)
            self.examples[name] = tensor.detach().clone()
        self.sizes: dict[str, int] = {}

    # -- shapes

    def shape(self, value: Any) -> Shape:
        """The matcalc shape of a value: dimensions are named after their size
        (``n3`` for 3), so that sizes that agree also agree as names; a size of 1
        is the unit dimension, as in the language (a 1 x 1 value is a scalar, an
        (n, 1) one a column and a (1, n) one a row: adversary 4, J6)."""
        dims = [ONE if n == 1 else self.dim(n) for n in value.shape]
        if not dims:
            return SCALAR
        if len(dims) == 1:
            return column(dims[0])
        return (dims[0], dims[1])

    def dim(self, size: int) -> Dim:
        name = f"n{size}"
        while name in self.examples:
            name = "_" + name
        self.sizes[name] = size
        return Dim.of(name)

    def matrix(self, value: Any) -> Any:
        """The value two-dimensional, as matcalc's engines hold it."""
        if value.dim() == 0:
            return value.reshape(1, 1)
        if value.dim() == 1:
            return value.reshape(-1, 1)
        return value

    # -- calling

    def __call__(self, env: Mapping[str, Any]) -> Any:
        """The function's output at ``env`` (name -> float64 tensor), as a tensor
        on the CPU (the inputs stay on their device: the function may need it)."""
        args = {k: (v.detach().cpu().numpy() if self.numpy else v) for k, v in env.items()}
        out = self.f(**args)
        return to_tensor(out, f"the output of {self.name}", keep_graph=not self.numpy).cpu()

    def points(self, count: int, seed: int) -> list[dict[str, Any]]:
        """The examples, then ``count - 1`` random perturbations of them (floating
        inputs only; the others keep their example value)."""
        gen = torch.Generator().manual_seed(seed)
        envs = [dict(self.examples)]
        for _ in range(count - 1):
            env = {}
            for name, value in self.examples.items():
                if name in self.floating and value.numel():
                    scale = float(value.abs().max()) or 1.0
                    noise = torch.randn(value.shape, generator=gen, dtype=torch.float64)
                    value = value + PERTURBATION * scale * noise.to(value.device)
                env[name] = value
            envs.append(env)
        return envs

    # -- derivatives (native order: out.shape + wrt.shape, in the user's shapes)

    def autograd(self, env: Mapping[str, Any], wrt: str) -> Any:
        """The Jacobian by torch's reverse mode (through any custom backward)."""
        def function(w: Any) -> Any:
            return self({**env, wrt: w})

        with torch.enable_grad():
            return torch.autograd.functional.jacobian(function,
                                                      env[wrt].detach().clone()).cpu()

    def central(self, env: Mapping[str, Any], wrt: str, out_shape: tuple[int, ...],
                sides: bool = False) -> Any:
        """The Jacobian by central differences in float64, step :data:`STEP` times
        the entry's magnitude where that is above 1; with ``sides``, the forward
        and the backward difference Jacobians instead (apart at a kink)."""
        point = env[wrt]
        n = point.numel()
        out_numel = 1
        for d in out_shape:
            out_numel *= d
        if 2 * n > MAX_EVALUATIONS or n * out_numel > limits.MAX_NUMERIC_NUMEL:
            raise LimitError(f"central differences by {wrt} ({n:,} entries) would call the "
                             f"function {2 * n:,} times (limit {MAX_EVALUATIONS:,})", token=wrt)
        flat = point.reshape(-1)
        columns, forward, backward = [], [], []
        base = self(dict(env)).detach().reshape(-1) if sides else None
        with torch.no_grad():
            for i in range(n):
                # relative to the entry beyond 1: at x = 1e8 an absolute 1e-6 is below
                # x's own rounding, and the difference quotient is noise (adversary 4, J4)
                h = STEP * max(1.0, abs(float(flat[i])))
                step = torch.zeros_like(flat)
                step[i] = h
                plus = self({**env, wrt: (flat + step).reshape(point.shape)}).detach()
                minus = self({**env, wrt: (flat - step).reshape(point.shape)}).detach()
                columns.append(((plus - minus) / (2 * h)).reshape(-1))
                if sides:
                    forward.append((plus.reshape(-1) - base) / h)
                    backward.append((base - minus.reshape(-1)) / h)

        def jacobian(parts: list[Any]) -> Any:
            jac = torch.stack(parts, dim=-1) if parts else torch.zeros(out_numel, 0,
                                                                      dtype=torch.float64)
            return jac.reshape(tuple(out_shape) + tuple(point.shape))

        return (jacobian(forward), jacobian(backward)) if sides else jacobian(columns)

    def differentiable(self, env: Mapping[str, Any], wrt: str) -> tuple[bool, bool]:
        """Whether autograd reaches ``wrt`` through the function's graph, and
        whether that graph goes through a custom backward."""
        if self.numpy:
            return False, False
        leaf = env[wrt].detach().clone().requires_grad_(True)
        with torch.enable_grad():
            out = self({**env, wrt: leaf})
        return out.requires_grad, custom_backward(out)


def custom_backward(out: Any) -> bool:
    """Whether the graph behind ``out`` contains a custom ``autograd.Function``."""
    from torch.autograd.function import BackwardCFunction

    stack, seen = [getattr(out, "grad_fn", None)], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, BackwardCFunction):
            return True
        stack.extend(next_node for next_node, _ in getattr(node, "next_functions", ()))
    return False


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def to_tensor(value: Any, what: str, keep_graph: bool = False, max_dim: int = 2) -> Any:
    """A torch tensor (float64 when floating) for a tensor, NumPy array or number."""
    if _is_tensor(value):
        tensor = value if keep_graph else value.detach()
    else:
        import numpy as np

        if isinstance(value, (bool, complex)) or not isinstance(value, (int, float, np.ndarray,
                                                                         np.generic)):
            raise DeclarationError(f"{what} must be a torch tensor, a NumPy array or a real "
                                   f"number, not {type(value).__name__}")
        tensor = torch.as_tensor(np.asarray(value))
    if tensor.is_complex():
        raise DeclarationError(f"{what} is complex; matcalc checks real derivatives")
    if tensor.is_floating_point() and tensor.dtype != torch.float64:
        tensor = tensor.to(torch.float64)
    if tensor.dim() > max_dim:
        raise DeclarationError(f"{what} has {tensor.dim()} dimensions; matcalc's values are "
                               "scalars, vectors (1-d) and matrices (2-d)")
    return tensor


def callable_name(f: Callable[..., Any], default: str) -> str:
    name = getattr(f, "__name__", "") or ""
    return name if name.isidentifier() else default
