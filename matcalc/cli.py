"""The ``matcalc`` command: a thin layer over the library.

This is the only module that knows about argv, stdout and exit codes (the
list is also in ``matcalc --help``)::

    0    the identity holds (check: every entry holds; derive: a verified closed form);
         also when the reader of the output goes away early (``| head``): nothing more
         is printed
    1    it fails or is ill-formed (check: some entry fails; derive: no closed form)
    2    bad input or a bad option: one line on stderr names it (and its position);
         also output that cannot be written (a full disk)
    3    neither engine could decide (time limit, size limits), or verify's evidence
         is weaker than --require asks
    130  interrupted (Ctrl-C); worker processes are stopped

Every path ends in one of these with a message, never a traceback. Options are
checked before any work (an output file that cannot be written, a seed out of
range). Messages name flags (``--assume A:symmetric``), not the library's
keyword arguments: the command runs inside :func:`matcalc.surface.command_line`.
Heavy modules are imported inside the commands, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from ._version import __version__
from .errors import DeclarationError, MatcalcError, OptionError, UndecidedError
from .layout import LAYOUTS
from .options import METHODS, STRENGTHS, check_jobs, check_seed, check_timeout
from .rendering.jsondoc import document
from .surface import command_line

EXIT_HOLDS, EXIT_FAILS, EXIT_BAD_INPUT, EXIT_UNDECIDED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

EXIT_CODES = """\
exit codes:
  0    holds (check: every entry holds; derive: a verified closed form);
       also when the output's reader stops early (| head)
  1    fails or ill-formed (check: an entry fails; derive: no closed form)
  2    bad input or option (one line on stderr names it), or output that
       cannot be written
  3    undecided (time budget, size limits; or evidence weaker than --require)
  130  interrupted (Ctrl-C)
"""

def _language() -> str:
    """The help's summary of the language; the function list is the registry's."""
    import textwrap

    from .ops import REGISTRY

    names = " ".join(name for name, op in REGISTRY.items() if op.syntax == "call")
    return ("expression language: + - * / ** @ .T, d(f)/d(x), lhs = rhs; the functions are\n"
            + textwrap.fill(names, width=80, initial_indent="  ", subsequent_indent="  ")
            + '\n  (README.md, "The expression language", describes each)\n')


LANGUAGE = _language()

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
        listed = [t for t in re.split(r"[\s,]+", tags) if t]
        if not listed:
            raise DeclarationError(f"--assume {text} names no assumption", token=text,
                                   hint="e.g. --assume A:symmetric")
        assume.setdefault(name, []).extend(listed)
    sizes: dict[str, str] = {}
    for text in args.size or ():
        name, value = _split("--size", text, "=")
        if name in sizes and sizes[name] != value:
            raise DeclarationError(f"--size {name} given twice ({sizes[name]} and {value})",
                                   token=name)
        sizes[name] = value
    return {"vars": variables, "assume": assume, "sizes": sizes}


def _add_declaration_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--var", action="append", metavar="NAME:SHAPE",
                   help="declare a variable: x:n (column vector), A:m,n or 'A:m n' (matrix), "
                        "s: (scalar); repeat for each variable")
    p.add_argument("--assume", action="append", metavar="NAME:TAGS",
                   help="assumptions, separated by commas: symmetric, spd, invertible, "
                        "orthogonal, diagonal, positive (e.g. A:symmetric,invertible)")
    p.add_argument("--size", action="append", metavar="DIM=N",
                   help="pin a dimension's size, e.g. n=500")
    p.add_argument("--layout", default="numerator", choices=LAYOUTS,
                   help="numerator (default), denominator, mixed or vec")
    p.add_argument("--json", action="store_true", help="print a JSON document (schema: matcalc/data/verdict.schema.json)")


class _ArgumentParser(argparse.ArgumentParser):
    """Option errors as one line on stderr, exit 2, with a suggestion for a
    misspelt choice, like every other bad input (not argparse's usage block)."""

    def error(self, message: str) -> NoReturn:
        from .errors import did_you_mean

        found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        hint = did_you_mean(found.group(1), re.findall(r"'([^']*)'", found.group(2))) \
            if found else None
        self.exit(2, f"matcalc: error: {message}" + (f"; {hint}" if hint else "")
                  + f" (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="matcalc",
        description="Check matrix-calculus identities: SymPy proofs against torch autograd.",
        epilog=EPILOG + "\n" + LANGUAGE + "\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"matcalc {__version__}",
                        help="print matcalc's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    verify = sub.add_parser("verify", help="verify one identity such as 'd(A @ x)/d(x) = A'",
                            epilog=EPILOG + "\n" + EXIT_CODES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    verify.add_argument("identity", help="d(f)/d(x) = claim, in matcalc's expression language")
    _add_declaration_options(verify)
    verify.add_argument("--method", default="both", choices=METHODS,
                        help="both engines (default), or only the symbolic (SymPy) or the "
                             "numeric (torch autograd) one")
    verify.add_argument("--seed", type=int, default=0, help="fixes every random choice")
    verify.add_argument("--require", default="numeric", choices=STRENGTHS[::-1],
                        help="the weakest evidence accepted for 'holds' (default numeric); "
                             "weaker evidence exits 3")
    verify.add_argument("--timeout", type=float, default=None,
                        help="time budget of the symbolic stage in seconds (default 10)")
    verify.set_defaults(run=run_verify)

    derive = sub.add_parser("derive", help="the derivative in matrix notation, verified",
                            epilog="example:\n  matcalc derive 'logdet(X)' --wrt X --var X:n,n "
                                   "--assume X:spd --layout denominator\n\n" + EXIT_CODES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    derive.add_argument("expr", help="the function, in matcalc's expression language")
    derive.add_argument("--wrt", required=True, help="the variable to differentiate by")
    derive.add_argument("--order", type=int, choices=(1, 2), default=1,
                        help="1: the derivative (default); 2: the Hessian, d(d(f)/d(x))/d(x)")
    _add_declaration_options(derive)
    derive.add_argument("--format", default="text", choices=("text", "latex", "numpy", "torch"),
                        help="the report (text), the formula in LaTeX, or the source of a "
                             "NumPy or torch function computing the derivative")
    derive.add_argument("--seed", type=int, default=0, help="fixes every random choice")
    derive.add_argument("--timeout", type=float, default=None,
                        help="time budget of the symbolic stage in seconds (default 10)")
    derive.set_defaults(run=run_derive)

    check = sub.add_parser("check", help="verify every table entry, in every layout it states",
                           epilog=EXIT_CODES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("files", nargs="*", help="table files (default: the packaged tables, matcalc/data/tables/)")
    _add_run_options(check)
    check.add_argument("--json", action="store_true", help="print a JSON document (schema: matcalc/data/verdict.schema.json)")
    check.add_argument("-v", "--verbose", action="store_true", help="list every entry")
    check.set_defaults(run=run_check)

    sheet = sub.add_parser("cheatsheet", help="generate the layout cheat sheet from the tables",
                           epilog=EXIT_CODES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    sheet.add_argument("files", nargs="*", help="table files (default: the packaged tables, matcalc/data/tables/)")
    sheet.add_argument("--format", default="md", choices=("md", "html"),
                       help="Markdown (default) or a self-contained HTML page")
    sheet.add_argument("--lang", default="en", choices=("en", "zh"),
                       help="English (default) or Chinese headings and notes")
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


def print_json(value: dict[str, Any]) -> None:
    """Print one ``--json`` document (made by :func:`matcalc.rendering.jsondoc.document`)."""
    print(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False))


def run_verify(args: argparse.Namespace) -> int:
    from .api import verify

    verdict = verify(args.identity, layout=args.layout, method=args.method, seed=args.seed,
                     timeout=args.timeout, **declarations(args))
    weaker = verdict.status == "holds" and not verdict.meets(args.require)
    message = f"it holds {verdict.scope}, weaker evidence than --require {args.require}"
    if args.json:
        if weaker:  # an undecided run is an error document, as the library raises
            raise UndecidedError(message)
        print_json(document("verdict", verdict.to_dict()))
    else:
        print(verdict)
    if weaker:
        print(f"matcalc: undecided: {message}", file=sys.stderr)
        return EXIT_UNDECIDED
    return EXIT_HOLDS if verdict.status == "holds" else EXIT_FAILS


class Progress:
    """A progress bar with the time left on stderr when it is a terminal; silent
    otherwise. The estimate is the mean time per finished entry so far."""

    def __init__(self, label: str, stream: Any = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream is not None and self.stream.isatty()
        self.start = time.monotonic()

    def line(self, done: int, total: int, result: Any) -> str:
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.start
        left = elapsed / done * (total - done) if done else 0.0
        timing = f"{_clock(elapsed)} elapsed, " + (
            f"about {_clock(left)} left" if done < total else "done")
        mark = "" if result.ok else "  (failure: " + result.key + ")"
        return f"\r{self.label} [{bar}] {done}/{total}  {timing}  {result.key[:32]:<32}{mark}"

    def __call__(self, done: int, total: int, result: Any) -> None:
        if not self.live:
            return
        self.stream.write(self.line(done, total, result))
        if done == total or not result.ok:
            self.stream.write("\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``)."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _check_tables(args: argparse.Namespace, label: str) -> tuple[Any, list[Any], float]:
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
        print_json(document("check", {"summary": summary.to_dict(),
                                        "entries": [r.to_dict() for r in results]}))
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
            _write(Path(args.all_dir) / name, render(tables, by_key, fmt_name, lang, essentials))
    elif args.output:
        _write(args.output, render(tables, by_key, args.format, args.lang, args.essentials))
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
                    timeout=args.timeout, order=args.order, **declarations(args))
    if args.json:
        print_json(document("derivation", result.to_dict()))
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
    return document("error", {"error": {
        "type": type(error).__name__, "message": error.message, "position": error.position,
        "token": error.token, "hint": error.hint}})


def _write(path: Any, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise OptionError(f"cannot write {path}: {error.strerror}", token=str(path)) from None


def _check_writable_file(path: str) -> None:
    """Refuse, before any work, an output file that cannot be created or replaced."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OptionError(f"cannot write {path}: it is a directory", token=path,
                          hint="give a file name, or use --all DIR for all four sheets")
    if not os.path.isdir(directory):
        raise OptionError(f"cannot write {path}: the directory {directory} does not exist",
                          token=path)
    if not os.access(path if os.path.exists(path) else directory, os.W_OK):
        raise OptionError(f"cannot write {path}: permission denied", token=path)


def _check_writable_dir(path: str) -> None:
    if not os.path.isdir(path):
        raise OptionError(f"cannot write into {path}: it is not a directory", token=path)
    if not os.access(path, os.W_OK):
        raise OptionError(f"cannot write into {path}: permission denied", token=path)


def _check_options(args: argparse.Namespace) -> None:
    """Everything about the options that can be known before any work."""
    for name, check in (("seed", check_seed), ("timeout", check_timeout), ("jobs", check_jobs)):
        if hasattr(args, name):
            setattr(args, name, check(getattr(args, name)))
    if getattr(args, "output", None):
        _check_writable_file(args.output)
    if getattr(args, "all_dir", None):
        _check_writable_dir(args.all_dir)


_SHAPE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")


def _split_by_the_shell(argv: Sequence[str]) -> str | None:
    """``--var A:m n`` typed without quotes: the shell made 'n' a separate word."""
    for k, word in enumerate(argv[:-1]):
        if word in ("--var", "--assume") and k + 2 < len(argv) and ":" in argv[k + 1]:
            value, rest = argv[k + 1], argv[k + 2]
        elif word.startswith(("--var=", "--assume=")):
            value, rest = word.partition("=")[2], argv[k + 1]
            word = word.partition("=")[0]
        else:
            continue
        name, _, spec = value.partition(":")
        if word == "--var":  # a shape has at most two dimensions
            fits = len(spec.replace(",", " ").split()) == 1 and _SHAPE_WORD.fullmatch(rest)
        else:
            from .assumptions import TAGS

            fits = rest in TAGS
        if fits:
            parts = spec.split() + [rest]
            joined = ",".join(parts)
            return (f"'{word} {value} {rest}': the shell split this {word} in two; quote it "
                    f"({word} '{name}:{' '.join(parts)}') or use commas ({word} {name}:{joined})")
    return None


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    args, extras = parser.parse_known_args(words)
    if extras:
        message = _split_by_the_shell(words) or \
            f"unrecognized arguments: {' '.join(extras)} (see matcalc {args.command} --help)"
        print(f"matcalc: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return args


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null, so that the interpreter's
    final flush does not complain about the pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            stream.reconfigure(errors="backslashreplace")
    with command_line():
        try:
            code = _main(argv)
            if sys.stdout is not None:  # None: started with stdout closed
                sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
            return code
        except BrokenPipeError:
            _quiet_stdout()
            return EXIT_HOLDS
        except OSError as error:  # the output cannot be written (a full disk, ...)
            _quiet_stdout()
            print(f"matcalc: error: cannot write the output: {error.strerror or error}",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            print("\nmatcalc: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    args = _parse(argv)
    if isinstance(args, int):
        return args
    try:
        _check_options(args)
        return args.run(args)
    except UndecidedError as error:
        if getattr(args, "json", False):
            print_json(_error_document(error))
        print(f"matcalc: undecided: {error}", file=sys.stderr)
        return EXIT_UNDECIDED
    except MatcalcError as error:
        if getattr(args, "json", False):
            print_json(_error_document(error))
        print(f"matcalc: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
