"""The ``matcalc`` command: a thin layer over the library.

This is the only module that knows about argv, stdout and exit codes::

    0  the identity holds (check: every entry holds; derive: a verified closed form)
    1  it fails or is ill-formed (check: some entry fails; derive: no closed form)
    2  bad input: the message on stderr names the token and its position
    3  neither engine could decide (time limit, size limits), or verify's evidence
       is weaker than --require asks

Heavy modules are imported inside the commands, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ._version import __version__
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
    parser.add_argument("--version", action="version", version=f"matcalc {__version__}",
                        help="print matcalc's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    verify = sub.add_parser("verify", help="verify one identity such as 'd(A @ x)/d(x) = A'",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    verify.add_argument("identity", help="d(f)/d(x) = claim, in matcalc's expression language")
    _add_declaration_options(verify)
    verify.add_argument("--method", default="both", choices=("both", "symbolic", "numeric"))
    verify.add_argument("--seed", type=int, default=0, help="fixes every random choice")
    verify.add_argument("--require", default="numeric", choices=("general", "exact", "numeric"),
                        help="the weakest evidence accepted for 'holds' (default numeric); "
                             "weaker evidence exits 3")
    verify.add_argument("--timeout", type=float, default=None,
                        help="time budget of the symbolic stage in seconds (default 10)")
    verify.set_defaults(run=run_verify)

    derive = sub.add_parser("derive", help="the derivative in matrix notation, verified",
                            epilog="example:\n  matcalc derive 'logdet(X)' --wrt X --var X:n,n "
                                   "--assume X:spd --layout denominator",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    derive.add_argument("expr", help="the function, in matcalc's expression language")
    derive.add_argument("--wrt", required=True, help="the variable to differentiate by")
    _add_declaration_options(derive)
    derive.add_argument("--format", default="text", choices=("text", "latex", "numpy", "torch"),
                        help="the report (text), the formula in LaTeX, or the source of a "
                             "NumPy or torch function computing the derivative")
    derive.add_argument("--seed", type=int, default=0, help="fixes every random choice")
    derive.add_argument("--timeout", type=float, default=None,
                        help="time budget of the symbolic stage in seconds (default 10)")
    derive.set_defaults(run=run_derive)

    check = sub.add_parser("check", help="verify every table entry, in every layout it states")
    check.add_argument("files", nargs="*", help="table files (default: the packaged tables, matcalc/data/tables/)")
    _add_run_options(check)
    check.add_argument("--json", action="store_true", help="print a JSON document")
    check.add_argument("-v", "--verbose", action="store_true", help="list every entry")
    check.set_defaults(run=run_check)

    sheet = sub.add_parser("cheatsheet", help="generate the layout cheat sheet from the tables")
    sheet.add_argument("files", nargs="*", help="table files (default: the packaged tables, matcalc/data/tables/)")
    sheet.add_argument("--format", default="md", choices=("md", "html"))
    sheet.add_argument("--lang", default="en", choices=("en", "zh"))
    sheet.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    sheet.add_argument("--essentials", action="store_true",
                       help="only the study notes' core tables (both layouts) and their "
                            "errata: two A4 pages")
    sheet.add_argument("--all", metavar="DIR", dest="all_dir",
                       help="write every sheet (full and essentials; md/html; en/zh) into "
                            "DIR, e.g. docs/")
    _add_run_options(sheet)
    sheet.set_defaults(run=run_cheatsheet)
    return parser


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes (default: the cores available)")
    p.add_argument("--seed", type=int, default=0, help="fixes every random choice")
    p.add_argument("--timeout", type=float, default=None,
                   help="symbolic time budget per claim in seconds (default 10)")


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, ensure_ascii=False))


def run_verify(args: argparse.Namespace) -> int:
    from .api import verify

    verdict = verify(args.identity, layout=args.layout, method=args.method, seed=args.seed,
                     timeout=args.timeout, **declarations(args))
    if args.json:
        _print_json(verdict.to_dict())
    else:
        print(verdict)
    if verdict.status == "holds" and not verdict.meets(args.require):
        print(f"matcalc: undecided: it holds {verdict.scope}, weaker evidence than "
              f"--require {args.require}", file=sys.stderr)
        return EXIT_UNDECIDED
    return EXIT_HOLDS if verdict.status == "holds" else EXIT_FAILS


class Progress:
    """A progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.live = sys.stderr.isatty()

    def __call__(self, done: int, total: int, result: Any) -> None:
        if not self.live:
            return
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        mark = "" if result.ok else "  (failure: " + result.key + ")"
        sys.stderr.write(f"\r{self.label} [{bar}] {done}/{total} {result.key[:40]:<40}{mark}")
        if done == total or not result.ok:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _check_tables(args: argparse.Namespace, label: str) -> tuple[Any, list[Any], float]:
    import time

    from .tablecheck import check_all
    from .tables import load_tables

    tables = load_tables(args.files or None)
    start = time.perf_counter()
    results = check_all(list(tables), jobs=args.jobs, seed=args.seed, timeout=args.timeout,
                        progress=Progress(label))
    return tables, results, time.perf_counter() - start


def run_check(args: argparse.Namespace) -> int:
    from .tablecheck import summarize

    tables, results, seconds = _check_tables(args, "checking")
    summary = summarize(results, seconds)
    if args.json:
        _print_json({"summary": summary.to_dict(), "entries": [r.to_dict() for r in results]})
        return EXIT_HOLDS if summary.failures == 0 else EXIT_FAILS
    by_key = {r.key: r for r in results}
    for result in results:
        if not result.ok:
            entry = tables[result.key]
            print(f"FAILED {result.key}  ({entry.file})")
            for check in result.failures():
                print(f"  {check.label}: {check.detail}")
                if check.verdict is not None and check.verdict.counterexample is not None:
                    print("    " + str(check.verdict).replace("\n", "\n    "))
        elif args.verbose:
            print(f"ok     {result.key}  ({len(result.checks)} checks, {result.seconds:.2f} s)")
    rows = []
    for section in tables.sections:
        keys = [e.key for e in section.records]
        held = sum(by_key[k].ok for k in keys)
        rows.append((section.id, len(keys), held, len(keys) - held))
    width = max(len(r[0]) for r in rows + [("total",)])
    print(f"{'section'.ljust(width)}  entries  holds  failures")
    for name, count, held, failed in rows:
        print(f"{name.ljust(width)}  {count:7d}  {held:5d}  {failed:8d}")
    print(f"{'total'.ljust(width)}  {summary.entries:7d}  {summary.holds:5d}  "
          f"{summary.failures:8d}")
    print(f"{summary.checks} checks in {summary.seconds:.1f} s "
          f"(median {summary.median:.3f} s per entry)")
    return EXIT_HOLDS if summary.failures == 0 else EXIT_FAILS


def run_cheatsheet(args: argparse.Namespace) -> int:
    from .rendering.cheatsheet import render

    tables, results, _ = _check_tables(args, "verifying")
    by_key = {r.key: r for r in results}
    if args.all_dir:
        from pathlib import Path

        from .rendering.cheatsheet import SHEETS

        for name, (fmt_name, lang, essentials) in SHEETS.items():
            (Path(args.all_dir) / name).write_text(
                render(tables, by_key, fmt_name, lang, essentials), encoding="utf-8")
    elif args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(render(tables, by_key, args.format, args.lang, args.essentials))
    else:
        sys.stdout.write(render(tables, by_key, args.format, args.lang, args.essentials))
    failed = [r.key for r in results if not r.ok]
    if failed:
        print(f"matcalc: {len(failed)} entries failed verification and are marked on the "
              f"sheet: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILS
    return EXIT_HOLDS


def run_derive(args: argparse.Namespace) -> int:
    from .api import derive

    result = derive(args.expr, args.wrt, layout=args.layout, seed=args.seed,
                    timeout=args.timeout, **declarations(args))
    if args.json:
        _print_json(result.to_dict())
    elif args.format == "latex":
        print(result.latex)
    elif args.format in ("numpy", "torch"):
        if result.expr is None:
            print(f"no verified closed form to print as code:\n{result}", file=sys.stderr)
            return EXIT_FAILS
        sys.stdout.write(result.code(args.format))
    else:
        print(result)
    return EXIT_HOLDS if result.expr is not None else EXIT_FAILS


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
