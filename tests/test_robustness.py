"""Every path ends in a message and a documented exit code; every bad argument
is a MatcalcError naming it; budgets belong to their call; messages speak the
caller's language (flags on the command line, keyword arguments in Python)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import matcalc
from matcalc.cli import EXIT_INTERRUPTED, Progress, build_parser, main
from matcalc.errors import MatcalcError, OptionError, UndecidedError

LOGDET = "d(logdet(X))/d(X) = inv(X)"
SPD = {"vars": {"X": "n n"}, "assume": {"X": ["spd"]}, "layout": "denominator"}
HOLDS = ["verify", "d(A @ x)/d(x) = A", "--var", "x:n", "--var", "A:m,n"]


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _bad_option(capsys: pytest.CaptureFixture, argv: list[str], needle: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2, (argv, out, err)
    assert err.startswith("matcalc: error: ") and err.count("\n") == 1, err
    assert needle in err, err
    assert "Traceback" not in err


# -- numeric options: exit 2 with a message, before any work


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e999"])
def test_a_nonsense_timeout_exits_2(capsys: pytest.CaptureFixture, value: str) -> None:
    _bad_option(capsys, [*HOLDS, f"--timeout={value}"], "--timeout must be a finite number")


@pytest.mark.parametrize("value", ["99999999999999999999999", "-1", "4294967296"])
def test_a_seed_out_of_range_exits_2(capsys: pytest.CaptureFixture, value: str) -> None:
    _bad_option(capsys, [*HOLDS, "--seed", value], "--seed must be an integer from 0 to")


@pytest.mark.parametrize("value", ["-3", "0", "100000"])
def test_check_refuses_a_nonsense_job_count(capsys: pytest.CaptureFixture, value: str) -> None:
    start = time.perf_counter()
    _bad_option(capsys, ["check", "--jobs", value], "--jobs must be an integer from 1 to")
    assert time.perf_counter() - start < 5  # refused before the tables are checked


def test_derive_and_cheatsheet_check_their_options_too(capsys: pytest.CaptureFixture) -> None:
    _bad_option(capsys, ["derive", "sum(x)", "--wrt", "x", "--var", "x:n", "--timeout", "-2"],
                "--timeout")
    _bad_option(capsys, ["cheatsheet", "--seed", "-5"], "--seed")


def test_an_unwritable_output_is_refused_before_any_work(capsys: pytest.CaptureFixture,
                                                         tmp_path: Path) -> None:
    start = time.perf_counter()
    _bad_option(capsys, ["cheatsheet", "-o", "/nonexistent/x.html"],
                "cannot write /nonexistent/x.html: the directory /nonexistent does not exist")
    _bad_option(capsys, ["cheatsheet", "-o", str(tmp_path)], "it is a directory")
    _bad_option(capsys, ["cheatsheet", "--all", str(tmp_path / "missing")], "not a directory")
    assert time.perf_counter() - start < 5  # nothing was verified first
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        _bad_option(capsys, ["cheatsheet", "-o", str(locked / "x.md")], "permission denied")


def test_bad_option_choices_and_types_exit_2(capsys: pytest.CaptureFixture) -> None:
    for argv in ([*HOLDS, "--method", "bogus"], [*HOLDS, "--seed", "abc"],
                 [*HOLDS, "--layout", "sideways"], ["frobnicate"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2, argv
        assert "error:" in capsys.readouterr().err


def test_an_unrecognized_word_exits_2_with_one_line(capsys: pytest.CaptureFixture) -> None:
    _bad_option(capsys, [*HOLDS, "extra"], "unrecognized arguments: extra")
    _bad_option(capsys, [*HOLDS, "--bogus"], "unrecognized arguments: --bogus")


def test_a_shape_split_by_the_shell_gets_a_helpful_message(capsys: pytest.CaptureFixture) -> None:
    _bad_option(capsys, ["verify", "d(A @ x)/d(x) = A", "--var", "x:n", "--var", "A:m", "n"],
                "quote it (--var 'A:m n') or use commas (--var A:m,n)")
    _bad_option(capsys, ["verify", "d(x.T @ A @ x)/d(x) = x.T @ (A + A.T)", "--var", "x:n",
                         "--var", "A:n,n", "--assume", "A:symmetric", "invertible"],
                "(--assume A:symmetric,invertible)")


def test_assumptions_accept_spaces_like_shapes(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "verify", "d(x.T @ A @ x)/d(x) = 2 * x.T @ A", "--var", "x:n",
                       "--var", "A:n n", "--assume", "A: symmetric  invertible")
    assert code == 0 and out.startswith("HOLDS")
    v = matcalc.verify("d(x.T @ A @ x)/d(x) = 2 * x.T @ A", vars={"x": "n", "A": "n n"},
                       assume={"A": "symmetric invertible"})
    assert v.status == "holds" and v.assumptions == {"A": ["invertible", "symmetric"]}


# -- closed pipes and Ctrl-C, in real processes


def test_a_closed_pipe_ends_quietly_with_exit_0() -> None:
    """`matcalc verify ... | head -1`: the reader is gone before matcalc writes."""
    for argv in (HOLDS, ["verify", "d(x.T @ A @ x)/d(x) = 2 * x.T @ A", "--var", "x:n",
                         "--var", "A:n,n", "--json"]):
        read, write = os.pipe()
        os.close(read)
        result = subprocess.run([sys.executable, "-m", "matcalc", *argv], stdout=write,
                                stderr=subprocess.PIPE, text=True, timeout=300)
        os.close(write)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_output_that_cannot_be_written_exits_2_with_a_message() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "matcalc", *HOLDS], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr == "matcalc: error: cannot write the output: No space left on device\n"


def test_a_closed_stdout_is_no_crash() -> None:
    result = subprocess.run([sys.executable, "-m", "matcalc", *HOLDS], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, timeout=300,
                            preexec_fn=lambda: os.close(1))
    assert result.returncode == 0 and result.stderr == ""


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("whom", ["group", "parent"])
def test_ctrl_c_in_check_exits_130_and_leaves_no_worker(whom: str) -> None:
    """Ctrl-C at a terminal signals the whole process group; `kill -INT` only the
    parent. Either way: exit 130, one line, and every worker process gone."""
    process = subprocess.Popen([sys.executable, "-m", "matcalc", "check", "--jobs", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _children(process.pid)
    assert len(workers) >= 2, "the workers never started"
    time.sleep(0.5)
    if whom == "group":
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert err.strip() == "matcalc: interrupted" and "Traceback" not in err
    time.sleep(0.5)
    assert not [pid for pid in workers if _running(pid)]


def test_keyboard_interrupt_in_a_command_exits_130(capsys: pytest.CaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import matcalc.api

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(matcalc.api, "verify", interrupted)
    code, out, err = run(capsys, *HOLDS)
    assert code == EXIT_INTERRUPTED and out == "" and err.strip() == "matcalc: interrupted"


# -- the API: every argument validated, with a MatcalcError naming it


@pytest.mark.parametrize("kwargs, name", [
    ({"seed": "1"}, "seed"), ({"seed": 1.5}, "seed"), ({"seed": 2**70}, "seed"),
    ({"seed": True}, "seed"), ({"seed": -1}, "seed"),
    ({"timeout": "5"}, "timeout"), ({"timeout": float("nan")}, "timeout"),
    ({"timeout": float("inf")}, "timeout"), ({"timeout": -1}, "timeout"),
    ({"assume": ["x"]}, "assume"), ({"assume": {"x": None}}, "'x'"),
    ({"assume": {"x": [1]}}, "'x'"), ({"vars": ["x"]}, "vars"), ({"sizes": [("n", 3)]}, "sizes"),
    ({"method": None}, "method"), ({"layout": 3}, "layout"), ({"diagnose": "yes"}, "diagnose"),
    ({"sizes": {"n": "abc"}}, "'n'"), ({"vars": {"x": None}}, "'x'"),
])
def test_bad_api_arguments_raise_a_matcalc_error_naming_them(kwargs: dict, name: str) -> None:
    arguments = {"vars": {"x": "n"}, **kwargs}
    with pytest.raises(MatcalcError) as raised:
        matcalc.verify("d(sum(x))/d(x) = ones(n).T", **arguments)
    assert name in str(raised.value)
    assert "--" not in str(raised.value)  # Python's spelling, not the command line's


def test_derive_and_check_all_validate_too() -> None:
    from matcalc.tablecheck import check_all

    with pytest.raises(OptionError, match="seed"):
        matcalc.derive("sum(x)", "x", vars={"x": "n"}, seed="0")
    with pytest.raises(OptionError, match="timeout"):
        matcalc.derive("sum(x)", "x", vars={"x": "n"}, timeout=float("inf"))
    with pytest.raises(MatcalcError, match="wrt"):
        matcalc.derive("sum(x)", 3, vars={"x": "n"})  # type: ignore[arg-type]
    for jobs in (-3, 0, 2.5, "2"):
        with pytest.raises(OptionError, match="jobs"):
            check_all([], jobs=jobs)  # type: ignore[arg-type]


def test_load_tables_refuses_what_is_not_a_list_of_paths() -> None:
    for paths in (5, [5], "a.toml", b"a.toml"):
        with pytest.raises(MatcalcError, match="paths must be a list"):
            matcalc.load_tables(paths)  # type: ignore[arg-type]


def test_numpy_integers_are_integers() -> None:
    import numpy as np

    v = matcalc.verify("d(sum(x))/d(x) = ones(n).T", vars={"x": "n"}, seed=np.int64(3))
    assert v.status == "holds"


# -- time budgets: per call, from any thread


def test_budgets_in_threads_do_not_interfere() -> None:
    """Three threads verify logdet's derivative symbolically while a fourth keeps
    giving itself no time at all: the three all prove it."""
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    stop = threading.Event()
    starved = []

    def verify(k: int) -> None:
        try:
            v = matcalc.verify(LOGDET, **SPD, sizes={"n": 3}, method="symbolic")
            results[k] = v.status
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def no_time() -> None:
        while not stop.is_set():
            try:
                matcalc.verify(LOGDET, **SPD, sizes={"n": 3}, method="symbolic", timeout=0)
                errors.append(AssertionError("timeout=0 decided"))
            except UndecidedError as error:
                starved.append(str(error))

    starver = threading.Thread(target=no_time)
    starver.start()
    threads = [threading.Thread(target=verify, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    starver.join()
    assert not errors, errors
    assert results == {0: "holds", 1: "holds", 2: "holds"}
    assert starved and all("gave up after 0 s" in s for s in starved)


def test_a_budget_works_outside_the_main_thread() -> None:
    outcome: list[object] = []

    def run_in_thread() -> None:
        try:
            matcalc.verify(LOGDET, **SPD, sizes={"n": 5}, method="symbolic", timeout=0.001)
        except UndecidedError as error:
            outcome.append(error)

    thread = threading.Thread(target=run_in_thread)
    thread.start()
    thread.join()
    assert len(outcome) == 1 and "gave up" in str(outcome[0])


def test_no_signal_state_is_touched() -> None:
    before = signal.getsignal(signal.SIGALRM)
    matcalc.verify(LOGDET, **SPD, method="symbolic", timeout=5)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# -- the caller's language


def test_hints_use_flags_on_the_command_line_and_keywords_in_python(
        capsys: pytest.CaptureFixture) -> None:
    quadratic = "d(x.T @ A @ x)/d(x) = 2 * x.T @ A"
    code, out, _ = run(capsys, "verify", quadratic, "--var", "x:n", "--var", "A:n,n")
    assert code == 1 and "add --assume A:symmetric" in out and "assume={" not in out
    v = matcalc.verify(quadratic, vars={"x": "n", "A": "n n"})
    assert 'add assume={"A": ["symmetric"]}' in str(v) and "--assume" not in str(v)

    code, _, err = run(capsys, "verify", LOGDET, "--var", "X:n,n", "--assume", "X:spd",
                       "--size", "n=5", "--timeout", "0.001", "--method", "symbolic")
    assert code == 3 and "try --method both" in err
    with pytest.raises(UndecidedError, match='try method="both"'):
        matcalc.verify(LOGDET, **SPD, sizes={"n": 5}, timeout=0.001, method="symbolic")

    code, out, _ = run(capsys, "verify", "d(A @ X)/d(X) = A", "--var", "A:m,n", "--var", "X:n,p")
    assert "(--layout vec)" in out
    assert "layout=\"vec\"" in str(matcalc.verify("d(A @ X)/d(X) = A",
                                                  vars={"A": "m n", "X": "n p"}))


@pytest.mark.parametrize("identity, cli, python", [
    ("d(A @ x)/d(x) = B", "--var A:m,n", 'vars={"A": "m n"}'),
    ("d(x.T @ A)/d(x) = B", "--var A:m,n", 'vars={"A": "m n"}'),
    ("d(logdet(A))/d(x) = 0", "--var A:n,n", 'vars={"A": "n n"}'),
    ("d(sum(A))/d(x) = 0", "--var A:n", 'vars={"A": "n"}'),
])
def test_the_undeclared_variable_hint_fits_how_the_name_is_used(
        capsys: pytest.CaptureFixture, identity: str, cli: str, python: str) -> None:
    code, _, err = run(capsys, "verify", identity, "--var", "x:n")
    assert code == 2 and f"e.g. {cli}" in err
    with pytest.raises(MatcalcError) as raised:
        matcalc.verify(identity, vars={"x": "n"})
    assert f"e.g. {python}" in str(raised.value)


# -- help and progress


def test_help_lists_exit_codes_and_the_functions(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out and "130  interrupted" in out and "3    undecided" in out
    assert "logdet" in out and "softmax" in out and "The expression language" in out
    from matcalc.cli import LANGUAGE
    from matcalc.ops import FUNCTIONS

    listed = LANGUAGE.split("the functions are")[1].split("(README")[0].split()
    assert sorted(listed) == sorted(FUNCTIONS)  # the help's list is the registry's
    for command in ("verify", "derive", "check", "cheatsheet"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "exit codes:" in capsys.readouterr().out, command


def test_every_option_has_help_text() -> None:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse_subparsers())]
    for name, sub in [("matcalc", parser), *commands.choices.items()]:
        for action in sub._actions:
            if action.dest in ("help", "command"):
                continue
            assert action.help, f"{name} {action.option_strings or action.dest}"


def argparse_subparsers() -> type:
    import argparse

    return argparse._SubParsersAction  # noqa: SLF001 - the only way to list subcommands


def test_version(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"matcalc {matcalc.__version__}"


def test_progress_shows_the_time_left() -> None:
    class Result:
        ok, key = True, "notes-3.1/sum"

    progress = Progress("checking")
    progress.start -= 10  # ten seconds in, a quarter done
    line = progress.line(25, 100, Result())
    assert "25/100" in line and "0:10 elapsed" in line and "about 0:30 left" in line
    assert "done" in progress.line(100, 100, Result())


def test_the_budget_bounds_an_orthogonal_variable_at_the_largest_size() -> None:
    """Building an orthogonal variable (the Cayley transform) is one SymPy step the
    budget cannot interrupt; at n = 6 it once took minutes past a 1 s budget. The
    bound here is the budget's promise (generous), not a speed measurement."""
    start = time.monotonic()
    try:
        matcalc.verify("d(trace(Q @ A))/d(A) = Q", vars={"Q": "n n", "A": "n n"},
                       assume={"Q": ["orthogonal"]}, sizes={"n": 6}, method="symbolic",
                       timeout=1)
    except UndecidedError as error:
        assert "gave up after 1 s" in str(error)
    assert time.monotonic() - start < 30
