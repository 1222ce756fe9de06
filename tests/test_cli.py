"""The ``matcalc`` command: exit codes, reports, JSON and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matcalc.cli import main


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_holds_exits_0(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "verify", "d(A @ x)/d(x) = A", "--var", "x:n", "--var", "A:m,n")
    assert code == 0
    assert out.startswith("HOLDS") and "symbolic: proved" in out and "numeric:  agrees" in out


def test_fails_exits_1_with_a_counterexample(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "verify", "d(x.T @ A @ x)/d(x) = 2 * x.T @ A",
                       "--var", "x:n", "--var", "A:n,n")
    assert code == 1
    assert out.startswith("FAILS") and "counterexample (exact" in out and "true value" in out


def test_assume_makes_it_hold(capsys: pytest.CaptureFixture) -> None:
    code, _, _ = run(capsys, "verify", "d(x.T @ A @ x)/d(x) = 2 * x.T @ A",
                     "--var", "x:n", "--var", "A:n,n", "--assume", "A:symmetric")
    assert code == 0


def test_ill_formed_exits_1(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "verify", "d(norm(x)**2)/d(x) = 2 * x", "--var", "x:n")
    assert code == 1 and out.startswith("ILL-FORMED") and "denominator" in out
    code, _, _ = run(capsys, "verify", "d(norm(x)**2)/d(x) = 2 * x", "--var", "x:n",
                     "--layout", "denominator")
    assert code == 0


def test_json(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "verify", "d(A @ X @ B)/d(X) = kron(B.T, A)", "--var", "A:m,n",
                       "--var", "X:n,p", "--var", "B:p,q", "--layout", "vec", "--json",
                       "--seed", "3", "--size", "q=2")
    document = json.loads(out)
    assert code == 0 and document["status"] == "holds" and document["layout"] == "vec"
    assert document["symbolic"]["sizes"]["q"] == 2


@pytest.mark.parametrize("identity, position", [
    ("d(x)/d(x) = __import__('os').system('touch PWNED')", 12),
    ("d(x)/d(x) = x.__class__", 13),
    ("d(x)/d(x) = (lambda: 1)()", 13),
    ("d(tarce(x))/d(x) = 1", 2),
    ("d(y)/d(x) = 1", 2),
    ("d(x)/d(x)", 9),
    ("d(x)/d(x) = (eye(n)", 12),
    ("d(x ** 10**100)/d(x) = x", 11),
    ("d(x)/d(x) = eye(1000000000)", 16),
    ("(" * 1000 + "x" + ")" * 1000 + " = x", 60),
    ("x" * 1_000_000 + " = x", 4000),
])
def test_bad_input_exits_2_with_one_line_naming_the_position(
        capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        identity: str, position: int) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "verify", identity, "--var", "x:n")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("matcalc: error: ")
    assert f"(at position {position})" in err
    assert not (tmp_path / "PWNED").exists()


def test_bad_declarations_exit_2(capsys: pytest.CaptureFixture) -> None:
    for argv in (["--var", "x"], ["--var", "x:n", "--assume", "x:spd"],
                 ["--var", "x:n", "--size", "n=lots"], ["--var", "x:n", "--var", "x:m"],
                 # the newcomer's: two sizes for one name, an assumption with no tag
                 ["--var", "x:n", "--size", "n=3", "--size", "n=4"],
                 ["--var", "x:n", "--assume", "x:"]):
        code, _, err = run(capsys, "verify", "d(sum(x))/d(x) = ones(n).T", *argv)
        assert code == 2 and err.startswith("matcalc: error: "), argv


def test_bad_input_as_json(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "verify", "d(x)/d(x) = tarce(x)", "--var", "x:n", "--json")
    error = json.loads(out)["error"]
    assert code == 2
    assert error == {"type": "UnknownNameError", "message": "unknown function 'tarce'",
                     "position": 12, "token": "tarce", "hint": "did you mean 'trace'?"}


def test_undecided_exits_3(capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, "verify", "d(logdet(X))/d(X) = inv(X)", "--var", "X:n,n",
                       "--assume", "X:spd", "--size", "n=5", "--timeout", "0.001",
                       "--method", "symbolic")
    assert code == 3 and "gave up" in err


def test_the_installed_command() -> None:
    exe = shutil.which("matcalc") or str(Path(sys.executable).parent / "matcalc")
    help_text = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True)
    assert "verify" in help_text.stdout
    result = subprocess.run([sys.executable, "-m", "matcalc", "verify", "d(s**2)/d(s) = 2*s",
                             "--var", "s:"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_engines_load_only_when_a_stage_needs_them() -> None:
    """Parsing and bad input never pay for importing torch or SymPy; a stage
    imports its engine before starting its clock, so its reported time and
    its time budget are spent on its own work."""
    script = (
        "import sys, matcalc\n"
        "from matcalc.errors import MatcalcError\n"
        "try:\n"
        "    matcalc.verify('d(x)/d(x) = eye(n', vars={'x': 'n'})\n"
        "except MatcalcError:\n"
        "    pass\n"
        "assert 'torch' not in sys.modules and 'sympy' not in sys.modules\n"
        "from matcalc._lazy import load, torch\n"
        "load(torch)\n"
        "assert 'torch' in sys.modules and 'sympy' not in sys.modules\n"
        "assert torch.float64 is sys.modules['torch'].float64\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_unbalanced_parentheses_name_the_parenthesis(capsys: pytest.CaptureFixture) -> None:
    """The newcomer's: the error named the '=' the parser ran into, not the '(' left
    open at position 1 (or the stray ')' at 14), counted by hand."""
    for text, where in (("d(x.T @ A @ x/d(x) = 2 * x.T @ A", "'(' is never closed (at position 1)"),
                        ("d(x.T @ A @ x))/d(x) = 2 * x.T @ A",
                         "')' has no matching '(' (at position 14)")):
        code, _, err = run(capsys, "verify", text, "--var", "x:n", "--var", "A:n,n")
        assert code == 2 and where in err, err


def test_option_errors_are_one_line_with_a_suggestion(capsys: pytest.CaptureFixture) -> None:
    """The newcomer's: argparse printed its usage block (7 lines) for a misspelt
    choice; bad options are bad input like any other: one line, exit 2."""
    for argv, hint in ((["--layout", "numerater"], "did you mean 'numerator'?"),
                       (["--seed", "abc"], "invalid int value: 'abc'")):
        with pytest.raises(SystemExit) as stop:  # argparse exits; the console script too
            main(["verify", "d(A @ x)/d(x) = A", "--var", "x:n", "--var", "A:n,n", *argv])
        out, err = capsys.readouterr()
        assert stop.value.code == 2 and not out and err.count("\n") == 1, err
        assert err.startswith("matcalc: error: ") and hint in err, err
