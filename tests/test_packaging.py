"""The installed artifact, not the checkout: build the sdist and, from it, the
wheel; install the wheel into a fresh virtual environment outside the checkout
and run the command from there.

An editable install hides files that are missing from the wheel (the tables
once were); this test is what catches that. It needs the package index pip is
configured with (for setuptools, build and the dependencies) and takes a minute
or two, so it is marked ``slow``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from schemacheck import errors

import matcalc
from matcalc.rendering.jsondoc import schema

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DIST_NAME = PYPROJECT["project"]["name"]
# what a checkout holds that is not part of the project
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".hypothesis", "*.pyc")


def _run(argv: list[str | Path], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode in (0, 1, 2, 3), result.stderr
    return result


def _ok(argv: list[str | Path], cwd: Path, timeout: float = 900) -> str:
    result = _run(argv, cwd, timeout)
    assert result.returncode == 0, f"{argv}: exit {result.returncode}\n{result.stderr[-3000:]}"
    return result.stdout


def test_the_distribution_name_is_not_the_taken_one() -> None:
    assert DIST_NAME != "matcalc"  # the materials-science package on PyPI
    assert PYPROJECT["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"] == \
        "matcalc._version.__version__"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(sdist, wheel, work dir): built by ``python -m build`` from a clean copy
    of the source tree, the wheel from the sdist, as a release would be."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    tools = work / "tools"
    _ok([sys.executable, "-m", "venv", tools], work)
    _ok([tools / "bin" / "python", "-m", "pip", "install", "-q", "build"], work)
    _ok([tools / "bin" / "python", "-m", "build", "--outdir", work / "dist", source], work)
    sdists = list((work / "dist").glob("*.tar.gz"))
    wheels = list((work / "dist").glob("*.whl"))
    assert len(sdists) == len(wheels) == 1, list((work / "dist").iterdir())
    return sdists[0], wheels[0], work


@pytest.mark.slow
def test_the_wheel_carries_the_data_under_its_own_name(built: tuple[Path, Path, Path]) -> None:
    _, wheel, _ = built
    assert wheel.name.startswith(DIST_NAME.replace("-", "_") + "-" + matcalc.__version__ + "-")
    names = zipfile.ZipFile(wheel).namelist()
    tables = sorted(n for n in names if n.startswith("matcalc/data/tables/"))
    assert [Path(n).name for n in tables] == sorted(
        p.name for p in (ROOT / "matcalc" / "data" / "tables").glob("*.toml"))
    assert "matcalc/data/verdict.schema.json" in names and "matcalc/py.typed" in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Name: {DIST_NAME}\n" in text and "License-Expression: MIT" in text
    assert "Requires-Python: >=3.11" in text
    assert not any(n.startswith(("tests/", "docs/")) for n in names)


@pytest.mark.slow
def test_the_sdist_carries_the_tests_and_runs_them(built: tuple[Path, Path, Path]) -> None:
    sdist, _, work = built
    with tarfile.open(sdist) as archive:
        archive.extractall(work / "unpacked", filter="data")
    (top,) = (work / "unpacked").iterdir()
    for needed in ("LICENSE", "README.md", "constraints.txt", ".ci/run", "tests/data",
                   "docs/cheatsheet.html", "matcalc/data/tables", "pyproject.toml"):
        assert (top / needed).exists(), needed
    tracked = {p.relative_to(ROOT / "tests") for p in (ROOT / "tests").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and ".hypothesis" not in p.parts}
    shipped = {p.relative_to(top / "tests") for p in (top / "tests").rglob("*") if p.is_file()}
    assert tracked <= shipped, tracked - shipped
    # the whole suite collects from the unpacked sdist (every data file it reads at import)
    # and the quick checks of its documents pass there
    collected = _ok([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                     "no:cacheprovider"], top, timeout=300)
    assert " tests collected" in collected or "tests collected" in collected, collected[-500:]
    _ok([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_docs.py",
         "-k", "ci_runs or setup_command or python_session"], top, timeout=300)


@pytest.mark.slow
def test_the_installed_wheel_works_outside_the_checkout(built: tuple[Path, Path, Path]) -> None:
    _, wheel, work = built
    venv, away = work / "venv", work / "elsewhere"
    away.mkdir()
    _ok([sys.executable, "-m", "venv", venv], away)
    python, exe = venv / "bin" / "python", venv / "bin" / "matcalc"
    _ok([python, "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt", wheel], away)

    location = _ok([python, "-c", "import matcalc; print(matcalc.__file__)"], away).strip()
    assert Path(location).is_relative_to(venv), location
    assert _ok([exe, "--version"], away).strip() == f"matcalc {matcalc.__version__}"
    version = _ok([python, "-c", f"import importlib.metadata as m; print(m.version({DIST_NAME!r}))"],
                  away)
    assert version.strip() == matcalc.__version__

    out = _ok([exe, "verify", "d(logdet(X))/d(X) = inv(X)", "--var", "X:n,n", "--assume",
               "X:spd", "--layout", "denominator"], away)
    assert out.startswith("HOLDS")
    out = _ok([exe, "derive", "x.T @ A @ x", "--wrt", "x", "--var", "x:n", "--var", "A:n,n"],
              away)
    assert "x.T @ (A + A.T)" in out

    document = json.loads(_ok([exe, "check", "--json"], away, timeout=1200))
    assert errors(document, schema()) == [] and document["kind"] == "check"
    assert document["summary"]["failures"] == 0
    assert document["summary"]["entries"] == len(matcalc.load_tables()) == len(document["entries"])
    assert all(entry["status"] == "holds" for entry in document["entries"])

    _ok([exe, "cheatsheet", "--format", "html", "-o", away / "sheet.html"], away, timeout=1200)
    page = (away / "sheet.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<math" in page
    assert not (away / "matcalc").exists()  # nothing was read from a checkout here
