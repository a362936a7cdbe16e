"""The method notes ("caveats") a report cites, shipped into its run folder as HTML pages.

Reports cite ``docs/caveats/<name>.md``; a reader of ``outputs/<run-id>/`` has no repository. The
export renders each cited note to ``caveats/<name>.html`` (same stylesheet as the reports, a link
back to the run index) and turns each citation into a link.

Sources: ``docs/caveats/`` of the checkout when present (editable install), else the copies
packaged under ``ixl_eval/caveats/`` (a wheel). ``make caveats`` refreshes the copies;
``tests/test_caveat_pages.py`` fails when they drift from ``docs/caveats/``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .paths import PACKAGE_DIR, REPO_ROOT

__all__ = ["CITATION", "caveats_dir", "available", "cited_by", "ship", "page"]

PACKAGED_DIR = PACKAGE_DIR / "caveats"
CITATION = re.compile(r"docs/caveats/([a-z0-9][a-z0-9-]*)\.md")


def caveats_dir() -> Path:
    """Where the notes are read from: the checkout's ``docs/caveats`` if present, else the package copy."""
    d = REPO_ROOT / "docs" / "caveats"
    return d if d.is_dir() and any(d.glob("*.md")) else PACKAGED_DIR


def available() -> set[str]:
    """The names of the notes that exist (``tempo-inserimento``, ...)."""
    return {p.stem for p in caveats_dir().glob("*.md")}


def cited_by(key: str, *texts: str) -> list[str]:
    """The notes a report cites: its own (by notebook key) and every ``docs/caveats/*.md`` named in
    ``texts`` (the rendered report, the notebook's source), with the notes those notes cite.

    >>> cited_by("tempo_inserimento")
    ['tempo-inserimento']
    >>> cited_by("monitoraggio_trimestrale", "see docs/caveats/panoramica.md")
    ['monitoraggio', 'panoramica']
    """
    have = available()
    names = set()
    for cand in (key.replace("_", "-"), key.split("_")[0]):
        if cand in have:
            names.add(cand)
            break
    for t in texts:
        names.update(n for n in CITATION.findall(t or "") if n in have)
    todo = list(names)
    while todo:  # the notes a note cites
        src = (caveats_dir() / f"{todo.pop()}.md").read_text(encoding="utf-8")
        for n in CITATION.findall(src):
            if n in have and n not in names:
                names.add(n)
                todo.append(n)
    return sorted(names)


def _title(md: str, name: str) -> str:
    m = re.search(r"^#\s+(.+)$", md, re.M)
    return re.sub(r"[`*]", "", m.group(1)).strip() if m else name


def page(name: str, css: str, lang: str) -> str:
    """One note as a standalone HTML page. The notes are written in English: the page is
    ``lang="en"``; its navigation is in the run's language and marked so."""
    from markdown_it import MarkdownIt

    md = (caveats_dir() / f"{name}.md").read_text(encoding="utf-8")
    body = MarkdownIt("commonmark").enable("table").render(md)
    # citations of other notes become links to their shipped pages
    body = re.sub(r"<code>docs/caveats/([a-z0-9-]+)\.md</code>|docs/caveats/([a-z0-9-]+)\.md",
                  lambda m: f'<a href="{m.group(1) or m.group(2)}.html"><code>docs/caveats/'
                            f'{m.group(1) or m.group(2)}.md</code></a>', body)
    n = 0

    def wrap(m):
        nonlocal n
        n += 1
        label = f"Table {n}"  # the note is in English
        return f'<div class="ixl-table-wrap" role="region" tabindex="0" aria-label="{label}">{m.group(0)}</div>'

    body = re.sub(r"<table>.*?</table>", wrap, body, flags=re.S)
    it = lang == "it"
    back = "← Indice dell'esecuzione" if it else "← Run index"
    skip = "Vai al contenuto" if it else "Skip to content"
    note = ("Nota di metodo, in inglese, citata dai rapporti di questa esecuzione." if it else
            "Method note cited by the reports of this run.")
    title = _title(md, name)
    la = f' lang="{lang}"' if lang != "en" else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="ixl-eval">
<title>{html.escape(title)}</title>
<style>
{css}
</style>
</head>
<body class="ixl-doc">
<a class="ixl-skip" href="#contenuto"{la}>{skip}</a>
<nav class="ixl-topnav" aria-label="{'Navigazione' if it else 'Navigation'}"{la}><a href="../index.html">{html.escape(back)}</a></nav>
<main id="contenuto" tabindex="-1">
<p class="ixl-meta"{la}>{note}</p>
{body}
</main>
</body>
</html>
"""


def ship(names, run_dir: Path, css: str, lang: str) -> list[str]:
    """Write ``caveats/<name>.html`` for each note into ``run_dir``; return their relative paths."""
    out = Path(run_dir) / "caveats"
    out.mkdir(exist_ok=True)
    paths = []
    for n in names:
        (out / f"{n}.html").write_text(page(n, css, lang), encoding="utf-8")
        paths.append(f"caveats/{n}.html")
    return paths
