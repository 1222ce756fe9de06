"""(c) The numeric stage at scale, against bare torch and gradcheck (issue 12).

Contenders, each checking the very same points:

* matcalc: ``Engines(method="numeric").numeric(lhs, rhs)``, the numeric stage as
  ``verify`` runs it: it draws its points (assumptions, domain guards, scales),
  takes the Jacobians and compares entry by entry (a fresh ``Engines`` each
  call, so nothing is cached between rounds);
* jacrev: ``torch.func.jacrev`` of the same function at the points matcalc drew
  (handed over untimed; a vector ``x`` shaped ``(n,)``, torch's best shape), then
  ``torch.allclose`` against the claim computed by torch in the timed region;
* gradcheck (``A @ x`` only): ``torch.autograd.gradcheck`` at the same points;
* jacrev + float32: the bare check plus the same jacrev and claim once more in
  float32 from the inputs rounded to float32, the least work of any checker
  that estimates each point's rounding error by re-evaluating it, as matcalc's
  comparison does for entries whose difference exceeds 2**-43 of their
  magnitude (``matcalc.agreement``): the floor for matcalc on identities whose
  two sides round differently (logdet, trace), not on ``A @ x``, whose sides
  agree to the last bit and need no estimate.

Times are medians over rounds in which the contenders run in turn (a burst of
load hits all of them); torch runs on one thread. Peak memory is measured in a
fresh subprocess per contender (``VmHWM``, the peak resident set size of the
process, and ``VmRSS``, the resident size just before the check, read from
``/proc/self/status``; not ``ru_maxrss``, which a child started by fork and exec
inherits from its parent, here the benchmark itself): "needed" is peak minus before, the memory the check
itself took (jacrev's subprocess draws its points with matcalc's sampler before
"before"; matcalc's draws them inside its check). Scaling exponents are slopes of log
time against log n between consecutive sizes.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    name: str
    variables: dict[str, str]
    assume: dict[str, str]
    layout: str
    identity: str
    sizes: tuple[int, ...]
    kind: str  # which bare contender


CASES = (
    Case("A @ x (vector by vector)", {"x": "n", "A": "n n"}, {}, "numerator",
         "d(A @ x)/d(x) = A", (10, 100, 500, 1000), "linear"),
    Case("logdet(X), X spd (scalar by matrix)", {"X": "n n"}, {"X": "spd"}, "numerator",
         "d(logdet(X))/d(X) = inv(X)", (10, 100, 500, 1000), "logdet"),
    Case("trace(A @ X @ B) (scalar by matrix)", {"X": "n n", "A": "n n", "B": "n n"}, {},
         "numerator", "d(trace(A @ X @ B))/d(X) = B @ A", (10, 100, 500, 1000), "trace"),
    # n**4 entries: 25,000,000 (matcalc's limit, and 200 MB) is reached at n = 70
    Case("inv(X) (matrix by matrix, vec)", {"X": "n n"}, {}, "vec",
         "d(inv(X))/d(X) = -kron(inv(X).T, inv(X))", (10, 20, 40, 60), "inverse"),
)


def _trees(case: Case, n: int) -> tuple[Any, Any, Any]:
    from matcalc.declarations import declare
    from matcalc.parsing import parse_identity
    from matcalc.parsing import build

    decl = declare(case.variables, case.assume, {"n": n})
    scope = decl.scope(case.layout)
    lhs_s, rhs_s = parse_identity(case.identity, scope)
    return decl, build(lhs_s, scope), build(rhs_s, scope)


def _ours(case: Case, n: int) -> Callable[[], None]:
    """matcalc's check, from drawing its points to the evidence."""
    from matcalc.engines import Engines

    decl, lhs, rhs = _trees(case, n)

    def run() -> None:
        evidence = Engines(decl, method="numeric").numeric(lhs, rhs)
        assert evidence.status == "agrees", evidence.detail

    return run


def _points(case: Case, n: int) -> list[dict[str, Any]]:
    """The points matcalc's check draws (its sampler, its seed)."""
    from matcalc.numeric import NumericSession

    decl, lhs, rhs = _trees(case, n)
    session = NumericSession(decl.shape_map, decl.tag_map, decl.numeric_size_sets())
    return [dict(p.env) for p in session.sample([lhs, rhs])]


def _bare(case: Case, points: list[dict[str, Any]], strict: bool = True) -> Callable[[], None]:
    """jacrev + allclose at ``points``; ``strict``: assert that they agree (the
    float32 pass of :func:`_bare_estimating` only does the work)."""
    import torch

    def allclose(a: Any, b: Any) -> bool:
        return torch.allclose(a, b) or not strict

    def linear() -> None:
        for p in points:
            a, x = p["A"], p["x"].reshape(-1)
            assert allclose(torch.func.jacrev(lambda v: a @ v)(x), a)  # noqa: B023

    def logdet() -> None:
        for p in points:
            x = p["X"]
            assert allclose(torch.func.jacrev(torch.logdet)(x).T, torch.linalg.inv(x))

    def trace() -> None:
        for p in points:
            a, x, b = p["A"], p["X"], p["B"]
            grad = torch.func.jacrev(lambda y: torch.trace(a @ y @ b))(x)  # noqa: B023
            assert allclose(grad.T, b @ a)

    def inverse() -> None:
        for p in points:
            x = p["X"]
            n = x.shape[0]
            jac = torch.func.jacrev(torch.linalg.inv)(x)  # [i, j, k, l] = d inv[i,j] / d X[k,l]
            vec = jac.permute(1, 0, 3, 2).reshape(n * n, n * n)  # column-major vec of both
            inv = torch.linalg.inv(x)
            assert allclose(vec, -torch.kron(inv.T.contiguous(), inv.contiguous()))

    return {"linear": linear, "logdet": logdet, "trace": trace, "inverse": inverse}[case.kind]


def _bare_estimating(case: Case, points: list[dict[str, Any]]) -> Callable[[], None]:
    """jacrev + allclose at ``points``, then again in float32 (the rounding
    estimate's re-evaluation, see the module's docstring)."""
    import torch

    lows = [{name: v.to(torch.float32) for name, v in p.items()} for p in points]
    high, low = _bare(case, points), _bare(case, lows, strict=False)

    def run() -> None:
        high()
        low()

    return run


def _bare_drawing(case: Case, n: int, count: int) -> Callable[[], None]:
    """jacrev + allclose at ``count`` points that it draws itself, by the recipe
    matcalc's sampler uses at unit scale (``assumptions.sample_tensor``: Gaussian
    entries, ``R Rᵀ / n + I / 2`` for spd): the same kind of points, and the cost
    of drawing them paid on both sides."""
    import torch

    from matcalc.assumptions import sample_tensor
    from matcalc.shapes import concrete

    decl, _, _ = _trees(case, n)
    shapes, tags = decl.shape_map, decl.tag_map
    gen = torch.Generator().manual_seed(0)

    def run() -> None:
        points = [{name: sample_tensor(tags.get(name, frozenset()), concrete(shape, {"n": n}),
                                       gen) for name, shape in shapes.items()}
                  for _ in range(count)]
        _bare(case, points)()

    return run


def _gradcheck(points: list[dict[str, Any]]) -> Callable[[], None]:
    import torch

    def run() -> None:
        for p in points:
            a = p["A"]
            x = p["x"].reshape(-1).detach().requires_grad_(True)
            assert torch.autograd.gradcheck(lambda v: a @ v, (x,))  # noqa: B023

    return run


def median_times(functions: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Median seconds of each function, one call of each per round, in turn."""
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.process_time()
            function()
            samples[name].append(time.process_time() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def _rounds(n: int, repeats: int) -> int:
    return max(3, repeats * (9 if n <= 100 else 3 if n <= 500 else 1))


def time_case(case: Case, repeats: int) -> list[dict[str, Any]]:
    rows = []
    for n in case.sizes:
        points = _points(case, n)
        functions = {"matcalc": _ours(case, n), "jacrev": _bare(case, points),
                     "jacrev+draw": _bare_drawing(case, n, len(points)),
                     "jacrev+f32": _bare_estimating(case, points)}
        if case.kind == "linear" and n <= 500:
            functions["gradcheck"] = _gradcheck(points)
        for function in functions.values():  # warm up (and check that every contender passes)
            function()
        timings = median_times(functions, _rounds(n, repeats))
        rows.append({"n": n, "points": len(points), **timings})
    return rows


# ---------------------------------------------------------------------------
# peak memory, one subprocess per contender

_CHILD = r"""
import json, sys
import torch
torch.set_num_threads(1)
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
import numeric_scale as B
case = B.CASES[{index}]
check = B._ours(case, {n}) if {who!r} == "matcalc" else B._bare(case, B._points(case, {n}))
def status(key):
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith(key)))
before, peak_before = status("VmRSS"), status("VmHWM")
check()
print(json.dumps({{"before_kb": before, "peak_before_kb": peak_before, "peak_kb": status("VmHWM")}}))
"""


def peak_memory(index: int, n: int, who: str) -> dict[str, int]:
    code = _CHILD.format(root=str(ROOT), bench=str(ROOT / "benchmarks"), index=index, n=n,
                         who=who)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"memory child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def exponent(t1: float, t2: float, n1: int, n2: int) -> float:
    return math.log(t2 / t1) / math.log(n2 / n1)


def section(repeats: int) -> str:
    import torch

    torch.set_num_threads(1)
    parts, goals = [], {"bare": True, "gradcheck": True, "memory": True}
    for index, case in enumerate(CASES):
        rows = time_case(case, repeats)
        table_rows = []
        for row in rows:
            ratio = row["matcalc"] / row["jacrev"]
            cells = [str(row["n"]), str(row["points"]), f"{row['matcalc'] * 1000:.1f}",
                     f"{row['jacrev'] * 1000:.1f}", f"{ratio:.2f}",
                     f"{row['jacrev+draw'] * 1000:.1f}",
                     f"{row['matcalc'] / row['jacrev+draw']:.2f}",
                     f"{row['jacrev+f32'] * 1000:.1f}",
                     f"{row['jacrev+f32'] / row['jacrev']:.2f}",
                     f"{row['matcalc'] / row['jacrev+f32']:.2f}"]
            if row["n"] >= 500 and not case.kind == "inverse":
                goals["bare"] &= ratio <= 1.5
            if "gradcheck" in row:
                speedup = row["gradcheck"] / row["matcalc"]
                goals["gradcheck"] &= speedup >= 10
                cells += [f"{row['gradcheck'] * 1000:.1f}", f"{speedup:.1f}",
                          f"{row['gradcheck'] / row['jacrev']:.1f}"]
            elif case.kind == "linear":
                cells += ["", "", ""]
            table_rows.append(cells)
        slopes = []
        for first, second in zip(rows, rows[1:]):
            slopes.append(f"n = {first['n']}→{second['n']}: matcalc "
                          f"{exponent(first['matcalc'], second['matcalc'], first['n'], second['n']):.2f}, "
                          f"jacrev {exponent(first['jacrev'], second['jacrev'], first['n'], second['n']):.2f}")
        header = ["n", "points", "matcalc ms", "jacrev + allclose ms", "matcalc / jacrev",
                  "jacrev drawing its points ms", "matcalc / that",
                  "jacrev + float32 estimate ms", "that / jacrev", "matcalc / that"]
        if case.kind == "linear":
            header += ["gradcheck ms", "gradcheck / matcalc", "gradcheck / jacrev"]
        n_mem = case.sizes[-1]
        ours_mem, bare_mem = (peak_memory(index, n_mem, who) for who in ("matcalc", "jacrev"))

        def needed(m: dict[str, int]) -> float:
            return (m["peak_kb"] - m["before_kb"]) / 1024

        mem_ratio = needed(ours_mem) / max(needed(bare_mem), 1e-9)
        peak_ratio = ours_mem["peak_kb"] / bare_mem["peak_kb"]
        goals["memory"] &= peak_ratio <= 2 or n_mem < 1000
        parts.append(
            f"**{case.name}**: `{case.identity}` ({case.layout} layout)\n\n"
            + _table(header, table_rows)
            + "\n\nScaling exponents (time ∝ n^k): " + "; ".join(slopes)
            + f"\n\nPeak memory at n = {n_mem} (a subprocess each): matcalc "
              f"{ours_mem['peak_kb'] / 1024:.0f} MB peak, {needed(ours_mem):.0f} MB needed by the "
              f"check; jacrev {bare_mem['peak_kb'] / 1024:.0f} MB peak, {needed(bare_mem):.0f} MB "
              f"needed; ratio of peaks {peak_ratio:.2f}, of needs {mem_ratio:.2f}")
    head = (f"### (c) Numeric stage at scale — medians of interleaved rounds, torch on one thread;"
            f" goals: ≤ 1.5× jacrev + allclose at n = 500 and 1000 ({_ok(goals['bare'])}), "
            f"≥ 10× faster than gradcheck on A @ x for n ≤ 500 ({_ok(goals['gradcheck'])}), peak "
            f"memory at n = 1000 ≤ 2× jacrev's ({_ok(goals['memory'])})\n\n"
            "\"jacrev + float32 estimate\" is the bare check done once more in float32 from the "
            "inputs rounded to float32: the least work of any checker that estimates each point's "
            "rounding error by re-evaluation, as matcalc's comparison must wherever the two sides "
            "round differently (an entry differing by more than 2^-43 of its magnitude is checked "
            "against 2^10 times that estimate; that is what refutes `x = (1 + 2.4e-11) * x`). "
            "`A @ x`'s sides agree to the last bit, so matcalc needs no estimate there; logdet's "
            "and trace's differ in the last bits at every point.\n\n")
    return head + "\n\n".join(parts)


def _ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(section(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
