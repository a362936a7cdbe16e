"""The one table type of the reports: numbers, the role of each column, and a disclosure status.

A :class:`Table` holds numbers, never formatted text. Each column says what it is (:class:`Col`):
a label, a count of people, a share, an estimate with its interval, a p-value. Disclosure control
(:func:`ixl_eval.disclosure.protect`) fills :attr:`Table.status`, one code per cell; rendering
(:mod:`ixl_eval.report.render`) is the only place that turns the numbers into "8.603",
"23% (19–27%)", "<10" or "c". So a table exported as CSV or XLSX keeps its numbers as numbers,
and a chart or a sentence built from :meth:`Table.shown` cannot show a value the table hides.

Examples
--------
>>> import pandas as pd
>>> t = Table("per_genere", pd.DataFrame({"gender": ["F", "M", "X"], "n": [310, 305, 2]}),
...           [Col("gender", "Genere", "Gender"), Col("n", "Iscritti", "Enrolled", role="count")],
...           coords=["gender"])
>>> t
<Table 'per_genere' 3 rows x 2 columns, 1 count column>
>>> t.counts
['n']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["Col", "Table", "SHOWN", "PRIMARY", "SECONDARY", "DERIVED", "STATUS_NAMES"]

Role = Literal["label", "count", "share", "estimate", "lower", "upper", "p", "number", "text"]
ROLES = ("label", "count", "share", "estimate", "lower", "upper", "p", "number", "text")

# Cell status codes (int8). A derived cell (a share, rate, change or estimate) is withheld because
# a count it rests on is; it never needs a mark of its own beyond "c".
SHOWN, PRIMARY, SECONDARY, DERIVED = 0, 1, 2, 3
STATUS_NAMES = {SHOWN: "", PRIMARY: "below_threshold", SECONDARY: "secondary", DERIVED: "derived"}


@dataclass(frozen=True)
class Col:
    """One column of a :class:`Table`.

    Parameters
    ----------
    key : str
        Machine name (snake_case): the CSV header and the key other columns refer to.
    it, en : str
        Reader-facing labels.
    role : {"label", "count", "share", "estimate", "lower", "upper", "p", "number", "text"}
        What the column holds. ``count``: people, contracts or records (protected by the
        threshold). ``share``: a proportion in [0, 1]. ``estimate``/``lower``/``upper``: an
        estimate and its interval bounds. ``p``: a p-value. ``number``: any other quantity.
        ``label``/``text``: words (a group, a period).
    decimals : int
        Decimals shown (for shares: of the percentage).
    pct : bool
        An estimate (and its bounds) that is a proportion, shown as a percentage.
    base : tuple of str
        Count columns of the same row this value is computed from (numerator, denominator, the
        two sides of a change): it is withheld wherever any of them is (primary or secondary),
        since with the others it would give the count back.
    rests_on : str, optional
        The count of the group this estimate describes (a median, a hazard ratio): withheld only
        where that count is below the threshold, since it does not give the count back.
    ci : (str, str), optional
        For an estimate: its lower and upper columns (rendered together as "X (L–U)").
    measure : str, optional
        For a count: what is counted ("enrolled", "contracts"). Cells with the same measure and
        the same coordinates (see :attr:`Table.coords`) are the same number wherever they appear,
        in this table or another, and disclosure treats them as one. Default: the key.
    unit : str
        Unit for the legend ("persone", "quota 0–1", "giorni").
    total : bool
        A count column that is the sum of the other count columns of its row.
    signed : bool
        A change: shown with its sign ("+49%"), so a rise and a fall read apart.
    """

    key: str
    it: str
    en: str
    role: Role = "label"
    decimals: int = 0
    pct: bool = False
    base: tuple = ()
    rests_on: str | None = None
    ci: tuple | None = None
    measure: str | None = None
    unit: str = ""
    total: bool = False
    signed: bool = False

    def label(self, lang: str) -> str:
        return self.it if lang == "it" else self.en

    @property
    def what(self) -> str:
        """The measure a count column counts (its key unless named)."""
        return self.measure or self.key


@dataclass
class Table:
    """A table of numbers with column roles and a disclosure status per cell.

    Parameters
    ----------
    name : str
        snake_case name, unique within a notebook (the CSV file name).
    data : DataFrame
        The numbers (label columns as text). Extra columns not in ``cols`` are an error.
    cols : list of Col
        One per column of ``data``, in display order.
    caption_it, caption_en : str
        The caption shown above the table.
    coords : list of str
        Label columns that identify a row's cells for linking with other tables (e.g. ``["year"]``,
        ``["subgroup", "group"]``). Empty: the table is linked to no other.
    by : str, optional
        A label column splitting rows into blocks that add up to totals of their own (stacked
        subgroups): column lines are protected within each block.
    lines : {"both", "columns", "none"}
        Additive lines protected by secondary suppression: rows and columns, columns only (a row's
        counts are nested, e.g. contracts and of which converted), or none (a model table).
    total_row : bool
        The last row of each block is the total of the others (an exact relation for the audit).
    note_it, note_en : str
        A footnote under the table.
    """

    name: str
    data: pd.DataFrame
    cols: list
    caption_it: str = ""
    caption_en: str = ""
    coords: list = field(default_factory=list)
    by: str | None = None
    lines: str = "columns"
    total_row: bool = False
    note_it: str = ""
    note_en: str = ""
    status: pd.DataFrame | None = None

    def __post_init__(self):
        import re

        if not re.fullmatch(r"[a-z0-9_]+", self.name):
            raise ValueError(f"table name {self.name!r} must be snake_case")
        keys = [c.key for c in self.cols]
        if len(set(keys)) != len(keys):
            raise ValueError(f"table {self.name!r}: duplicate column keys {keys}")
        missing = [k for k in keys if k not in self.data.columns]
        extra = [k for k in self.data.columns if k not in keys]
        if missing or extra:
            raise ValueError(f"table {self.name!r}: columns {missing} declared but absent, {extra} present but not declared")
        if self.lines not in ("both", "columns", "none"):
            raise ValueError("lines must be 'both', 'columns' or 'none'")
        self.data = self.data[keys].reset_index(drop=True)
        by_key = {c.key: c for c in self.cols}
        for c in self.cols:
            if c.role not in ROLES:
                raise ValueError(f"table {self.name!r}, column {c.key!r}: unknown role {c.role!r}")
            refs = list(c.base) + ([c.rests_on] if c.rests_on else [])
            for r in refs:
                if r not in by_key or by_key[r].role != "count":
                    raise ValueError(f"table {self.name!r}, column {c.key!r}: {r!r} is not a count column")
            if c.ci and any(x not in by_key for x in c.ci):
                raise ValueError(f"table {self.name!r}, column {c.key!r}: interval columns {c.ci} absent")
            if c.role in ("label", "text"):
                continue
            col = self.data[c.key]
            if not (pd.api.types.is_numeric_dtype(col) or col.isna().all()) or pd.api.types.is_bool_dtype(col):
                raise TypeError(f"table {self.name!r}, column {c.key!r} ({c.role}) must hold numbers, not {col.dtype}")
            self.data[c.key] = col.astype(float) if c.role != "count" else col
            if c.role == "count":
                v = pd.to_numeric(col, errors="coerce").dropna()
                if (v < 0).any() or (v != np.round(v)).any():
                    raise ValueError(f"table {self.name!r}, column {c.key!r}: counts must be whole numbers ≥ 0")
        for k in list(self.coords) + ([self.by] if self.by else []):
            if k not in by_key or by_key[k].role not in ("label", "text"):
                raise ValueError(f"table {self.name!r}: {k!r} is not a label column")
        if self.status is None:
            self.status = pd.DataFrame(np.zeros(self.data.shape, dtype="int8"), columns=keys)

    def __repr__(self) -> str:
        return (f"<Table {self.name!r} {len(self.data)} rows x {len(self.cols)} columns, "
                f"{len(self.counts)} count column{'s' if len(self.counts) != 1 else ''}>")

    # ---------------------------------------------------------------- structure
    def col(self, key: str) -> Col:
        for c in self.cols:
            if c.key == key:
                return c
        raise KeyError(f"table {self.name!r} has no column {key!r}")

    @property
    def counts(self) -> list:
        """Keys of the count columns."""
        return [c.key for c in self.cols if c.role == "count"]

    @property
    def dependents(self) -> list:
        """Columns withheld with a count (``base`` or ``rests_on``), and interval bounds of those."""
        out = [c.key for c in self.cols if c.base or c.rests_on]
        for c in self.cols:
            if c.key in out and c.ci:
                out += [b for b in c.ci if b not in out]
        return out

    def caption(self, lang: str) -> str:
        return self.caption_it if lang == "it" else self.caption_en

    def note(self, lang: str) -> str:
        return self.note_it if lang == "it" else self.note_en

    def row_coords(self, i: int) -> tuple:
        """The coordinates of row ``i``: ``((label_key, value), ...)``."""
        return tuple((k, str(self.data.at[i, k])) for k in self.coords)

    def cell_id(self, i: int, key: str):
        """The identity of a cell: ``(measure, ((label, value), ...))`` for a linked table (the same
        number in every table that has it), else ``("__cell", table, row, column)``."""
        if not self.coords or self.col(key).role != "count":
            return ("__cell", self.name, int(i), key)
        return (self.col(key).what, self.row_coords(i))

    def blocks(self) -> list:
        """Row positions of each block (all rows when there is no ``by``)."""
        if self.by is None:
            return [np.arange(len(self.data))]
        return list(pd.Series(np.arange(len(self.data))).groupby(self.data[self.by].to_numpy(), sort=False).indices.values())

    # ---------------------------------------------------------------- protected view
    def hidden(self, key: str) -> np.ndarray:
        """Boolean mask of the withheld cells of a column."""
        return self.status[key].to_numpy() != SHOWN

    def shown(self) -> pd.DataFrame:
        """The numbers with every withheld cell as NaN: what charts and sentences may use."""
        out = self.data.copy()
        for c in self.cols:
            if c.role in ("label", "text"):
                continue
            h = self.hidden(c.key)
            if h.any():
                out[c.key] = out[c.key].astype(float).where(~h)
        return out

    def value(self, row, key: str):
        """One published value (None when withheld or missing); ``row`` is a position or a dict
        of label values, e.g. ``{"subgroup": "gender", "group": "F"}``."""
        i = self.find(row) if isinstance(row, dict) else int(row)
        if self.status.at[i, key] != SHOWN:
            return None
        v = self.data.at[i, key]
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        return v

    def find(self, labels: dict) -> int:
        """Position of the one row whose label columns equal ``labels``."""
        m = np.ones(len(self.data), bool)
        for k, v in labels.items():
            m &= self.data[k].astype(str).to_numpy() == str(v)
        hits = np.flatnonzero(m)
        if len(hits) != 1:
            raise KeyError(f"table {self.name!r}: {len(hits)} rows match {labels}")
        return int(hits[0])

    def any_hidden(self) -> bool:
        return bool((self.status.to_numpy() != SHOWN).any())

    # ---------------------------------------------------------------- serialisation (fragments)
    def schema(self, notebook: str) -> dict:
        """What the run needs to write the workbook and audit the table: no values."""
        return {
            "notebook": notebook,
            "name": self.name,
            "caption_it": self.caption_it,
            "caption_en": self.caption_en,
            "coords": list(self.coords),
            "by": self.by,
            "lines": self.lines,
            "total_row": self.total_row,
            "cols": [
                {"key": c.key, "it": c.it, "en": c.en, "role": c.role, "decimals": c.decimals, "pct": c.pct,
                 "base": list(c.base), "rests_on": c.rests_on, "ci": list(c.ci) if c.ci else None,
                 "measure": c.what if c.role == "count" else None, "unit": c.unit, "total": c.total,
                 "signed": c.signed}
                for c in self.cols
            ],
        }
