"""Every HTML file of one run, read in a real browser: headless Debian Chromium over its DevTools
protocol (``tests/browser/cdp.py``), with axe-core (npm, pinned in ``tests/browser/package-lock.json``).

Each page of the session's ``suite_run`` (reports, ``index.html``, ``caveats/*.html``) is opened
once per screen width (1366 px, a laptop; 683 px, the same laptop at 200% zoom) and once as
printed on A4; ``tests/browser/checks.py`` measures, the tests below judge. Install the browser
and axe-core with ``make browser-deps``. Without them these tests skip locally with the reason;
with ``CI=true`` they fail instead. Accessibility target and what is checked: docs/accessibility.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from cdp import find_chromium  # noqa: E402
from checks import AXE_JS, AXE_TAGS, PRINT_WIDTH_PX, WIDTHS, collect  # noqa: E402

pytestmark = pytest.mark.slow

ON_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _unavailable(what: str):
    msg = f"{what}: run `make browser-deps` (as root it installs the Debian package chromium; npm ci for axe-core)"
    if ON_CI:
        pytest.fail(f"CI=true and {msg}", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="module", params=["it", "en"])
def browser(request):
    """The measurements of every page of the suite run, Italian and English (one browser session
    per language)."""
    chromium = find_chromium()
    if chromium is None:
        _unavailable("Chromium not found (chromium / chromium-browser on PATH, or $CHROMIUM)")
    # after the check: a skip costs no run
    suite_run = request.getfixturevalue("suite_run" if request.param == "it" else "suite_run_en")
    res = collect(suite_run.run_dir, chromium, axe=AXE_JS.exists())
    res["run_dir"] = Path(suite_run.run_dir)
    print(f"\nbrowser checks of {len(res['pages'])} pages: {res['timings']['total_s']} s")
    return res


def _fmt(failures: list[str]) -> str:
    return f"{len(failures)} problem(s):\n  " + "\n  ".join(failures)


def test_every_page_is_checked(browser):
    pages = set(browser["pages"])
    assert "index.html" in pages
    assert any(p.startswith("caveats/") for p in pages), "no method note shipped to caveats/"
    assert len([p for p in pages if "/" not in p]) >= 2


@pytest.mark.parametrize("width", WIDTHS)
def test_no_console_errors(browser, width):
    bad = [f"{p} @{width}px: {e}" for p, d in browser["pages"].items() for e in d["screen"][width]["console_errors"]]
    bad += [f"{p} (print): {e}" for p, d in browser["pages"].items() for e in d["console_errors_print"]]
    assert not bad, _fmt(bad)


def test_links_and_anchors_resolve(browser):
    """Every href names a file of the run folder that exists, and every #anchor exists in its page."""
    run_dir = browser["run_dir"].resolve()
    ids = {p: set(d["screen"][WIDTHS[0]]["ids"]) for p, d in browser["pages"].items()}
    bad = []
    for page, d in browser["pages"].items():
        for href in d["screen"][WIDTHS[0]]["links"]:
            u = urlsplit(href)
            if u.scheme in ("http", "https", "mailto"):
                continue  # outside the run folder: not checkable offline
            if u.scheme:
                bad.append(f"{page}: unexpected link scheme {href!r}")
                continue
            if not u.path:
                target = page
            else:
                f = ((run_dir / page).parent / unquote(u.path)).resolve()
                if not f.exists():
                    bad.append(f"{page}: link to a missing file {href!r}")
                    continue
                try:
                    target = str(f.relative_to(run_dir))
                except ValueError:
                    bad.append(f"{page}: link outside the run folder {href!r}")
                    continue
            if u.fragment:
                if target not in ids:
                    bad.append(f"{page}: anchor into a page that is not HTML {href!r}")
                elif unquote(u.fragment) not in ids[target]:
                    bad.append(f"{page}: anchor {href!r} not found in {target}")
    assert not bad, _fmt(bad)


def test_reports_link_back_to_the_index(browser):
    bad = [p for p, d in browser["pages"].items() if p != "index.html"
           and not any(h.endswith("index.html") for h in d["screen"][WIDTHS[0]]["links"])]
    assert not bad, _fmt([f"{p}: no link back to index.html" for p in bad])


@pytest.mark.parametrize("width", WIDTHS)
def test_no_horizontal_overflow(browser, width):
    """WCAG 1.4.10 Reflow: the page itself never scrolls sideways."""
    bad = []
    for p, d in browser["pages"].items():
        m = d["screen"][width]
        if m["scrollWidth"] > m["innerWidth"]:
            bad.append(f"{p} @{width}px: page is {m['scrollWidth']} px wide in a {m['innerWidth']} px window"
                       + (f" (wider elements: {', '.join(m['wide'])})" if m["wide"] else ""))
    assert not bad, _fmt(bad)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_content_cut_off(browser, width):
    """WCAG 1.4.10 Reflow: nothing is cut off by a box that hides its overflow (no scrollbar)."""
    bad = [f"{p} @{width}px: {c}" for p, d in browser["pages"].items() for c in d["screen"][width]["clipped"]]
    assert not bad, _fmt(bad)


@pytest.mark.parametrize("width", WIDTHS)
def test_wide_tables_scroll_in_a_focusable_wrapper(browser, width):
    """A table wider than the text column sits in a scroll container that fits the window, and the
    keyboard can reach it (tabindex=0) to scroll it."""
    bad = []
    for p, d in browser["pages"].items():
        m = d["screen"][width]
        for t in m["tables"]:
            if t["width"] <= m["mainBox"] + 1 and t["right"] <= m["innerWidth"] + 1:
                continue
            s = t["scroller"]
            where = f"{p} @{width}px, table {t['index']} ({t['label']!r}, {t['width']:.0f} px)"
            if s is None:
                bad.append(f"{where}: not in a scrollable wrapper")
            elif s["right"] > m["innerWidth"] + 1 or s["clientWidth"] >= t["width"]:
                bad.append(f"{where}: its wrapper .{s['cls']} grows with it instead of scrolling")
            elif s["tabindex"] != "0":
                bad.append(f"{where}: its wrapper .{s['cls']} cannot be reached by keyboard (tabindex)")
    assert not bad, _fmt(bad)


def test_images_have_alt_text(browser):
    bad = [f"{p}: image {i['src']}… has {'no alt' if i['alt'] is None else 'an empty alt'}"
           for p, d in browser["pages"].items() for i in d["screen"][WIDTHS[0]]["images"]
           if not (i["alt"] or "").strip()]
    bad += [f"{p}: image {i['src']}… did not load" for p, d in browser["pages"].items()
            for i in d["screen"][WIDTHS[0]]["images"] if not i["loaded"]]
    assert not bad, _fmt(bad)


def test_focus_order_starts_with_skip_link_and_index(browser):
    """WCAG 2.4.1/2.4.3: the first Tab reaches the skip link, then the link back to the run index;
    no tab stop on a non-interactive block (nbconvert's tabindex=0 on every output)."""
    bad = []
    for p, d in browser["pages"].items():
        f = d["focus"]
        if not f or f[0] is None or "ixl-skip" not in f[0]["cls"]:
            bad.append(f"{p}: first Tab lands on {f[0] if f else None}, not on the skip link")
        if p != "index.html" and not (len(f) > 1 and f[1] and (f[1]["href"] or "").endswith("index.html")):
            bad.append(f"{p}: second Tab lands on {f[1] if len(f) > 1 else None}, not on the link to index.html")
        for w in WIDTHS:
            if d["screen"][w]["tabstops"]:
                bad.append(f"{p}: tab stops on non-interactive elements: {d['screen'][w]['tabstops'][:5]}")
                break
    assert not bad, _fmt(bad)


def test_print_to_pdf(browser):
    bad = [f"{p}: printToPDF gave {d.get('pdf')}" for p, d in browser["pages"].items()
           if not (d.get("pdf") and d["pdf"]["is_pdf"] and d["pdf"]["pages"] >= 1)]
    assert not bad, _fmt(bad)


def test_print_tables_and_figures_fit_a4(browser):
    """Laid out as printed (print media, the A4 text width of report.css), no table or image is
    wider than the page, and none is clipped by a box that would scroll on screen."""
    limit = PRINT_WIDTH_PX + 1
    bad = []
    for p, d in browser["pages"].items():
        pr = d["print"]
        for t in pr["tables"]:
            if t["right"] > limit or t["left"] < -1:
                bad.append(f"{p} (print): table {t['index']} ({t['label']!r}) spans {t['left']:.0f}–{t['right']:.0f} px, "
                           f"page text width {PRINT_WIDTH_PX:.0f} px")
            if t["clippedBy"]:
                bad.append(f"{p} (print): table {t['index']} ({t['label']!r}) clipped by .{t['clippedBy']}")
        for i in pr["images"]:
            if i["right"] > limit:
                bad.append(f"{p} (print): image {i['src']}… ends at {i['right']:.0f} px")
        if pr["scrollWidth"] > limit:
            bad.append(f"{p} (print): content {pr['scrollWidth']} px wide")
    assert not bad, _fmt(bad)


def _axe_report(violations_by_page: dict) -> list[str]:
    out = []
    for where, vs in violations_by_page.items():
        for v in vs:
            out.append(f"{where}: [{v['impact']}] {v['id']} — {v['help']} ({len(v['nodes'])} element(s))")
            for n in v["nodes"][:3]:
                out.append(f"      at {n['target']}: {n['html'][:160]}")
                if n["summary"]:
                    out.append("        " + n["summary"].replace("\n", "\n        ")[:300])
    return out


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_wcag21_aa(browser, width):
    """axe-core with the tags wcag2a, wcag2aa, wcag21a, wcag21aa: no violation on any page."""
    if not AXE_JS.exists():
        _unavailable(f"axe-core missing ({AXE_JS})")
    found = {f"{p} @{width}px": d["axe"][width] for p, d in browser["pages"].items() if d["axe"].get(width)}
    assert not found, f"axe-core ({', '.join(AXE_TAGS)}):\n" + "\n".join(_axe_report(found))


def test_alt_text_is_not_a_copy_of_the_caption(browser):
    """A screen reader reads alt and figcaption one after the other: the same sentence twice, and
    nothing about what the chart shows (WCAG 1.1.1, technique G94/H2)."""
    bad = [f"{p}: alt repeats the caption {i['caption'][:70]!r}" for p, d in browser["pages"].items()
           for i in d["screen"][WIDTHS[0]]["images"]
           if i["caption"] and (i["alt"] or "").strip() == i["caption"]]
    assert not bad, _fmt(bad)
