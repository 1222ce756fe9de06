"""The README is part of the product: its commands and examples must keep working."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest

from matcalc.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _block_after(marker: str) -> str:
    start = README.index(marker)
    match = re.compile(r"```(?:sh|text)\n(.*?)```", re.S).search(README, start)
    assert match, marker
    return match.group(1)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = _block_after("Set up and run the whole test suite").strip()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert command in ci


def test_the_setup_command_runs_a_real_verification(capsys: pytest.CaptureFixture) -> None:
    """The README's first command installs matcalc and verifies a claim; the
    verification it runs is run here, through the installed command's entry point
    (``matcalc = "matcalc.cli:main"``), and must hold. (Installing into a fresh
    environment is tested by tests/test_packaging.py.)"""
    command = _block_after("Set up and run a verification").strip()
    assert "pip install" in command and "-c constraints.txt" in command
    assert 'matcalc = "matcalc.cli:main"' in (ROOT / "pyproject.toml").read_text()
    steps = [step.strip() for step in command.split("&&")]
    run = shlex.split(steps[-1])
    assert run[:2] == [".venv/bin/matcalc", "verify"]
    code = main(run[1:])
    out = capsys.readouterr().out
    assert out.split()[0] == "HOLDS" and code == 0, out


EXAMPLES = [line for line in _block_after("## Examples").splitlines() if line.strip()]


@pytest.mark.parametrize("line", EXAMPLES, ids=[e.split("#")[0][15:60] for e in EXAMPLES])
def test_readme_examples(line: str, capsys: pytest.CaptureFixture) -> None:
    command, _, expected = line.rpartition("#")
    argv = shlex.split(command)
    assert argv[0] == "matcalc"
    code = main(argv[1:])
    out = capsys.readouterr().out
    assert out.split()[0] == expected.strip().upper()
    assert code == (0 if expected.strip() == "holds" else 1)


SESSIONS = re.findall(r"```text\n\$ (matcalc .*?)\n(.*?)```", README, re.S)


@pytest.mark.parametrize("command, shown", SESSIONS, ids=[c[:60] for c, _ in SESSIONS])
def test_readme_sample_outputs(command: str, shown: str, capsys: pytest.CaptureFixture) -> None:
    """Each ``$ matcalc ...`` block shows lines of the real output, in order: a
    line ending in ``...`` is a prefix of one, a line ``...`` stands for any
    lines (the seeded counterexample is the one printed, every time)."""
    argv = shlex.split(command)
    main(argv[1:])
    actual = capsys.readouterr().out.splitlines()
    at = 0
    for line in shown.rstrip("\n").splitlines():
        if line.strip() == "...":
            continue
        prefix = line.endswith(", ...")
        want = line[:-len(", ...")] if prefix else line
        while at < len(actual) and not (actual[at].startswith(want) if prefix
                                        else actual[at] == want):
            at += 1
        assert at < len(actual), f"README line not in the output, in order: {line!r}\n" + \
            "\n".join(actual)
        at += 1


def test_readme_python_session() -> None:
    failures, tried = doctest.testfile(str(ROOT / "README.md"), module_relative=False)
    assert tried > 0 and failures == 0


STRENGTH_EXAMPLES = [line for line in _block_after("## How strong is a holds").splitlines()
                     if line.strip()]


def _strength_params() -> list:
    from test_traps import KNOWN_OPEN  # the trap corpus says which verdicts are still wrong

    params = []
    for line in STRENGTH_EXAMPLES:
        open_trap = "--size" not in line and "-det(X)'" in line and "det-neg" in KNOWN_OPEN
        marks = [pytest.mark.xfail(strict=True, reason="known open: trap det-neg")] \
            if open_trap else []
        params.append(pytest.param(line, marks=marks, id=line.split("#")[1].strip()))
    return params


@pytest.mark.parametrize("line", _strength_params())
def test_readme_strength_examples(line: str, capsys: pytest.CaptureFixture) -> None:
    command, _, expected = line.rpartition("#")
    status, _, scope = expected.strip().partition(" ")
    code = main(shlex.split(command)[1:])
    out = capsys.readouterr().out
    assert code == {"holds": 0, "fails": 1, "undecided": 3}[status]
    if status != "undecided":
        assert out.startswith(f"{status.upper()} {scope}".strip())


# ---------------------------------------------------------------------------
# The design document: cited by the code, linked from the README

DESIGN = ROOT / "docs" / "design.md"
CITED_FILES = [*ROOT.glob("matcalc/**/*.py"), *ROOT.glob("tests/*.py"),
               *ROOT.glob("scripts/*.py"), *ROOT.glob("benchmarks/*.py"), ROOT / "README.md",
               DESIGN]


def test_the_readme_links_the_design_document() -> None:
    assert "(docs/design.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_cited_design_section_exists() -> None:
    import re

    sections = set(re.findall(r"^## §(\d+) ", DESIGN.read_text(encoding="utf-8"), re.M))
    cited = {(path.name, number) for path in CITED_FILES
             for number in re.findall(r"design\.md`{0,2}\s+§(\d+)", path.read_text(encoding="utf-8"))}
    assert cited, "no citation found: the pattern is wrong"
    assert sorted((name, n) for name, n in cited if n not in sections) == []


def test_no_document_outside_the_repository_is_cited() -> None:
    """Comments cite docs/ (``docs/design.md §N``), never a document that only the
    developers have."""
    outside = ("SP" + "EC section", "SP" + "EC's", "../" + "shared")
    found = [(path.name, needle) for path in CITED_FILES
             for needle in outside if needle in path.read_text(encoding="utf-8")]
    assert found == []
