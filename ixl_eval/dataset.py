"""The validated dataset every analysis starts from.

:func:`load_dataset` is the only way notebooks and analyses get data: it reads a data directory,
validates it against :mod:`ixl_eval.contract` and raises :class:`DataValidationError` when any
error-level rule fails, so no analysis ever runs on invalid data.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .paths import resolve_data_dir

__all__ = ["Dataset", "load_dataset", "hand_over", "HANDOVER_ENV", "person_index", "person_codes"]

#: Environment variable naming a dataset already validated by the runner (see :func:`hand_over`).
HANDOVER_ENV = "IXL_EVAL_VALIDATED_DATA"


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


def _person_cache(ds) -> dict:
    """The look-up cache kept on a dataset object, reset if its participants table was replaced."""
    cache = ds.__dict__.get("_person_cache")  # frozen dataclass: not a field, not in eq/repr
    part = ds.participants
    if cache is None or cache.get("participants") is not part or cache.get("rows") != len(part):
        cache = {"participants": part, "rows": len(part), "codes": {}}
        ds.__dict__["_person_cache"] = cache
    return cache


def person_index(ds) -> pd.Index:
    """``participant_id`` of ``ds.participants`` as an Index, built once per dataset object.

    Each analysis looks people up by identifier many times (cohorts, indicators, IPS index
    dates); a fresh Index rebuilds its hash table of a million strings every time (about a
    second), a kept one builds it once.
    """
    cache = _person_cache(ds)
    if "index" not in cache:
        cache["index"] = pd.Index(ds.participants["participant_id"])
    return cache["index"]


def person_codes(ds, table: str) -> np.ndarray:
    """For each row of ``ds.<table>``, the position of its person in ``ds.participants`` (-1 if
    not there), computed once per dataset object and table (see :func:`person_index`).

    :func:`hand_over` computes them before saving, so kernels receive them with the data.

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_dataset
    >>> person_codes(_toy_dataset(), "placements").tolist()
    [0, 1, 2]
    """
    cache = _person_cache(ds)
    frame = getattr(ds, table)
    hit = cache["codes"].get(table)
    if hit is None or hit[0] is not frame or len(hit[1]) != len(frame):
        codes = person_index(ds).get_indexer(frame["participant_id"])
        hit = cache["codes"][table] = (frame, codes)
    return hit[1]


def load_dataset(data_dir=None) -> Dataset:
    """Read and validate a data directory; raise on any error-level finding.

    In a notebook executed by the runner, the runner has just read and validated the same
    directory: when :data:`HANDOVER_ENV` names its :func:`hand_over` file and every file of the
    directory still has the SHA-256 it had then, that dataset is returned instead of reading and
    validating again (the same frames, findings and hashes; half a second less per notebook).

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
    data_dir = resolve_data_dir(data_dir)
    handed = _handed_over(data_dir)
    if handed is not None:
        return handed
    from .validate import validate_dir  # late import: validate imports this module's Dataset

    report = validate_dir(data_dir)
    return report.raise_if_invalid()


def _fingerprint(data_dir: Path, hashed) -> dict:
    """Every file of the directory: the SHA-256 of those the data were read from (``hashed``), size
    and modification time of the others, whose appearance or change could alter validation (a
    second ``participants`` table, say). Any file added, removed or edited changes it."""
    from .io import file_sha256

    out = {}
    for p in sorted(data_dir.iterdir()):
        if p.is_file():
            st = p.stat()
            out[p.name] = file_sha256(p) if p.name in hashed else (st.st_size, st.st_mtime_ns)
    return out


def hand_over(ds: Dataset, path) -> Path | None:
    """Save a validated dataset, with the fingerprint of its directory, for :func:`load_dataset`.

    The runner validates the data once before any notebook starts, writes them here and points
    its kernels to the file through :data:`HANDOVER_ENV`, so five notebooks do not read and
    validate the same files five more times. Returns None, writing nothing, if a file has changed
    since ``ds`` was read.

    Examples
    --------
    >>> import tempfile
    >>> from ixl_eval.synth import write
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = write(d / "data", seed=1)                             # doctest: +SKIP
    >>> ds = load_dataset(d / "data")                             # doctest: +SKIP
    >>> os.environ[HANDOVER_ENV] = str(hand_over(ds, d / "ds.pickle"))  # doctest: +SKIP
    >>> load_dataset(d / "data").participants.equals(ds.participants)  # doctest: +SKIP
    True
    """
    path = Path(path)
    files = _fingerprint(Path(ds.data_dir), ds.sha256)
    if any(files.get(name) != digest for name, digest in ds.sha256.items()):
        return None  # edited since it was validated: each notebook reads and validates it again
    for table in ("interviews", "programmes", "placements"):
        person_codes(ds, table)  # once here rather than once in every kernel
    payload = {"data_dir": str(Path(ds.data_dir).resolve()), "files": files, "dataset": ds}
    with open(path, "wb") as f:
        pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _handed_over(data_dir: Path) -> Dataset | None:
    """The dataset handed over for ``data_dir``, if any and if its files are unchanged; else None."""
    path = os.environ.get(HANDOVER_ENV)
    if not path or not data_dir.is_dir():
        return None
    try:
        with open(path, "rb") as f:
            payload = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None  # gone or unreadable: validate as usual
    ds = payload.get("dataset")
    if (not isinstance(ds, Dataset) or payload.get("data_dir") != str(data_dir.resolve())
            or payload.get("files") != _fingerprint(data_dir, ds.sha256)):
        return None
    return ds
