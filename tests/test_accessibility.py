"""Accessibility of the exported reports without a browser: the export's edits (tab stops, table
regions, skip link, link to the index, method notes shipped and linked), the packaged copies of
the method notes, the run folder of the suite run, and the colours of the charts.

The browser checks (axe-core, reflow, print) are in tests/test_browser.py; the target and the
manual checks in docs/accessibility.md.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from ixl_eval import caveat_pages
from ixl_eval.paths import REPO_ROOT
from ixl_eval.runner import _reader_page

_DOC = """<!DOCTYPE html><html lang="{lang}"><head><title>t</title></head><body class="jp-Notebook"><main>
<div class="jp-Cell"><div class="jp-OutputArea-output" tabindex="0"><h1>Titolo</h1></div></div>
<div class="jp-Cell"><div class="jp-OutputArea-output jp-RenderedHTMLCommon" tabindex="0">
<table class="ixl-table"><caption>Iscritti per anno</caption><tr><th>a</th></tr><tr><td>1</td></tr></table>
<table><tr><td>x</td></tr></table>
<div class="ixl-table-wrap" role="region" tabindex="0" aria-label="Già avvolta"><table><tr><td>y</td></tr></table></div>
<p>Dettagli in docs/caveats/tempo-inserimento.md e in docs/caveats/non-esiste.md.</p></div></div>
</main></body></html>"""


@pytest.mark.parametrize("lang", ["it", "en"])
def test_reader_page(tmp_path, lang):
    out = _reader_page(_DOC.format(lang=lang), lang, "tempo_inserimento", tmp_path, "/* css */")
    soup = BeautifulSoup(out, "html.parser")
    # no tab stop on nbconvert's output containers
    assert not [e for e in soup.find_all(attrs={"tabindex": True}) if "jp-OutputArea-output" in e.get("class", [])]
    # every table in one labelled, focusable region; an existing region is kept, not doubled
    wraps = soup.select("div.ixl-table-wrap")
    assert len(wraps) == 3 and all(w.get("role") == "region" and w.get("tabindex") == "0" for w in wraps)
    assert [w["aria-label"] for w in wraps] == ["Iscritti per anno", f"{'Tabella' if lang == 'it' else 'Table'} 2",
                                               "Già avvolta"]
    assert all(len(w.find_all("table")) == 1 for w in wraps)
    # skip link first, then the link back to the index and to the method note
    first = [c for c in soup.body.children if getattr(c, "name", None)][:2]
    assert first[0].name == "a" and "ixl-skip" in first[0]["class"] and first[0]["href"] == "#contenuto"
    assert first[0].get_text() == ("Vai al contenuto" if lang == "it" else "Skip to content")
    assert soup.main["id"] == "contenuto" and soup.main["tabindex"] == "-1"
    nav_links = [a["href"] for a in first[1].find_all("a")]
    assert nav_links == ["index.html", "caveats/tempo-inserimento.html"]
    assert first[1].a.get_text() == ("← Indice dell'esecuzione" if lang == "it" else "← Run index")
    # the citation is a link; an unknown note stays text
    cite = soup.find("a", string="docs/caveats/tempo-inserimento.md")
    assert cite is not None and cite["href"] == "caveats/tempo-inserimento.html"
    assert "docs/caveats/non-esiste.md" in soup.get_text() and soup.find("a", string="docs/caveats/non-esiste.md") is None
    # the note is shipped, in English, with its way back
    page = (tmp_path / "caveats" / "tempo-inserimento.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and 'href="../index.html"' in page and "/* css */" in page
    assert sorted(p.name for p in (tmp_path / "caveats").iterdir()) == ["tempo-inserimento.html"]


def test_packaged_method_notes_match_docs():
    """The copies in ixl_eval/caveats/ (what a wheel ships) are docs/caveats/ as it is."""
    docs = REPO_ROOT / "docs" / "caveats"
    if not docs.is_dir():
        pytest.skip("no checkout (docs/caveats/ absent)")
    pkg = caveat_pages.PACKAGED_DIR
    a = {p.name: p.read_bytes() for p in docs.glob("*.md")}
    b = {p.name: p.read_bytes() for p in pkg.glob("*.md")}
    stale = sorted(n for n in a.keys() | b.keys() if a.get(n) != b.get(n))
    assert not stale, f"ixl_eval/caveats/ differs from docs/caveats/ for {stale}: run `make caveats` and commit"


def test_method_notes_render_from_the_package_copy(monkeypatch):
    """Installed from a wheel (no docs/ beside the package), the notes come from package data."""
    monkeypatch.setattr(caveat_pages, "caveats_dir", lambda: caveat_pages.PACKAGED_DIR)
    assert caveat_pages.available() >= {"panoramica", "tempo-inserimento", "efficacia-ips", "stabilizzazione",
                                        "monitoraggio"}
    html = caveat_pages.page("monitoraggio", "", "it")
    assert 'href="panoramica.html"' in html and "<table>" in html and 'lang="it"' in html
    assert caveat_pages.cited_by("monitoraggio_trimestrale") == ["monitoraggio", "panoramica"]


@pytest.mark.slow
def test_run_folder_markup(suite_run):
    """The suite run's files: banner as a note, not an alert; no tab stop left on outputs; notes
    shipped. (A parameter set describes itself in its report language: params/default.yaml in
    Italian, params/english.yaml in English.)"""
    d = suite_run.run_dir
    index = (d / "index.html").read_text(encoding="utf-8")
    assert 'class="ixl-skip"' in index and 'id="contenuto"' in index
    for f in sorted(d.glob("*.html")):
        s = f.read_text(encoding="utf-8")
        assert not re.search(r'class="ixl-banner[^"]*" role="alert"', s), f"{f.name}: banner with role=alert"
        assert not re.search(r'class="[^"]*jp-OutputArea-output[^"]*"[^>]*tabindex', s), f"{f.name}: tabindex on output"
    for r in suite_run.notebooks:
        if r.html:
            for name in caveat_pages.cited_by(r.key):
                assert (d / "caveats" / f"{name}.html").exists()
                assert f'href="caveats/{name}.html"' in index


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours.

    >>> round(contrast("#000000", "#ffffff"), 1)
    21.0
    """
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_chart_colours_contrast_on_white():
    """WCAG 1.4.11 (graphical objects, 3:1) for the lines of the charts; the at-risk numbers under
    the curves are text in the same colours (1.4.3 asks 4.5:1 of text in an image)."""
    from ixl_eval.present import PALETTE

    low = {c: round(contrast(c, "#ffffff"), 2) for c in PALETTE if contrast(c, "#ffffff") < 3}
    assert not low, f"chart colours below 3:1 on white: {low}"
