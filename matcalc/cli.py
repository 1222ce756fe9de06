"""The ``matcalc`` command: a thin layer over the library.

This is the only module that knows about argv, stdout and exit codes::

    0  the identity holds (check: every entry holds)
    1  it fails or is ill-formed (check: some entry fails)
    2  bad input: the message on stderr names the token and its position
    3  neither engine could decide (time limit, size limits)

Heavy modules are imported inside the commands, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .errors import DeclarationError, MatcalcError, UndecidedError

EXIT_HOLDS, EXIT_FAILS, EXIT_BAD_INPUT, EXIT_UNDECIDED = 0, 1, 2, 3

LAYOUT_CHOICES = ("numerator", "denominator", "mixed", "vec")

EPILOG = """\
examples:
  matcalc verify 'd(A @ x)/d(x) = A' --var x:n --var A:m,n
  matcalc verify 'd(x.T @ A @ x)/d(x) = 2 * x.T @ A' --var x:n --var A:n,n --assume A:symmetric
  matcalc verify 'd(norm(x)**2)/d(x) = 2 * x' --var x:n --layout denominator
  matcalc verify 'd(A @ X @ B)/d(X) = kron(B.T, A)' --var A:m,n --var X:n,p --var B:p,q --layout vec
"""


def _split(option: str, text: str, sep: str) -> tuple[str, str]:
    name, found, value = text.partition(sep)
    if not found or not name.strip():
        raise DeclarationError(
            f"{option} expects NAME{sep}VALUE, got '{text}'", token=text,
            hint={"--var": "e.g. --var x:n, --var A:m,n or --var s:scalar",
                  "--assume": "e.g. --assume A:symmetric",
                  "--size": "e.g. --size n=500"}[option],
        )
    return name.strip(), value.strip()


def declarations(args: argparse.Namespace) -> dict[str, Any]:
    """The library's keyword arguments from --var, --assume and --size."""
    variables: dict[str, str] = {}
    for text in args.var or ():
        name, shape = _split("--var", text, ":")
        if name in variables and variables[name] != shape:
            raise DeclarationError(f"variable '{name}' declared twice with different shapes",
                                   token=name)
        variables[name] = shape
    assume: dict[str, list[str]] = {}
    for text in args.assume or ():
        name, tags = _split("--assume", text, ":")
        assume.setdefault(name, []).extend(t for t in tags.split(",") if t)
    sizes: dict[str, str] = {}
    for text in args.size or ():
        name, value = _split("--size", text, "=")
        sizes[name] = value
    return {"vars": variables, "assume": assume, "sizes": sizes}


def _add_declaration_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--var", action="append", metavar="NAME:SHAPE",
                   help="declare a variable: x:n (column vector), A:m,n (matrix), s: (scalar)")
    p.add_argument("--assume", action="append", metavar="NAME:TAGS",
                   help="assumptions: symmetric, spd, invertible, orthogonal, diagonal, positive")
    p.add_argument("--size", action="append", metavar="DIM=N",
                   help="pin a dimension's size, e.g. n=500")
    p.add_argument("--layout", default="numerator", choices=LAYOUT_CHOICES,
                   help="numerator (default), denominator, mixed or vec")
    p.add_argument("--json", action="store_true", help="print a JSON document")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matcalc",
        description="Check matrix-calculus identities: SymPy proofs against torch autograd.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    verify = sub.add_parser("verify", help="verify one identity such as 'd(A @ x)/d(x) = A'",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    verify.add_argument("identity", help="d(f)/d(x) = claim, in matcalc's expression language")
    _add_declaration_options(verify)
    verify.add_argument("--method", default="both", choices=("both", "symbolic", "numeric"))
    verify.add_argument("--seed", type=int, default=0, help="fixes every random choice")
    verify.add_argument("--timeout", type=float, default=None,
                        help="time budget of the symbolic stage in seconds (default 10)")
    verify.set_defaults(run=run_verify)
    return parser


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, ensure_ascii=False))


def run_verify(args: argparse.Namespace) -> int:
    from .pipeline import verify

    verdict = verify(args.identity, layout=args.layout, method=args.method, seed=args.seed,
                     timeout=args.timeout, **declarations(args))
    if args.json:
        _print_json(verdict.to_dict())
    else:
        print(verdict)
    return EXIT_HOLDS if verdict.status == "holds" else EXIT_FAILS


def _error_document(error: MatcalcError) -> dict[str, Any]:
    return {"error": {"type": type(error).__name__, "message": error.message,
                      "position": error.position, "token": error.token, "hint": error.hint}}


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UndecidedError as error:
        if getattr(args, "json", False):
            _print_json(_error_document(error))
        print(f"matcalc: undecided: {error}", file=sys.stderr)
        return EXIT_UNDECIDED
    except MatcalcError as error:
        if getattr(args, "json", False):
            _print_json(_error_document(error))
        print(f"matcalc: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
