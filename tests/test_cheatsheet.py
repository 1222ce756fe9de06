"""The generated cheat sheets: current, complete, self-contained, and rendered by a browser."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from matcalc.rendering.cheatsheet import SHEETS, render
from matcalc.tablecheck import EntryResult
from matcalc.rendering.notation import latex, mathml
from matcalc.parsing import parse_expression, parse_shape, scope_from
from matcalc.tables import Tables

DOCS = Path(__file__).resolve().parent.parent / "docs"
REGENERATE = "matcalc cheatsheet --all docs/"


@pytest.mark.parametrize("name", sorted(SHEETS))
def test_committed_sheets_are_current(name: str, tables: Tables,
                                      table_results: dict[str, EntryResult]) -> None:
    fmt, lang, essentials = SHEETS[name]
    expected = render(tables, table_results, fmt, lang, essentials)
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == expected, f"docs/{name} is stale: run `{REGENERATE}`"


def test_every_entry_is_on_the_sheet(tables: Tables,
                                     table_results: dict[str, EntryResult]) -> None:
    page = render(tables, table_results, "html", "en")
    for entry in tables:
        assert f'id="{entry.key}"' in page, entry.key
    assert 'class="failed"' not in page  # every entry verified
    assert 'id="pitfalls"' in page


def test_the_html_is_self_contained(tables: Tables,
                                    table_results: dict[str, EntryResult]) -> None:
    page = render(tables, table_results, "html", "en")
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert "@import" not in page


def test_the_chinese_sheet_uses_chinese_headings(tables: Tables,
                                                table_results: dict[str, EntryResult]) -> None:
    page = render(tables, table_results, "md", "zh")
    assert "# 矩阵求导速查表" in page and "分子布局 ∂y/∂x" in page and "向量→标量微分" in page


CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize("essentials", [False, True])
def test_the_english_sheet_has_no_chinese_and_readable_citations(
        tables: Tables, table_results: dict[str, EntryResult], essentials: bool) -> None:
    for fmt in ("md", "html"):
        page = render(tables, table_results, fmt, "en", essentials)
        assert not CJK.search(page), CJK.search(page)
        assert ".txt" not in page and "notes/0" not in page
        assert "D2L §2.4 Calculus (study notes 001 §3.1" in page


def test_the_chinese_sheet_is_chinese_throughout(tables: Tables,
                                                 table_results: dict[str, EntryResult]) -> None:
    page = render(tables, table_results, "md", "zh")
    for english in ("numerator:", "(denominator)", "Source:", "assuming", " spd", "checked on",
                    "study notes", "D2L §2.4 Calculus"):
        assert english not in page, english
    assert "D2L §2.4 微积分（学习笔记 001 §3.1" in page and "勘误" in page


def test_no_code_in_the_tables(tables: Tables, table_results: dict[str, EntryResult]) -> None:
    """Formulas are typeset (also the ill-typed published claims), never shown as code."""
    page = render(tables, table_results, "html", "en")
    text = re.sub(r"<math.*?</math>|<style>.*?</style>|<[^>]+>", "", page, flags=re.S)
    assert "@" not in text and not re.search(r"\w\.T\b", text) and "<code>" not in \
        page.split("</p>", 1)[1]


def test_the_essentials(tables: Tables, table_results: dict[str, EntryResult]) -> None:
    page = render(tables, table_results, "html", "en", essentials=True)
    for section in ("notes-3.1", "notes-3.3", "notes-3.4", "notes-3.5", "notes-errata"):
        assert f'id="{section}"' in page
    assert 'id="cookbook-2.4"' not in page and 'id="pitfalls"' not in page
    assert "numerator ∂y/∂x" in page and "denominator ∂y/∂x" in page
    zh = render(tables, table_results, "md", "zh", essentials=True)
    assert "勘误" in zh and "分母布局 ∂y/∂x" in zh


def test_every_erratum_and_autograd_example_is_on_both_sheets(
        tables: Tables, table_results: dict[str, EntryResult]) -> None:
    for lang in ("en", "zh"):
        page = render(tables, table_results, "html", lang)
        for section in tables.sections:
            for record in (*section.autograd, *section.errata):
                assert f'id="{record.key}"' in page, record.key
        assert "✗ !!" not in page and "!! " not in page


def test_costs_of_the_accumulation_orders() -> None:
    from matcalc.declarations import declare
    from matcalc.rendering.sheet_records import multiplications

    scope = declare({"A": "k n", "x": "n"}).scope("numerator")
    forward = parse_expression("ones(k).T @ (diag(1 - tanh(A @ x)**2) @ A)", scope)
    reverse = parse_expression("(ones(k).T @ diag(1 - tanh(A @ x)**2)) @ A", scope)
    assert str(multiplications(forward)) == "k**2*n + k*n"
    assert str(multiplications(reverse)) == "k**2 + k*n"


def test_names_are_names() -> None:
    scope = scope_from({"lam": parse_shape(""), "w": parse_shape("n"), "lr": parse_shape(""),
                        "x1": parse_shape("n")})
    assert latex(parse_expression("2 * lam * w", scope)) == r"2 \lambda \mathbf{w}"
    assert "<mi>λ</mi>" in mathml(parse_expression("lam * w", scope))
    assert latex(parse_expression("lr * w", scope)) == r"\mathrm{lr} \mathbf{w}"
    assert latex(parse_expression("x1", scope)) == r"\mathbf{x}_{1}"


def test_notation() -> None:
    scope = scope_from({"x": parse_shape("n"), "A": parse_shape("n n"), "s": parse_shape("")})
    cases = {
        "x.T @ (A + A.T)": r"\mathbf{x}^{\top}\left(\mathbf{A}+ \mathbf{A}^{\top}\right)",
        "inv(A).T": r"\mathbf{A}^{- \top}",
        "norm(x)**2": r"\left\lVert \mathbf{x}\right\rVert^{2}",
        "ones(n).T": r"\mathbf{1}_{n}^{\top}",
        "d(s**2)/d(s)": r"\frac{\partial}{\partial s}\left(s^{2}\right)",
    }
    for text, expected in cases.items():
        assert latex(parse_expression(text, scope)) == expected
    assert "<mfrac>" in mathml(parse_expression("d(x.T @ A @ x)/d(x)", scope))
    assert "𝐀" in mathml(parse_expression("A", scope))  # bold, as the notes write matrices


# ---------------------------------------------------------------------------
# A real browser looks at it.

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
PROBE = """<script>
window.addEventListener('load', () => {
  const maths = [...document.querySelectorAll('math')];
  const probe = {
    count: maths.length,
    boxes: maths.filter(m => m.closest('td.note') === null)
                .map(m => { const r = m.getBoundingClientRect();
                            return [r.width, r.height, m.querySelector('mfrac') !== null]; }),
    text: document.body.innerText,
    window: document.documentElement.clientWidth,
    scroll: document.documentElement.scrollWidth,
    wide: [...document.querySelectorAll('body *')]
            .filter(e => { const r = e.getBoundingClientRect();
                           return r.right > document.documentElement.clientWidth + 0.5
                                  || r.left < -0.5; })
            .map(e => e.tagName + ' in ' + (e.closest('[id]') || {id: '?'}).id).slice(0, 10),
    tables: [...document.querySelectorAll('table')]
              .map(t => [Math.round(t.getBoundingClientRect().right),
                         (t.querySelector('tr[id]') || {id: '?'}).id]),
  };
  const out = document.createElement('pre');
  out.id = 'matcalc-probe';
  out.textContent = JSON.stringify(probe);
  document.body.appendChild(out);
});
</script>"""


def _browser(tmp_path: Path, args: list[str], url: str) -> str:
    profile = tmp_path / "profile"
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("MATCALC_REQUIRE_BROWSER"),
                    reason="chromium is not installed (CI installs it)")
@pytest.mark.parametrize("name", ["cheatsheet.html", "cheatsheet.zh.html"])
def test_formulas_render_in_headless_chromium(name: str, tmp_path: Path) -> None:
    assert CHROMIUM, "MATCALC_REQUIRE_BROWSER is set but chromium is missing"
    source = (DOCS / name).read_text(encoding="utf-8")
    probed = tmp_path / name
    probed.write_text(source.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _browser(tmp_path, ["--window-size=1280,900", "--virtual-time-budget=5000",
                              "--dump-dom"], probed.as_uri())
    match = re.search(r'<pre id="matcalc-probe">(.*?)</pre>', dom, re.S)
    assert match, "the probe did not run"
    probe = json.loads(html.unescape(match.group(1)))
    assert probe["count"] == source.count("<math") > 100
    assert probe["window"] == 1280
    assert not probe["wide"] and probe["scroll"] <= probe["window"], \
        f"wider than a 1280 px window: {probe['wide']}"
    widths = [w for w, _, _ in probe["boxes"]]
    assert min(widths) > 4, "a formula rendered with no width"
    fractions = [h for _, h, has_frac in probe["boxes"] if has_frac]
    others = sorted(h for _, h, has_frac in probe["boxes"] if not has_frac)
    assert fractions and others
    fractions.sort()
    assert fractions[len(fractions) // 2] > 1.5 * others[len(others) // 2] \
        and fractions[0] > 1.25 * others[len(others) // 2], \
        "fractions are not stacked above their denominators: MathML did not render"
    text = probe["text"]
    for raw in ("<mi", "<mfrac", "\\frac", "\\mathbf", "$"):
        assert raw not in text, f"raw markup {raw!r} shows on the page"
    shot = tmp_path / (name + ".png")
    _browser(tmp_path, [f"--screenshot={shot}", "--window-size=1300,2000"],
             (DOCS / name).as_uri())
    assert shot.stat().st_size > 50_000


def _printed_pages(tmp_path: Path, page: Path) -> int:
    """Print ``page`` to PDF (A4 by the sheet's @page rule) and count its pages."""
    pdf = tmp_path / (page.name + ".pdf")
    _browser(tmp_path, ["--no-pdf-header-footer", f"--print-to-pdf={pdf}"], page.as_uri())
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("MATCALC_REQUIRE_BROWSER"),
                    reason="chromium is not installed (CI installs it)")
@pytest.mark.parametrize("name", ["essentials.html", "essentials.zh.html"])
def test_the_essentials_fit_two_a4_pages_and_the_window(name: str, tmp_path: Path) -> None:
    assert CHROMIUM, "MATCALC_REQUIRE_BROWSER is set but chromium is missing"
    source = (DOCS / name).read_text(encoding="utf-8")
    assert "@page { size: A4" in source
    pages = _printed_pages(tmp_path, DOCS / name)
    assert 1 <= pages <= 2, f"{name} prints on {pages} A4 pages"
    probed = tmp_path / name
    probed.write_text(source.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _browser(tmp_path, ["--window-size=1280,900", "--virtual-time-budget=5000",
                              "--dump-dom"], probed.as_uri())
    probe = json.loads(html.unescape(re.search(r'<pre id="matcalc-probe">(.*?)</pre>', dom,
                                               re.S).group(1)))
    assert not probe["wide"] and probe["scroll"] <= probe["window"] == 1280



A4_CONTENT_PX = 718  # 210 mm − 2 × 10 mm margins (the sheet's @page rule), at 96 px per inch


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("MATCALC_REQUIRE_BROWSER"),
                    reason="chromium is not installed (CI installs it)")
@pytest.mark.parametrize("name", ["cheatsheet.html", "cheatsheet.zh.html", "essentials.html",
                                  "essentials.zh.html"])
def test_nothing_is_wider_than_an_a4_page(name: str, tmp_path: Path) -> None:
    """The print style laid out at the width of A4's printable area: no table may
    be cut at the page edge. (Headless Chromium cannot measure a printed page, so
    the print rules are applied on screen at that width.)"""
    assert CHROMIUM, "MATCALC_REQUIRE_BROWSER is set but chromium is missing"
    source = (DOCS / name).read_text(encoding="utf-8")
    assert "@media print" in source and "margin: 11mm 10mm" in source
    printed = source.replace("@media print", "@media all").replace(
        "</style>", f"body {{ width: {A4_CONTENT_PX}px !important; margin: 0 !important; }}"
                    "</style>")
    probed = tmp_path / name
    probed.write_text(printed.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _browser(tmp_path, [f"--window-size={A4_CONTENT_PX + 20},900",
                              "--virtual-time-budget=5000", "--dump-dom"], probed.as_uri())
    probe = json.loads(html.unescape(re.search(r'<pre id="matcalc-probe">(.*?)</pre>', dom,
                                               re.S).group(1)))
    assert probe["count"] > 50 and probe["tables"]
    wide = [(right, row) for right, row in probe["tables"] if right > A4_CONTENT_PX]
    assert not wide, f"tables wider than A4's printable width: {wide}"


def test_the_essentials_from_the_command_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    """`matcalc cheatsheet --essentials`, here on copies of the notes' core tables."""
    from matcalc.cli import main
    from matcalc.tables import table_text

    files = []
    for name in ("notes_3_1_scalar_by_vector.toml", "notes_3_5_chain_rule.toml",
                 "notes_errata.toml", "cookbook_2_6_norms.toml"):
        path = tmp_path / name
        path.write_text(table_text(name), encoding="utf-8")
        files.append(str(path))
    out = tmp_path / "essentials.html"
    assert main(["cheatsheet", *files, "--essentials", "--format", "html", "--lang", "zh",
                 "-o", str(out), "--jobs", "1"]) == 0
    page = out.read_text(encoding="utf-8")
    assert 'id="notes-3.1"' in page and 'id="notes-errata"' in page
    assert 'id="cookbook-2.6"' not in page  # not one of the essentials
    assert "矩阵求导要点" in page and "勘误" in page
    assert main(["cheatsheet", files[0], "--essentials", "--jobs", "1"]) == 0
    assert capsys.readouterr().out.startswith("<!--")
