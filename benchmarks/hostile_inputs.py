"""Oversized and hostile inputs of issue 14, for measuring peak memory before refusal.

Builds each input in a temporary folder and runs the refusing command on it in this process;
run it under ``/usr/bin/time -v`` to see the peak (``Maximum resident set size``)::

    /usr/bin/time -v .venv/bin/python benchmarks/hostile_inputs.py xlsx
    /usr/bin/time -v .venv/bin/python benchmarks/hostile_inputs.py csv
    /usr/bin/time -v .venv/bin/python benchmarks/hostile_inputs.py csv-long-lines
    /usr/bin/time -v .venv/bin/python benchmarks/hostile_inputs.py csv-junk-fields
    /usr/bin/time -v .venv/bin/python benchmarks/hostile_inputs.py yaml

The same builders (smaller) are used by ``tests/test_hostile_inputs.py``.
"""

from __future__ import annotations

import random
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

HEADER = "participant_id,enrolled_on,birth_year,gender,citizenship,education,withdrawn_on"


def xlsx_bomb(path: Path, empty_rows: int = 300_000) -> Path:
    """A small workbook declaring ``A1:XFD1048576`` with ``empty_rows`` styled empty rows."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "participants"
    ws.append(HEADER.split(","))
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    xml = parts[name].decode()
    xml = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', xml)
    rows = "".join(f'<row r="{r}"><c r="XFD{r}" s="0"/></row>' for r in range(2, empty_rows + 2))
    xml = xml.replace("</sheetData>", rows + "</sheetData>")
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return path


def junk_csv(path: Path, megabytes: int = 200, seed: int = 14, width: int = 60, fields: int | None = None) -> Path:
    """A CSV with the participants header and ``megabytes`` of printable junk rows of ``width``
    characters (with ``fields``, exactly that many comma-separated values per row)."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789;.-/ " + ("" if fields else ",")
    line = "".join(rng.choice(alphabet) for _ in range(4096))
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        written, i = 0, 0
        while written < megabytes << 20:
            start = (i * 37) % 4000
            chunk = line[start:start + width]
            if fields:
                step = width // fields
                chunk = ",".join(chunk[k * step:(k + 1) * step] for k in range(fields))
            chunk += "\n"
            f.write(chunk)
            written += len(chunk)
            i += 1
    return path


def billion_laughs(path: Path) -> Path:
    """A parameter set whose aliases expand to 10^9 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
        prev = name
    lines.append(f"description: *{prev}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _data_dir_with(tmp: Path, table_file: Path | None = None) -> Path:
    from ixl_eval.synth import DEFAULT_SEED, write

    d = tmp / "data"
    write(d, seed=DEFAULT_SEED, fmt="csv")
    if table_file is not None:
        (d / "participants.csv").unlink()
        shutil.move(str(table_file), d / table_file.name)
    return d


def main(which: str) -> int:
    from ixl_eval.cli import main as cli

    tmp = Path(tempfile.mkdtemp(prefix="ixl-hostile-"))
    try:
        if which == "xlsx":
            d = _data_dir_with(tmp, xlsx_bomb(tmp / "ixl-data.xlsx"))
            return cli(["validate", str(d)])
        if which == "csv":
            d = _data_dir_with(tmp, junk_csv(tmp / "participants.csv"))
            return cli(["validate", str(d)])
        if which == "csv-long-lines":  # 200 MB, 1.3M lines: within the row limit, fully validated
            d = _data_dir_with(tmp, junk_csv(tmp / "participants.csv", width=160))
            return cli(["validate", str(d)])
        if which == "csv-junk-fields":  # 200 MB of junk in 7 fields per row: every value breaks a rule
            d = _data_dir_with(tmp, junk_csv(tmp / "participants.csv", width=100, fields=7))
            return cli(["validate", str(d)])
        if which == "yaml":
            return cli(["params", "check", str(billion_laughs(tmp / "laughs.yaml"))])
        raise SystemExit(f"usage: {sys.argv[0]} xlsx|csv|csv-long-lines|csv-junk-fields|yaml")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
