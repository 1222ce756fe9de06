"""The package's structure: layers whose imports point down, no cycles, small modules.

The import graph is read from the source (every ``import`` statement, those inside
functions included; only the ones under ``if TYPE_CHECKING:`` are left out, since
they never run). ``docs/design.md`` §5 describes the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "matcalc"

#: the layers, lowest first; a module may import only from its own layer or below
LAYERS: dict[str, tuple[str, ...]] = {
    "foundation": ("_version", "errors", "limits", "budget", "_lazy", "evidence", "symarrays",
                   "surface", "options", "tomlfields"),
    "language": ("shapes", "layout", "conditioning", "ops", "expr", "tokens", "scope", "parsing",
                 "assumptions", "declarations"),
    "engines": ("symbolic", "zerotest", "residues", "fields", "degreebounds", "linalg", "jets",
                "pointtest", "agreement", "kinks", "sizekinks", "autodiff", "torcheval", "numeric"),
    "calculus": ("rewrites", "simplify", "calculus", "closedform", "subexpressions", "strength"),
    "formats": ("rendering", "rendering.text", "rendering.notation", "rendering.jsondoc", "rendering.formula",
                "rendering.latex", "rendering.code"),
    "judgement": ("verdict", "derivation", "mismatch", "engines"),
    "features": ("diagnosis", "tables", "records", "autograd", "tablecheck", "parallel",
                 "userfunc", "gradcheck"),
    "api": ("api", "testing"),
    "surfaces": ("rendering.cheatsheet", "rendering.sheet_model", "rendering.sheet_records",
                 "rendering.sheet_labels", "rendering.sheet_html", "cli", "__main__", ""),
}
LAYER_OF = {module: index for index, modules in enumerate(LAYERS.values()) for module in modules}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name below ``matcalc`` ("" for the package)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of import nodes under ``if TYPE_CHECKING:``."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    return skipped


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that module ``name`` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "":
        package = []
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "matcalc" or alias.name.startswith("matcalc."):
                    out.add(alias.name.removeprefix("matcalc").lstrip("."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package[:len(package) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            elif node.module and (node.module == "matcalc" or node.module.startswith("matcalc.")):
                base = node.module.removeprefix("matcalc").lstrip(".")
            else:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}".lstrip(".")
                out.add(sub if sub in known else base)
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_reader_sees_function_level_imports() -> None:
    graph = import_graph()
    assert "diagnosis" in graph["api"]  # imported inside verify()
    assert "symbolic" in graph["engines"]  # imported inside methods
    assert "verdict" not in graph["rendering.text"]  # only under TYPE_CHECKING
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(import_graph()) == []


def test_every_module_has_a_layer() -> None:
    assert sorted(set(modules()) - set(LAYER_OF)) == []
    assert sorted(set(LAYER_OF) - set(modules())) == []


def test_imports_point_down_the_layers() -> None:
    names = list(LAYERS)
    upward = [f"{m} ({names[LAYER_OF[m]]}) imports {t} ({names[LAYER_OF[t]]})"
              for m, targets in import_graph().items() for t in sorted(targets)
              if LAYER_OF[t] > LAYER_OF[m]]
    assert upward == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_over_600_lines(name: str) -> None:
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"matcalc/{name or '__init__'} has {lines} lines"


def test_no_test_only_code_in_the_package() -> None:
    """Test helpers (fuzzing, seed sweeps) live in tests/; nothing in the package
    imports a test framework or patches the interpreter."""
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        for needle in ("import pytest", "import hypothesis", "sys._getframe", "builtins."):
            assert needle not in text, f"matcalc/{name}: {needle}"


ROOT = PACKAGE.parent
#: modules outside the package whose names count as ours (test helpers)
LOCAL_HELPERS = ("fuzzing", "tablehelpers")


def _private(name: str) -> bool:
    """``_name`` is private; ``__dunder__`` and protocol names such as
    ``_repr_html_`` are not."""
    return name.startswith("_") and not name.endswith("_")


def private_uses(path: Path) -> list[str]:
    """Private names of matcalc's modules (or the test helpers) that ``path``
    imports, or reads as an attribute of an imported module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if not (node.level or module.split(".")[0] in ("matcalc", *LOCAL_HELPERS)):
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}")
                ours.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("matcalc", *LOCAL_HELPERS):
                    ours.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in ours):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} reads {node.value.id}.{node.attr}")
    return found


def test_no_private_name_is_used_outside_its_module() -> None:
    """Code and tests go through public names: a private one (``_name``) may change
    without notice, so nothing outside its module may import or read it."""
    paths = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").glob("*.py"),
             *(ROOT / "scripts").glob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    assert [use for path in sorted(paths) for use in private_uses(path)] == []


# ---------------------------------------------------------------------------
# Tables keyed by operation name: complete, or the gap stated here


#: per table, the registered operations that deliberately have no entry in it, and why
NO_RULE: dict[str, dict[str, str]] = {
    "calculus.REVERSE": {
        "eye": "a constant: no operand", "ones": "a constant: no operand",
        "zeros": "a constant: no operand",
        "kron": "no gradient rule yet: derive reports no closed form",
        "vec": "no gradient rule yet: derive reports no closed form",
    },
    "calculus.TANGENT": {
        "eye": "a constant: no operand", "ones": "a constant: no operand",
        "zeros": "a constant: no operand",
    },
    "calculus.JACOBIAN": {
        "eye": "a constant: no operand", "ones": "a constant: no operand",
        "zeros": "a constant: no operand",
        "diag": "no vec-Jacobian rule yet: derive reports no closed form",
        "kron": "no vec-Jacobian rule yet: derive reports no closed form",
    },
}


def _rule_tables() -> dict[str, dict[str, object]]:
    from matcalc import calculus

    return {"calculus.REVERSE": calculus.REVERSE, "calculus.TANGENT": calculus.TANGENT,
            "calculus.JACOBIAN": calculus.JACOBIAN}


@pytest.mark.parametrize("table", sorted(NO_RULE))
def test_every_operation_has_a_rule_or_a_stated_gap(table: str) -> None:
    """Adding an operation fails here until each rule table has it (or says why not)."""
    from matcalc.ops import REGISTRY

    rules = _rule_tables()[table]
    gaps = NO_RULE[table]
    assert sorted(set(REGISTRY) - set(rules) - set(gaps)) == [], f"{table}: no rule"
    assert sorted(set(rules) & set(gaps)) == [], f"{table}: a rule and a stated gap"
    assert sorted((set(rules) | set(gaps)) - set(REGISTRY)) == [], f"{table}: not an operation"


def test_the_engines_agree_on_which_operations_have_a_domain() -> None:
    """An operation with a domain guard for the numeric sampler (ops.py) has the
    matching conditions for the exact engine (symbolic.DOMAINS), and only those."""
    from matcalc.ops import REGISTRY
    from matcalc.symbolic import DOMAINS

    guarded = {name for name, op in REGISTRY.items() if op.guard is not None}
    assert set(DOMAINS) == guarded


def test_public_class_names_are_unique() -> None:
    """One name, one class: no two modules define a public class of the same name."""
    seen: dict[str, list[str]] = {}
    for name, path in modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                seen.setdefault(node.name, []).append(name)
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}


def test_the_design_document_states_these_layers() -> None:
    """docs/design.md §5 shows the same layer table as LAYERS."""
    import re

    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = text[text.index("## §5 "):text.index("## §6 ")]
    documented = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in LAYERS:
            names = re.findall(r"`([^`]+)`", cells[1])  # `__init__` is the package ""
            documented[cells[0]] = sorted("" if n == "__init__" else n for n in names)
    assert documented == {layer: sorted(names) for layer, names in LAYERS.items()}
