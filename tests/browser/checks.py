"""What the browser tests measure in each page of a run folder, in one pass per page and width.

``collect(run_dir)`` opens every ``*.html`` of the run folder in headless Chromium at each screen
width, then once more as printed on A4, and returns plain data that ``tests/test_browser.py``
asserts on (and that ``python tests/browser/checks.py <run-dir>`` prints, for a manual look).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1366, 683)
# A4 portrait (210 mm) less the 14 mm left and right margins of `@page` in report.css, in CSS px.
PRINT_WIDTH_PX = (210 - 2 * 14) / 25.4 * 96

# How a table is named in a finding: its caption, else its labelled wrapper, else its first text
# (one definition, put into both page scripts below).
_LABEL_JS = """const label = (t) => {
    const c = t.querySelector('caption');
    const w = t.closest('[aria-label]');
    return ((c && c.textContent) || (w && w.getAttribute('aria-label')) || t.textContent).trim().slice(0, 70);
  };"""

_SCREEN_JS = r"""
(() => {
  const vw = window.innerWidth;
  const main = document.querySelector('main') || document.body;
  const ms = getComputedStyle(main);
  const mainBox = main.clientWidth - parseFloat(ms.paddingLeft) - parseFloat(ms.paddingRight);
  const scroller = (el) => {
    for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'auto' || ox === 'scroll') return a;
    }
    return null;
  };
  __LABEL__
  return {
    title: document.title,
    lang: document.documentElement.lang,
    innerWidth: vw,
    scrollWidth: document.documentElement.scrollWidth,
    mainBox: mainBox,
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id)
           .concat(Array.from(document.querySelectorAll('a[name]')).map(e => e.name)),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
    images: Array.from(document.querySelectorAll('img')).map(i => ({
      src: (i.getAttribute('src') || '').slice(0, 60), alt: i.getAttribute('alt'),
      caption: (i.closest('figure') && i.closest('figure').querySelector('figcaption'))
               ? i.closest('figure').querySelector('figcaption').textContent.trim() : null,
      loaded: i.complete && i.naturalWidth > 0})),
    tables: Array.from(document.querySelectorAll('table')).map((t, i) => {
      const r = t.getBoundingClientRect();
      const s = scroller(t);
      const sr = s && s.getBoundingClientRect();
      return {index: i, label: label(t), width: r.width, right: r.right,
              scroller: s && {cls: s.className, right: sr.right, clientWidth: s.clientWidth,
                              scrollWidth: s.scrollWidth, tabindex: s.getAttribute('tabindex')}};
    }),
    // content cut off by a box that hides its overflow (no scrollbar to reach it): WCAG 1.4.10
    clipped: Array.from(document.querySelectorAll(
        'main img, main p, main h1, main h2, main h3, main li, main figure, main table, main pre, main .ixl-banner'))
      .map(e => {
        const r = e.getBoundingClientRect();
        // what is visible of e: a scroll box shows the rest by scrolling, a box hiding overflow loses it
        let left = r.left, right = r.right;
        for (let a = e.parentElement; a && a !== document.documentElement; a = a.parentElement) {
          const ox = getComputedStyle(a).overflowX;
          if (ox === 'visible') continue;
          const ar = a.getBoundingClientRect();
          if ((ox === 'hidden' || ox === 'clip') && (right > ar.right + 1 || left < ar.left - 1))
            return e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '') +
              ' cut by .' + String(a.className).split(' ')[0] + ' (' + Math.round(Math.max(right - ar.right, ar.left - left)) +
              ' px): ' + (e.getAttribute('alt') || e.textContent || '').trim().slice(0, 40);
          left = Math.max(left, ar.left);
          right = Math.min(right, ar.right);
        }
        return null;
      }).filter(x => x).slice(0, 8),
    // elements in the Tab order that are neither controls nor scrollable table regions
    tabstops: Array.from(document.querySelectorAll('[tabindex]')).filter(e => e.tabIndex >= 0 &&
        !e.matches('a[href], button, input, select, textarea, summary, .ixl-table-wrap'))
      .map(e => e.tagName.toLowerCase() + '.' + String(e.className).split(' ').join('.')),
    wide: Array.from(document.querySelectorAll('main *')).filter(e => {
      const r = e.getBoundingClientRect();
      return r.right > vw + 1 && !e.closest('table') && !scroller(e);
    }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')),
  };
})()
""".replace("__LABEL__", _LABEL_JS)

_PRINT_JS = r"""
(() => {
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox !== 'visible' && a.scrollWidth > a.clientWidth + 1) return a.className || a.tagName;
    }
    return null;
  };
  __LABEL__
  return {
    scrollWidth: document.documentElement.scrollWidth,
    tables: Array.from(document.querySelectorAll('table')).map((t, i) => {
      const r = t.getBoundingClientRect();
      return {index: i, label: label(t), left: r.left, right: r.right, width: r.width, clippedBy: clipped(t)};
    }),
    images: Array.from(document.querySelectorAll('img')).map(i => {
      const r = i.getBoundingClientRect();
      return {src: (i.getAttribute('src') || '').slice(0, 40), right: r.right, width: r.width};
    }),
  };
})()
""".replace("__LABEL__", _LABEL_JS)

_AXE_RUN_JS = """
axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']}).then(r =>
  r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, tags: v.tags,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 300),
                              summary: (n.failureSummary || '').slice(0, 400)}))})))
"""


_ACTIVE_JS = r"""
(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const name = (e.getAttribute('aria-label') || e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
  return {tag: e.tagName.toLowerCase(), cls: String(e.className || ''), href: e.getAttribute('href'), name: name};
})()
"""


def focus_order(b, n: int) -> list:
    """What the first ``n`` presses of Tab focus, from the top of a freshly loaded page."""
    out = []
    for _ in range(n):
        b.press_tab()
        out.append(b.eval(_ACTIVE_JS))
    return out


def pages_of(run_dir: Path) -> list[Path]:
    """Every HTML file of a run folder (reports, index, shipped caveats), relative paths."""
    return sorted(p.relative_to(run_dir) for p in run_dir.rglob("*.html"))


def collect(run_dir: Path, chromium: str, axe: bool = True, pdf: bool = True) -> dict:
    """Open each page at each width (screen), then as printed; run axe-core; print to PDF."""
    from cdp import Browser

    run_dir = Path(run_dir).resolve()
    axe_src = AXE_JS.read_text(encoding="utf-8") if axe else None
    out = {"pages": {}, "timings": {}}
    t0 = time.perf_counter()
    with Browser(chromium) as b:
        for rel in pages_of(run_dir):
            url = (run_dir / rel).as_uri()
            page = out["pages"][str(rel)] = {"screen": {}, "axe": {}}
            for w in WIDTHS:
                b.media("")
                b.viewport(w)
                b.open(url)
                m = b.eval(_SCREEN_JS)
                m["console_errors"] = b.console_errors()
                page["screen"][w] = m
                if w == WIDTHS[0]:
                    page["focus"] = focus_order(b, 4)
                if axe_src is not None:
                    b.eval(axe_src + ";true")
                    page["axe"][w] = b.eval(_AXE_RUN_JS % json.dumps(AXE_TAGS))
            b.viewport(round(PRINT_WIDTH_PX))
            b.media("print")
            b.open(url)
            page["print"] = b.eval(_PRINT_JS)
            b.media("")
            if pdf:
                data = b.pdf()
                page["pdf"] = {"bytes": len(data), "is_pdf": data[:5] == b"%PDF-",
                               "pages": data.count(b"/Type /Page") - data.count(b"/Type /Pages")}
            page["console_errors_print"] = b.console_errors()
    out["timings"]["total_s"] = round(time.perf_counter() - t0, 1)
    return out


if __name__ == "__main__":  # python tests/browser/checks.py <run-dir>: the raw measurements
    sys.path.insert(0, str(HERE))
    from cdp import find_chromium

    res = collect(Path(sys.argv[1]), find_chromium(), axe=AXE_JS.exists())
    for rel, p in res["pages"].items():
        p["screen"] = {w: {k: v for k, v in m.items() if k not in ("ids", "links")} for w, m in p["screen"].items()}
    json.dump(res, sys.stdout, indent=1, ensure_ascii=False)
