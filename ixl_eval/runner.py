"""The runner: parameter set → notebooks executed with papermill → one immutable run folder.

:func:`run` validates the parameter set, the data and their fit before any kernel starts, then
executes the selected notebooks in parallel in the current interpreter's kernel, exports each to
a code-free HTML report, collects result records and tables, and writes ``manifest.json`` and
``index.html``. Everything is built in ``outputs/.tmp-<run-id>/`` (dot-prefixed, so a killed run
never looks finished) and renamed to ``outputs/<run-id>/`` at the end; a run folder is never
overwritten. One notebook failing does not stop the others: the run is marked failed, the failed
executed notebook is kept, and :func:`main_run` exits non-zero.

Run folder (see ``docs/developing.md``)::

    <key>.ipynb  <key>.html  index.html  results.json  manifest.json
    tables/<key>__<name>.csv  tables.xlsx  fragments/<key>.json

Comparison with an earlier run (issue 7): :func:`ixl_eval.compare.compare_runs` is called with the previous run folder (``compare_to``, or the
latest earlier complete run of the same parameter set) and the folder being built; it writes its
own files into ``new_dir`` and returns an HTML fragment (or None) that ``index.html`` shows.

Examples
--------
>>> nbs = find_notebooks()  # key -> path, in the order of the NN_ prefixes
>>> next(iter(nbs)), nbs["panoramica"].name
('panoramica', '00_panoramica.ipynb')
>>> run_id_for(dt.datetime(2024, 5, 2, 9, 30), "default", {"participants.csv": "ab" * 32})
'20240502-093000_default_2f501c94'
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import html
import json
import os
import re
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

import shutil
import signal
import socket

from .exceptions import OutputError, ParamsError, RunError
from .paths import NOTEBOOKS_DIR, OUTPUTS_DIR, PACKAGE_DIR, REPO_ROOT, resolve_data_dir

__all__ = ["run", "main_run", "RunResult", "NotebookRun", "find_notebooks", "run_id_for"]

TEMPLATES_DIR = PACKAGE_DIR / "templates"
_NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
_KERNEL_NAME = "ixl-eval-python"


# ------------------------------------------------------------------------------ results


@dataclass
class NotebookRun:
    """What happened to one notebook: status, timing, error (notebook, cell, message), files."""

    key: str
    source: str
    status: str = "pending"  # ok | failed
    started: str | None = None
    ended: str | None = None
    duration_s: float | None = None
    error: dict | None = None
    ipynb: str | None = None
    html: str | None = None
    fragment: dict | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_manifest(self) -> dict:
        d = asdict(self)
        d.pop("fragment")
        return d


@dataclass(frozen=True)
class RunResult:
    """A finished run: its id, folder, status and one :class:`NotebookRun` per notebook."""

    run_id: str
    run_dir: Path
    status: str
    notebooks: tuple[NotebookRun, ...]
    duration_s: float
    comparison_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failed(self) -> tuple[NotebookRun, ...]:
        return tuple(n for n in self.notebooks if not n.ok)

    def __repr__(self) -> str:
        return (f"<RunResult {self.run_id} status={self.status} notebooks={len(self.notebooks)} "
                f"failed={len(self.failed)} {self.duration_s:.1f}s>")


# ---------------------------------------------------------------------------- discovery


def find_notebooks(notebooks_dir=None) -> dict:
    """Notebooks by key (file stem without the ``NN_`` prefix), in prefix order.

    Raises
    ------
    ParamsError
        Two files give the same key.
    """
    ndir = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    out: dict[str, Path] = {}
    for p in sorted(ndir.glob(_NOTEBOOK_GLOB)):
        key = p.stem[3:]
        if key in out:
            raise ParamsError(f"two notebooks have the key {key!r}: {out[key].name} and {p.name}")
        out[key] = p
    return out


def run_id_for(started: dt.datetime, name: str, sha256: dict) -> str:
    """``YYYYmmdd-HHMMSS_<params-name>_<data-hash8>``; the hash covers every data file's digest."""
    h = hashlib.sha256("\n".join(f"{k} {v}" for k, v in sorted(sha256.items())).encode()).hexdigest()
    return f"{started:%Y%m%d-%H%M%S}_{name}_{h[:8]}"


_OWNER_FILE = ".ixl-run-owner"  # in a .tmp-* run folder and a kernel folder: host and pid of the run
_STALE_WITHOUT_OWNER_S = 6 * 3600  # folders of earlier versions carry no owner: stale once this old


def _mark_owner(folder: Path) -> None:
    (folder / _OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}\n", encoding="utf-8")


def _reserve_tmp(outputs: Path, run_id: str) -> tuple[str, Path]:
    """Create ``.tmp-<id>`` atomically, adding ``-2``, ``-3``... if the id is taken.

    Raises
    ------
    OutputError
        The outputs folder cannot be created or written (read-only, not a folder, disk full).
    """
    try:
        outputs.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            rid = run_id if n == 1 else f"{run_id}-{n}"
            tmp = outputs / f".tmp-{rid}"
            if (outputs / rid).exists():
                continue
            try:
                tmp.mkdir()
            except FileExistsError:
                continue
            _mark_owner(tmp)
            return rid, tmp
    except OSError as e:
        raise OutputError(f"cannot write the run folder in {_shown(outputs)}: {e.strerror or e}; "
                          "choose a writable folder with --outputs") from None
    raise OutputError(f"cannot find a free run id for {run_id} in {_shown(outputs)}")


def _shown(path: Path) -> str:
    """A path as messages and records show it: relative to the repository when inside it."""
    return _portable(path)


def _portable(path) -> str:
    """``path`` relative to the repository (``data/synthetic``, ``../extracts/2024q1``): what the
    manifest records, so no absolute path of the machine is kept, yet a later comparison can still
    find the folder (:func:`ixl_eval.paths.resolve_data_dir` reads paths relative to the repository)."""
    p = Path(path).resolve()
    try:
        return os.path.relpath(p, REPO_ROOT)
    except ValueError:  # another drive (Windows): the name is all that can be recorded
        return p.name


def _owner_alive(folder: Path) -> bool:
    """Whether the run that made ``folder`` may still be running (unknown owners count as alive
    until they are old enough)."""
    try:
        host, pid = (folder / _OWNER_FILE).read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        try:
            age = time.time() - folder.stat().st_mtime
        except OSError:
            return False
        return age < _STALE_WITHOUT_OWNER_S
    if host != socket.gethostname():
        return True  # another machine sharing the folder: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def _kernel_root() -> Path:
    return Path(tempfile.gettempdir())


def clean_stale(outputs: Path) -> list[str]:
    """Remove ``.tmp-*`` run folders and ``ixl-kernel-*`` folders left by runs that are no longer
    alive (killed, power cut); return what was removed, for the run to say so.

    A kernel folder holds the validated records handed to the kernels: it must not outlive its run.
    """
    removed = []
    candidates = sorted(outputs.glob(".tmp-*")) if outputs.is_dir() else []
    candidates += sorted(_kernel_root().glob("ixl-kernel-*"))
    for d in candidates:
        try:
            if not d.is_dir() or d.is_symlink() or d.stat().st_uid != os.getuid() or _owner_alive(d):
                continue
        except OSError:
            continue
        shutil.rmtree(d, ignore_errors=True)
        if not d.exists():
            removed.append(d.name if d.parent == _kernel_root() else _shown(d))
    return removed


def _latest_run(outputs: Path, name: str, before: str) -> Path | None:
    """The latest complete earlier run of the same parameter set (for the comparison hook)."""
    best = None
    for d in sorted(outputs.glob(f"*_{name}_*")):
        if d.name.startswith(".") or d.name >= before or not (d / "manifest.json").is_file():
            continue
        try:
            m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if m.get("params", {}).get("name") == name and m.get("status") == "ok":
            best = d
    return best


def _skip_slow_iri_checker() -> None:
    """Keep ``import papermill`` lean: tell jsonschema that ``rfc3987_syntax`` is unavailable.

    nbformat imports jsonschema, whose format module imports ``rfc3987_syntax`` when installed
    (it comes with jupyterlab); that package compiles ~40 lark grammars at import, 2–5 s here,
    for ``iri`` format checks that no notebook schema uses (python-jsonschema issue #1428).
    jsonschema treats the checker as optional, so marking it missing only skips that check.
    Done only when jsonschema's format module is not loaded yet, and only in this process.
    """
    if "jsonschema._format" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _import_once() -> None:
    """Import the execution and export stack in the main thread, before any worker starts.

    Threads importing the same packages at once can see a half-initialised module (jupyter_client
    and papermill have import cycles): "cannot import name ... from partially initialized module".
    """
    import bs4  # noqa: F401
    import jupyter_client.provisioning.local_provisioner  # noqa: F401  (loaded lazily at kernel start)
    import nbconvert  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401
    import papermill.exceptions  # noqa: F401
    import traitlets.config  # noqa: F401

    _engine_name()


_ENGINE = "ixl-eval-save-at-end"


def _engine_name() -> str:
    """Register (once) and name the papermill engine that writes the executed notebook once.

    papermill's own engine rewrites the whole output notebook before and after every cell (a
    JSON-schema validation and an indented dump of every figure so far): some 300 writes a run,
    seconds of the runner's CPU taken from the kernels, for a file nobody reads until the end.
    This engine (papermill's nbclient engine otherwise) skips those saves; papermill still writes
    the notebook when execution ends, with its error banner if a cell failed, and the engine
    writes what was executed when execution stops abnormally (dead kernel, timeout), so a failed
    notebook keeps its partial output either way.
    """
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.exceptions import PapermillException
    from papermill.iorw import write_ipynb

    class SaveAtEndEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, **kwargs):
            try:
                return super().execute_notebook(nb, kernel_name, output_path=None, **kwargs)
            except BaseException:
                if output_path:
                    with suppress(Exception):  # the execution error is the one to report
                        write_ipynb(nb, output_path)
                raise

    try:
        papermill_engines.get_engine(_ENGINE)
    except PapermillException:
        papermill_engines.register(_ENGINE, SaveAtEndEngine)
    return _ENGINE


# ------------------------------------------------------------------------------ kernel


@contextmanager
def _kernel(jobs: int, dataset=None):
    """A throw-away kernelspec running this interpreter, found through ``JUPYTER_PATH``.

    The run never depends on a hand-installed kernelspec: the kernel is always the interpreter
    (and so the environment) the runner itself runs in. ``dataset``, the data the runner has
    just validated, is handed over to the kernels (:func:`ixl_eval.dataset.hand_over`).
    """
    from .dataset import HANDOVER_ENV, hand_over

    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    # A private folder (0700, mkdtemp's mode, checked below) holds the kernelspec, the sockets,
    # the connection files and the validated records handed to the kernels; it is removed on
    # every exit path, and a folder left by a killed run is removed by the next run (clean_stale).
    with tempfile.TemporaryDirectory(prefix="ixl-kernel-", dir=_kernel_root()) as tmp:
        os.chmod(tmp, 0o700)
        _mark_owner(Path(tmp))
        kdir = Path(tmp) / "kernels" / _KERNEL_NAME
        kdir.mkdir(parents=True)
        spec = {
            # jupyter_client interrupts a kernel before shutting it down, and ipykernel logs that as
            # "ERROR | KeyboardInterrupt caught in kernel" on the runner's terminal: noise, not a
            # failure (cell errors are captured in the executed notebook, not in this log).
            # No IPython history (nbclient keeps it in memory anyway): nobody reads a throw-away
            # kernel's, and it saves a database and a thread at every start.
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False"],
            "display_name": f"ixl-eval ({sys.executable})",
            "language": "python",
            "env": {
                # Parallel kernels share the cores: one BLAS thread pool per core, not per kernel.
                "OMP_NUM_THREADS": threads,
                "OPENBLAS_NUM_THREADS": threads,
                "MKL_NUM_THREADS": threads,
                # Silences debugpy's "frozen modules" notice on the runner's stderr.
                "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            },
        }
        handed = hand_over(dataset, Path(tmp) / "dataset.pickle") if dataset is not None else None
        if handed is not None:
            # each kernel would otherwise import pandera and read and validate the same files again
            spec["env"][HANDOVER_ENV] = str(handed)
        (kdir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        (Path(tmp) / "sockets").mkdir()
        (Path(tmp) / "runtime").mkdir()
        saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
        os.environ["JUPYTER_PATH"] = os.pathsep.join([tmp] + ([saved["JUPYTER_PATH"]] if saved["JUPYTER_PATH"] else []))
        # Connection files (the kernels' keys) go in the private folder too, not in ~/.local or /tmp.
        os.environ["JUPYTER_RUNTIME_DIR"] = str(Path(tmp) / "runtime")
        try:
            yield _KERNEL_NAME, Path(tmp) / "sockets"
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


# ---------------------------------------------------------------------------- HTML export

_PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
_HIDDEN_TAGS = {_PAPERMILL_ERROR_TAG, "parameters", "injected-parameters", "remove-cell"}


def _reader_notebook(nb, lang: str):
    """Keep what a reader should see: displayed outputs only.

    Dropped: parameter cells, papermill's error banners, stderr streams (warnings, logs), raw
    Python reprs (``execute_result`` with only ``text/plain``), cells left without output. An
    error output becomes a plain sentence: tracebacks are for the analyst, in ``<key>.ipynb``.
    """
    import nbformat

    cells = []
    for cell in nb.cells:
        if _HIDDEN_TAGS.intersection(cell.get("metadata", {}).get("tags", [])) or cell.cell_type == "raw":
            continue
        if cell.cell_type == "code":
            outs = []
            for o in cell.get("outputs", []):
                if o.output_type == "stream" and o.get("name") == "stderr":
                    continue
                if o.output_type == "execute_result" and set(o.get("data", {})) <= {"text/plain"}:
                    continue
                if o.output_type == "error":
                    msg = (f"Questa parte del rapporto non è stata completata: si è verificato un errore "
                           f"({o.ename}). I dettagli per chi gestisce l'analisi sono nel notebook eseguito."
                           if lang == "it" else
                           f"This part of the report was not completed: an error occurred ({o.ename}). "
                           "Details for the analyst are in the executed notebook.")
                    o = nbformat.v4.new_output("display_data", data={
                        "text/html": f'<div class="ixl-error" role="alert">{html.escape(msg)}</div>'})
                outs.append(o)
            if not outs:
                continue
            cell.outputs = outs
        cells.append(cell)
    nb.cells = cells
    return nb


def _add_toc(doc: str, lang: str) -> str:
    """Insert a table of contents of the h2/h3 headings after the title block; title the page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(doc, "html.parser")
    main = soup.find("main") or soup.body
    h1 = main.find("h1")
    if h1 is not None and soup.title is not None:
        soup.title.string = h1.get_text(" ", strip=True).removesuffix("¶").strip()
    heads = main.find_all(["h2", "h3"])
    if not heads:
        return str(soup)
    title = "Indice" if lang == "it" else "Contents"
    nav = soup.new_tag("nav", attrs={"class": "ixl-toc", "aria-label": title})
    p = soup.new_tag("p", attrs={"class": "ixl-toc-title"})
    p.string = title
    nav.append(p)
    top = soup.new_tag("ol")
    nav.append(top)
    current, seen = None, set()
    for i, h in enumerate(heads):
        hid = h.get("id") or f"sezione-{i + 1}"
        while hid in seen:
            hid += "-"
        seen.add(hid)
        h["id"] = hid
        li = soup.new_tag("li")
        a = soup.new_tag("a", href=f"#{hid}")
        a.string = h.get_text(" ", strip=True).removesuffix("¶").strip()
        li.append(a)
        if h.name == "h3" and current is not None:
            sub = current.find("ol")
            if sub is None:
                sub = soup.new_tag("ol")
                current.append(sub)
            sub.append(li)
        else:
            top.append(li)
            current = li
    cell = h1.find_parent(class_="jp-Cell") if h1 is not None else None
    if cell is not None:
        cell.insert_after(nav)
    else:
        main.insert(0, nav)
    return str(soup)


def _reader_page(doc: str, lang: str, key: str, run_dir: Path | None, css: str, source_text: str = "") -> str:
    """Make an exported report navigable by keyboard and self-contained in its run folder.

    - no ``tabindex`` on nbconvert's output containers (one useless tab stop per output);
    - every table sits in a labelled, focusable ``.ixl-table-wrap`` region that scrolls on screen
      (the renderer of ``ixl_eval.report`` already writes one; older outputs get one here);
    - a skip link to the main content, then a link back to ``index.html`` and to the method notes;
    - the method notes the report cites (``docs/caveats/*.md``) are written to ``caveats/`` in the
      run folder (``ixl_eval.caveat_pages``), and each citation in the text links to its page.
    """
    from bs4 import BeautifulSoup, NavigableString

    from . import caveat_pages

    it = lang == "it"
    soup = BeautifulSoup(doc, "html.parser")
    body = soup.body
    main = soup.find("main") or body
    for el in soup.find_all(attrs={"tabindex": True}):
        if any(c.startswith("jp-") for c in el.get("class", [])):
            del el["tabindex"]
    for n, table in enumerate(main.find_all("table"), 1):
        if table.find_parent(class_="ixl-table-wrap") is not None:
            continue
        cap = table.find("caption")
        label = cap.get_text(" ", strip=True) if cap is not None else ""
        wrap = soup.new_tag("div", attrs={"class": "ixl-table-wrap", "role": "region", "tabindex": "0",
                                          "aria-label": label or f"{'Tabella' if it else 'Table'} {n}"})
        table.wrap(wrap)

    names = caveat_pages.cited_by(key, main.get_text(" "), source_text)
    if run_dir is not None and names:
        caveat_pages.ship(names, run_dir, css, lang)
    for s in list(main.find_all(string=caveat_pages.CITATION)):
        if s.find_parent("a") is not None or not isinstance(s, NavigableString):
            continue
        text, pos, parts = str(s), 0, []
        for m in caveat_pages.CITATION.finditer(text):
            if m.group(1) not in names:
                continue
            parts.append(NavigableString(text[pos:m.start()]))
            a = soup.new_tag("a", href=f"caveats/{m.group(1)}.html", hreflang="en")
            a.string = m.group(0)
            parts.append(a)
            pos = m.end()
        if not parts:
            continue
        parts.append(NavigableString(text[pos:]))
        for part in parts:
            s.insert_before(part)
        s.extract()

    target = main.get("id") or "contenuto"
    main["id"] = target
    main["tabindex"] = "-1"
    skip = soup.new_tag("a", attrs={"class": "ixl-skip", "href": f"#{target}"})
    skip.string = "Vai al contenuto" if it else "Skip to content"
    nav = soup.new_tag("nav", attrs={"class": "ixl-topnav", "aria-label": "Navigazione" if it else "Navigation"})
    back = soup.new_tag("a", href="index.html")
    back.string = "← Indice dell'esecuzione" if it else "← Run index"
    nav.append(back)
    for name in names:
        sep = soup.new_tag("span", attrs={"class": "ixl-sep", "aria-hidden": "true"})
        sep.string = "·"
        nav.append(sep)
        a = soup.new_tag("a", href=f"caveats/{name}.html", hreflang="en")
        a.string = (f"Note di metodo: {name} (in inglese)" if it else f"Method notes: {name}")
        nav.append(a)
    body.insert(0, nav)
    body.insert(0, skip)
    return str(soup)


class _HtmlExport:
    """Executed notebook → the reader's HTML: no code, no prompts, no stderr, a table of contents.

    One nbconvert exporter for the whole run, built on first use and shared by the worker threads
    under a lock: building it (imports, templates) costs more than an export, exports are CPU
    work that threads cannot run in parallel anyway, and a ``jupyter nbconvert`` process per
    notebook would cost seconds each.
    """

    def __init__(self, lang: str):
        self.lang = lang
        self._lock = threading.Lock()
        self._exporter = None
        self._css = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")

    def _get_exporter(self):
        if self._exporter is None:
            from nbconvert import HTMLExporter

            self._exporter = HTMLExporter(
                template_name="lab",
                template_file="ixl_report.html.j2",
                extra_template_paths=[str(TEMPLATES_DIR)],
                exclude_input=True,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
                language_code=self.lang,
            )
        return self._exporter

    def warm_up(self) -> None:
        """Build the exporter ahead of the first export."""
        with self._lock:
            self._get_exporter()

    def export(self, ipynb) -> str:
        """The reader's HTML of an executed notebook; the method notes it cites are written next
        to it (``caveats/`` in the notebook's folder, the run folder)."""
        import nbformat

        ipynb = Path(ipynb)
        nb = nbformat.read(str(ipynb), as_version=4)
        source_text = "\n".join(c.get("source", "") for c in nb.cells)
        nb = _reader_notebook(nb, self.lang)
        with self._lock:
            body, _ = self._get_exporter().from_notebook_node(nb, resources={"ixl_css": self._css})
        return _reader_page(_add_toc(body, self.lang), self.lang, ipynb.stem, ipynb.parent, self._css, source_text)


# ----------------------------------------------------------------------------- execution


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone().replace(microsecond=0)


class _Progress:
    """One line per notebook event, safe across worker threads."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.stream = total, 0, stream or sys.stdout
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def started(self, key: str) -> None:
        self.say(f"  {key:<28} running")

    def finished(self, nr: NotebookRun) -> None:
        with self._lock:
            self.done += 1
            done = self.done
        if nr.ok:
            self.say(f"[{done}/{self.total}] {nr.key:<24} ok      {nr.duration_s:6.1f} s")
        else:
            e = nr.error or {}
            self.say(f"[{done}/{self.total}] {nr.key:<24} FAILED  {nr.duration_s or 0:6.1f} s  "
                     f"cell {e.get('execution_count')}: {e.get('ename')}: {_short(e.get('evalue'), 120)}")


def _short(s, n: int) -> str:
    s = " ".join(str(s or "").split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _execute(key: str, source: Path, run_dir: Path, parameters: dict, kernel: tuple,
             progress: _Progress) -> NotebookRun:
    """Execute one notebook into the run folder and read the fragment its ``rep.finish()`` wrote."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    kernel_name, sockets = kernel
    # Local (IPC) sockets, not TCP: nothing listens on the network and parallel kernels cannot
    # race for ports. The socket path is absolute and per notebook (the kernel runs elsewhere).
    config = Config({"KernelManager": {"transport": "ipc", "ip": str(sockets / key)}})

    nr = NotebookRun(key, source.name, ipynb=f"{key}.ipynb")
    out = run_dir / nr.ipynb
    start = _now()
    t0 = time.perf_counter()
    nr.started = start.isoformat()
    progress.started(key)
    try:
        pm.execute_notebook(
            str(source),
            str(out),
            parameters=parameters,
            engine_name=_engine_name(),
            kernel_name=kernel_name,
            progress_bar=False,
            start_timeout=180,
            # Every output is in by then and the kernel holds nothing else: a graceful shutdown
            # (atexit handlers, thread joins, polled exit) kept each lane waiting ~0.6 s.
            shutdown_kernel="immediate",
            # The kernel's working directory is the notebooks folder, set per client (papermill's
            # own `cwd` would chdir the whole process, which races between worker threads).
            resources={"metadata": {"path": str(source.parent)}},
            config=config,
        )
        nr.status = "ok"
    except PapermillExecutionError as e:
        nr.status = "failed"
        first = next((ln for ln in str(e.source).splitlines() if ln.strip()), "")
        nr.error = {"stage": "execute", "cell_index": e.cell_index, "execution_count": e.exec_count,
                    "cell_source": _short(first, 200), "ename": e.ename, "evalue": _short(e.evalue, 500)}
    except Exception as e:  # a dead kernel, a timeout, an unreadable notebook: still one notebook's failure
        nr.status = "failed"
        nr.error = {"stage": "execute", "cell_index": None, "execution_count": None, "cell_source": "",
                    "ename": type(e).__name__, "evalue": _short(e, 500)}
    nr.duration_s = round(time.perf_counter() - t0, 2)
    nr.ended = _now().isoformat()
    if not out.is_file():
        nr.ipynb = None
    frag = run_dir / "fragments" / f"{key}.json"
    if frag.is_file():
        try:
            nr.fragment = json.loads(frag.read_text(encoding="utf-8"))
        except ValueError as e:
            nr.status = "failed"
            nr.error = nr.error or {"stage": "fragment", "cell_index": None, "execution_count": None,
                                    "cell_source": "", "ename": "BadFragment", "evalue": _short(e, 300)}
    elif nr.ok:
        nr.status = "failed"
        nr.error = {"stage": "fragment", "cell_index": None, "execution_count": None, "cell_source": "",
                    "ename": "MissingFragment",
                    "evalue": f"the notebook did not call rep.finish(): no fragments/{key}.json"}
    progress.finished(nr)
    return nr


def _export(nr: NotebookRun, run_dir: Path, exporter, progress: _Progress) -> NotebookRun:
    """Write ``<key>.html`` from the executed notebook (also for a failed one: the partial report)."""
    if nr.ipynb is None:
        return nr
    try:
        (run_dir / f"{nr.key}.html").write_text(exporter.export(run_dir / nr.ipynb), encoding="utf-8")
        nr.html = f"{nr.key}.html"
    except Exception as e:  # the notebook ran; only its report could not be written
        was_ok = nr.ok
        nr.status = "failed"
        nr.error = nr.error or {"stage": "html", "cell_index": None, "execution_count": None,
                                "cell_source": "", "ename": type(e).__name__, "evalue": _short(e, 500)}
        if was_ok:
            progress.say(f"      {nr.key:<24} HTML export FAILED: {type(e).__name__}: {_short(e, 120)}")
    return nr


# --------------------------------------------------------------------------- collection


def _protect_across_notebooks(run_dir: Path, k: int, runs: list, pool, lane, progress, rounds: int = 3) -> list:
    """The run-level pass of the disclosure control.

    Each notebook protects its own tables together. A count can also appear in two notebooks (a
    year's enrolments in the overview and in the quarterly monitoring): when one withholds it and
    the other shows it, every count withheld anywhere is written to ``fragments/withhold.json``
    and the notebooks that showed one run again, keeping it withheld (and protecting it in their
    own lines). Repeated until no notebook shows what another withholds (at most ``rounds``
    times; the audit then judges what is left).
    """
    from .audit import cross_notebook_withholding

    for _ in range(rounds):
        withheld, rerun = cross_notebook_withholding(run_dir, k)
        rerun &= {n.key for n in runs if n.ok}
        if not rerun:
            break
        (run_dir / "fragments" / "withhold.json").write_text(json.dumps(withheld, ensure_ascii=False, sort_keys=True),
                                                              encoding="utf-8")
        progress.total += len(rerun)
        progress.say(f"  disclosure: {len(rerun)} notebook(s) run again to withhold counts other notebooks withhold: "
                     + ", ".join(sorted(rerun)))
        again = {r.key: r for r in (f.result().result() for f in [pool.submit(lane, key) for key in sorted(rerun)])}
        runs = [again.get(n.key, n) for n in runs]
    return runs


def _write_tables(run_dir: Path, lang: str, k: int) -> str | None:
    """The workbook and the legend of the run's tables (``tables.xlsx``, ``tables/legenda.csv``).

    Typed tables (with a schema in ``fragments/tables/*.json``) go through
    :func:`ixl_eval.report.render.write_workbook`: numbers as numeric cells, marks, legend."""
    import pandas as pd

    from .report import render

    schemas = [s for f in sorted((run_dir / "fragments" / "tables").glob("*.json"))
               for s in json.loads(f.read_text(encoding="utf-8"))]
    typed = {f"{s['notebook']}__{s['name']}.csv" for s in schemas}
    legacy = [p for p in sorted((run_dir / "tables").glob("*.csv")) if p.name not in typed]
    if schemas:
        rows = render.legend_rows(schemas, k)
        pd.DataFrame(rows).to_csv(run_dir / "tables" / "legenda.csv", index=False, encoding="utf-8-sig")
    if legacy or not schemas:
        return _write_xlsx(run_dir)
    return render.write_workbook(run_dir, lang, k)


def _write_xlsx(run_dir: Path) -> str | None:
    """All ``tables/*.csv`` into ``tables.xlsx``: one sheet per table, plus an index sheet."""
    import pandas as pd

    csvs = sorted((run_dir / "tables").glob("*.csv"))
    if not csvs:
        return None
    used: set[str] = {"indice"}
    index_rows = []
    # Read every CSV before the workbook is opened: an error inside ExcelWriter's block is masked
    # by openpyxl's own "At least one sheet must be visible" on exit.
    frames = []
    for p in csvs:
        sheet = re.sub(r"[\[\]:*?/\\]", "_", p.stem)[:31]  # Excel: ≤ 31 chars, no []:*?/\
        n = 2
        while sheet.lower() in used:
            suffix = f"~{n}"
            sheet = sheet[: 31 - len(suffix)] + suffix
            n += 1
        used.add(sheet.lower())
        try:
            frame = pd.read_csv(p, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:  # a table with no columns at all: keep an empty sheet
            frame = pd.DataFrame()
        frames.append((sheet, frame))
        index_rows.append({"foglio": sheet, "tabella": p.stem, "file": f"tables/{p.name}"})
    with pd.ExcelWriter(run_dir / "tables.xlsx", engine="openpyxl") as xw:
        pd.DataFrame(index_rows).to_excel(xw, sheet_name="indice", index=False)
        for sheet, df in frames:
            # Numbers back to numbers where the whole column is numeric; "<10" cells stay text.
            for c in df.columns:
                num = pd.to_numeric(df[c], errors="coerce")
                if num.notna().sum() == (df[c] != "").sum() and (df[c] != "").any():
                    df[c] = num
            df.to_excel(xw, sheet_name=sheet, index=False)
    return "tables.xlsx"


def _compare(prev: Path | None, new_dir: Path) -> dict | None:
    """Compare with the previous run through :func:`ixl_eval.compare.compare_runs` (None: no previous run)."""
    if prev is None:
        return None
    from . import compare

    try:
        fragment = compare.compare_runs(Path(prev), new_dir)
        return {"previous_run": Path(prev).name, "html": fragment if isinstance(fragment, str) else None,
                "error": None}
    except Exception as e:  # the comparison is an extra: its failure is shown, the run stands
        return {"previous_run": Path(prev).name, "html": None, "error": f"{type(e).__name__}: {_short(e, 300)}"}


def _render_index(manifest: dict, runs, comparison, xlsx, tables, n_records: int, lang: str) -> str:
    import jinja2

    def t(it, en):
        return it if lang == "it" else en

    def num(x):
        s = f"{x or 0:.1f}"
        return s.replace(".", ",") if lang == "it" else s

    def date(iso):
        d = dt.date.fromisoformat(str(iso))
        return f"{d:%d/%m/%Y}" if lang == "it" else d.isoformat()

    def when(iso):
        t = dt.datetime.fromisoformat(str(iso))
        return f"{t:%d/%m/%Y %H:%M:%S}" if lang == "it" else f"{t:%Y-%m-%d %H:%M:%S}"

    def title(r):
        f = r.fragment or {}
        return f.get(f"title_{lang}") or f.get("title_it") or r.key

    def caveats(r):
        """The method notes of a report that its export shipped to ``caveats/`` (none without HTML)."""
        from . import caveat_pages

        if not r.html:
            return []
        try:
            src = Path(r.source).read_text(encoding="utf-8")
        except OSError:
            src = ""
        return caveat_pages.cited_by(r.key, src)

    ctx = dict(m=manifest, runs=runs, failed=[r for r in runs if not r.ok], comparison=comparison, xlsx=xlsx,
               tables=tables, n_records=n_records, lang=lang, t=t, num=num, date=date, when=when, title=title,
               caveats=caveats,
               css=(TEMPLATES_DIR / "report.css").read_text(encoding="utf-8"))

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                             autoescape=True, keep_trailing_newline=True)
    return env.get_template("run_index.html.j2").render(**ctx)


# ----------------------------------------------------------------------------------- run


def run(params_path, data_dir=None, jobs=None, outputs_dir=None, compare_to=None, compare=True, *,
        notebooks_dir=None, stream=None) -> RunResult:
    """Run a parameter set: validate, execute notebooks in parallel, write ``outputs/<run-id>/``.

    Parameters
    ----------
    params_path : path-like
        The parameter-set YAML.
    data_dir : path-like, optional
        Data directory (relative to the current directory); overrides the set's ``data_dir``.
    jobs : int, optional
        Notebooks executed at once; default the number of CPU cores.
    outputs_dir : path-like, optional
        Where run folders go; default ``outputs/`` in the repository.
    compare_to : path-like, optional
        An earlier run folder to compare with; default the latest earlier complete run of the
        same parameter set.
    compare : bool
        False skips the comparison.
    notebooks_dir : path-like, optional
        Where the notebooks are (tests); default ``notebooks/``.
    stream : file, optional
        Progress output; default stdout.

    Returns
    -------
    RunResult
        ``status`` is ``"failed"`` when any notebook failed; the folder is complete either way.

    Raises
    ------
    ParamsError
        Invalid parameter set, unfit for the data, or a selected notebook has no file. No kernel
        has started.
    DataLoadError, DataValidationError
        The data cannot be read or break the contract.
    """
    from .dataset import load_dataset
    from .params import check_against_data, load_params

    t_start = time.perf_counter()
    started = _now()
    _skip_slow_iri_checker()
    pset = load_params(params_path)
    ddir = Path(data_dir).expanduser().resolve() if data_dir is not None else resolve_data_dir(pset.data_dir)
    ds = load_dataset(ddir)
    problems = check_against_data(pset, ds)
    if problems:
        raise ParamsError(f"{params_path}: does not fit the data in {ddir}\n" + "\n".join(f"  {p}" for p in problems),
                          problems)
    prev = None
    if compare and compare_to is not None:
        prev = _usable_run_folder(compare_to)  # refused now, before any kernel, if it cannot be compared
    available = find_notebooks(notebooks_dir)
    missing = [k for k in pset.selected() if k not in available]
    if missing:
        raise ParamsError(f"{params_path}: no notebook file for {missing} in {notebooks_dir or NOTEBOOKS_DIR}")
    keys = [k for k in available if k in pset.selected()]  # prefix order
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(keys)))
    outputs = Path(outputs_dir).expanduser().resolve() if outputs_dir is not None else OUTPUTS_DIR
    cleaned = clean_stale(outputs)
    run_id, tmp = _reserve_tmp(outputs, run_id_for(started, pset.name, ds.sha256))
    try:
        with _terminate_as_interrupt():
            return _run_in(tmp, run_id, outputs, pset, ds, ddir, params_path, keys, available, jobs, prev, compare,
                           cleaned, started, t_start, stream)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        where = f" ({_shown(Path(e.filename))})" if getattr(e, "filename", None) else ""
        raise OutputError(f"cannot write the run folder in {_shown(outputs)}{where}: {e.strerror or e}; "
                          "free some space or choose a writable folder with --outputs") from None
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM) or failed: no half-built folder stays behind.
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM (a scheduler stopping the job, ``kill``) unwinds like Ctrl-C, so every ``finally``
    runs: kernels stopped, private folder and ``.tmp-*`` removed. Only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _usable_run_folder(path) -> Path:
    """An earlier run folder given with ``--compare-to``, or a RunError saying why it cannot be used."""
    p = Path(path).expanduser().resolve()
    if not p.is_dir():
        raise RunError(f"--compare-to {_shown(p)}: no such run folder")
    try:
        m = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    except OSError:
        raise RunError(f"--compare-to {_shown(p)}: not a run folder (no readable manifest.json)") from None
    except ValueError:
        raise RunError(f"--compare-to {_shown(p)}: its manifest.json is not valid JSON") from None
    if not isinstance(m, dict) or "run_id" not in m:
        raise RunError(f"--compare-to {_shown(p)}: its manifest.json is not a run manifest")
    return p


def _stop_kernels() -> int:
    """Kill the kernels this process started (they run in their own session, so Ctrl-C on the
    terminal does not reach them); return how many."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return 0
    n = 0
    for child in psutil.Process().children(recursive=True):
        with suppress(psutil.Error):
            if any("ipykernel_launcher" in part for part in child.cmdline()):
                child.kill()
                n += 1
    return n


def _scrub_paths(ipynb: Path, replacements: list) -> None:
    """Replace absolute paths of this machine in an executed notebook (papermill's metadata, the
    injected parameters, tracebacks) by paths relative to the repository or the run folder."""
    if not ipynb.is_file():
        return
    text = ipynb.read_text(encoding="utf-8")
    new = text
    for old, repl in replacements:
        new = new.replace(json.dumps(old)[1:-1], json.dumps(repl)[1:-1])
    if new != text:
        ipynb.write_text(new, encoding="utf-8")


def _run_in(tmp, run_id, outputs, pset, ds, ddir, params_path, keys, available, jobs, prev, compare, cleaned,
            started, t_start, stream) -> RunResult:
    """The part of :func:`run` that writes into the reserved ``.tmp-<id>`` folder."""
    from .compare import rows_by_quarter
    from .params import notebook_parameters
    from .provenance import code_version, package_versions
    from .results import merge_records, write_results

    (tmp / "tables").mkdir()
    (tmp / "fragments").mkdir()

    _import_once()
    t_prepared = time.perf_counter()
    progress = _Progress(len(keys), stream)
    if cleaned:
        progress.say(f"removed {len(cleaned)} folder(s) left by interrupted runs: {', '.join(cleaned)}")
    progress.say(f"ixl-eval run {run_id}: {len(keys)} notebook(s), {jobs} at a time, data {_shown(ddir)}")
    exporter = _HtmlExport(lang=pset.lang)
    final_rel = _portable(outputs / run_id)
    # Longest first: the run folder lies inside outputs/, which may lie inside the repository.
    scrub = [(str(tmp), final_rel), (str(ddir), _portable(ddir)), (str(REPO_ROOT) + os.sep, "")]
    cancelled = threading.Event()
    # `jobs` lanes execute notebooks; one more thread exports HTML, so a lane starts its next
    # kernel at once instead of waiting for the previous notebook's export.
    with _kernel(jobs, ds) as kernel:
        pool, html_pool = cf.ThreadPoolExecutor(jobs), cf.ThreadPoolExecutor(1)
        try:
            html_pool.submit(exporter.warm_up)  # nbconvert import and templates, while kernels start

            def lane(k):
                if cancelled.is_set():
                    return None
                nr = _execute(k, available[k], tmp, notebook_parameters(pset, k, data_dir=ddir, output_dir=tmp),
                              kernel, progress)
                _scrub_paths(tmp / f"{k}.ipynb", scrub)
                return html_pool.submit(_export, nr, tmp, exporter, progress)

            futures = [pool.submit(lane, k) for k in keys]
            runs = [f.result().result() for f in futures]
            runs = _protect_across_notebooks(tmp, pset.disclosure_threshold, runs, pool, lane, progress)
        except BaseException:
            # Ctrl-C: queued notebooks never start, running kernels are killed (their lanes then
            # fail at once), and the lanes are waited for so nothing writes into a removed folder.
            cancelled.set()
            pool.shutdown(wait=False, cancel_futures=True)
            html_pool.shutdown(wait=False, cancel_futures=True)
            _stop_kernels()
            pool.shutdown(wait=True)
            html_pool.shutdown(wait=True)
            raise
        pool.shutdown(wait=True)
        html_pool.shutdown(wait=True)
    t_executed = time.perf_counter()

    records = merge_records(n.fragment["records"] for n in runs if n.fragment)
    write_results(records, tmp / "results.json")
    xlsx = _write_tables(tmp, pset.lang, pset.disclosure_threshold)
    explicit = prev is not None
    if compare and prev is None:
        prev = _latest_run(outputs, pset.name, run_id)
    comparison = None  # compared below, once manifest.json exists: compare_runs reads it
    # the last gate before publishing: attack what the run is about to publish; a withheld count
    # that the published files give back fails the run (its locations are recorded, never values)
    from .audit import audit_run

    audit = audit_run(tmp, pset.disclosure_threshold)
    status = "ok" if all(n.ok for n in runs) and audit.ok else "failed"
    ended = _now()
    duration = round(time.perf_counter() - t_start, 2)
    cv = code_version()
    manifest = {
        "run_id": run_id,
        "status": status,
        "started": started.isoformat(),
        "ended": ended.isoformat(),
        "duration_s": duration,
        # where the time went: validation before any kernel, the notebooks, collecting outputs
        "phases_s": {"prepare": round(t_prepared - t_start, 2), "notebooks": round(t_executed - t_prepared, 2),
                     "collect": round(time.perf_counter() - t_executed, 2)},
        "jobs": jobs,
        # Paths relative to the repository: the manifest travels with the reports and must not
        # carry the machine's folders; the data folder is the one actually read (--data included).
        "params_file": _portable(params_path),
        "params": {**pset.resolved(), "data_dir": _portable(ddir)},
        "cutoff_used": str(pset.cutoff or ds.extracted_on),
        "data": {
            "dir": _portable(ddir),
            "source": ds.source,
            "synthetic": ds.is_synthetic,
            "extracted_on": str(ds.extracted_on),
            "sha256": dict(sorted(ds.sha256.items())),
            "rows": {t: len(ds.table(t)) for t in ("participants", "interviews", "programmes", "placements")},
            # per table and quarter: lets a later run compare counts even if this extract is gone
            "rows_by_quarter": rows_by_quarter(ds),
            "warnings": len(ds.warnings),
        },
        "code": cv,
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "packages": package_versions(),
        "notebooks": [n.as_manifest() for n in runs],
        "disclosure_audit": {"withheld_counts": audit.withheld, "equations": audit.equations,
                             "findings": [{"rule": f["rule"], "where": f["where"]} for f in audit.findings]},
        "comparison": None if comparison is None else {k: v for k, v in comparison.items() if k != "html"},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if compare and prev is not None:
        comparison = _compare(prev, tmp)
        manifest["comparison"] = None if comparison is None else {k: v for k, v in comparison.items() if k != "html"}
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (tmp / "index.html").write_text(
        _render_index(manifest, runs, comparison, xlsx, sorted(p.name for p in (tmp / "tables").glob("*.csv")),
                      len(records), pset.lang),
        encoding="utf-8",
    )
    (tmp / _OWNER_FILE).unlink(missing_ok=True)
    final = outputs / run_id
    try:
        tmp.rename(final)
    except OSError:  # another process took the name meanwhile: never overwrite, pick a new one
        run_id, spare = _reserve_tmp(outputs, run_id + "-r")
        shutil.rmtree(spare)
        final = outputs / run_id
        tmp.rename(final)
    error = (comparison or {}).get("error") if explicit else None
    return RunResult(run_id, final, status, tuple(runs), duration, comparison_error=error)


def main_run(params, data_dir=None, jobs=None, outputs_dir=None, compare_to=None, compare=True) -> int:
    """``ixl-eval run``: run and print where the reports are; 0 if every notebook succeeded, else 5."""
    res = run(params, data_dir=data_dir, jobs=jobs, outputs_dir=outputs_dir, compare_to=compare_to, compare=compare)
    index = res.run_dir / "index.html"
    if res.comparison_error:
        print(f"run {res.run_id} done, but the comparison with --compare-to failed: {res.comparison_error}; "
              f"see {index}", file=sys.stderr)
        return RunError.exit_code
    if res.ok:
        print(f"run {res.run_id} ok in {res.duration_s:.1f} s: {index}")
        return 0
    names = ", ".join(n.key for n in res.failed)
    audit = json.loads((res.run_dir / "manifest.json").read_text(encoding="utf-8")).get("disclosure_audit") or {}
    if audit.get("findings"):
        names = ", ".join(filter(None, [names, f"disclosure audit: {len(audit['findings'])} withheld counts "
                                               "could be recovered from the published files"]))
        for f in audit["findings"][:10]:
            print(f"  [{f['rule']}] {f['where']}", file=sys.stderr)
    print(f"run {res.run_id} FAILED ({names}) in {res.duration_s:.1f} s; see {index}", file=sys.stderr)
    return RunError.exit_code
