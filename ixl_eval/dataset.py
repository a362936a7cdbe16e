"""The validated dataset every analysis starts from.

:func:`load_dataset` is the only way notebooks and analyses get data: it reads a data directory,
validates it against :mod:`ixl_eval.contract` and raises :class:`DataValidationError` when any
error-level rule fails, so no analysis ever runs on invalid data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["Dataset", "load_dataset"]


@dataclass(frozen=True)
class Dataset:
    """Four typed tables plus extract metadata.

    Date columns are ``datetime64[ns]`` (``NaT`` when empty), ``birth_year`` is ``int64``, all
    other columns are strings (``object``/``str`` dtype). Each frame keeps a default RangeIndex;
    the file row number of each record is in the ``_row`` column when it came from a file.

    Attributes
    ----------
    participants, interviews, programmes, placements : pandas.DataFrame
    extracted_on : datetime.date
        The data cut-off.
    source : str
        ``"synthetic"`` for generated data.
    data_dir : pathlib.Path
    sha256 : dict
        SHA-256 of each file read (file name -> hex digest), for the run manifest.
    warnings : tuple
        Warning-level :class:`ixl_eval.validate.Finding` objects (soft anomalies).
    """

    participants: pd.DataFrame
    interviews: pd.DataFrame
    programmes: pd.DataFrame
    placements: pd.DataFrame
    extracted_on: dt.date
    source: str
    data_dir: Path
    sha256: dict = field(default_factory=dict)
    warnings: tuple = ()

    @property
    def is_synthetic(self) -> bool:
        return self.source.strip().lower().startswith("synthetic")

    @property
    def cutoff(self) -> pd.Timestamp:
        """The extraction date as a Timestamp (the default analysis cut-off)."""
        return pd.Timestamp(self.extracted_on)

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def __repr__(self) -> str:
        return (
            f"<Dataset source={self.source!r} extracted_on={self.extracted_on} "
            f"participants={len(self.participants)} interviews={len(self.interviews)} "
            f"programmes={len(self.programmes)} placements={len(self.placements)}>"
        )


def load_dataset(data_dir=None) -> Dataset:
    """Read and validate a data directory; raise on any error-level finding.

    Parameters
    ----------
    data_dir : path-like, optional
        A data directory (CSV, Parquet or one XLSX workbook, plus ``extract.yaml``). Defaults to
        the bundled synthetic data (:data:`ixl_eval.paths.DEFAULT_DATA_DIR`).

    Raises
    ------
    DataLoadError
        The directory or a file cannot be read.
    DataValidationError
        The data break the contract; ``.findings`` lists every problem.
    """
    from .validate import validate_dir  # late import: validate imports this module's Dataset

    report = validate_dir(data_dir)
    return report.raise_if_invalid()
