"""load_dataset: the dataset the runner hands over to its kernels, and when it is not used."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from ixl_eval import dataset
from ixl_eval.dataset import HANDOVER_ENV, hand_over, load_dataset
from ixl_eval.exceptions import DataValidationError

TABLES = ("participants", "interviews", "programmes", "placements")


@pytest.fixture
def data(tmp_path, synth_dir):
    d = tmp_path / "data"
    shutil.copytree(synth_dir, d)
    return d


@pytest.fixture
def handed(data, tmp_path, monkeypatch):
    """The data validated once, handed over through the environment as the runner does."""
    ds = load_dataset(data)
    path = hand_over(ds, tmp_path / "ds.pickle")
    assert path is not None
    monkeypatch.setenv(HANDOVER_ENV, str(path))
    return ds


def _no_validation(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("the data were read and validated again")

    monkeypatch.setattr("ixl_eval.validate.validate_dir", forbidden)


def test_handed_over_dataset_is_the_validated_one(data, handed, monkeypatch):
    _no_validation(monkeypatch)
    ds = load_dataset(data)
    assert ds is not handed  # a copy from the file, as in a kernel
    for t in TABLES:
        pd.testing.assert_frame_equal(ds.table(t), handed.table(t))
    assert (ds.sha256, ds.warnings, ds.extracted_on, ds.source) == (handed.sha256, handed.warnings,
                                                                    handed.extracted_on, handed.source)


def test_edited_file_is_validated_again(data, handed):
    part = pd.read_csv(data / "participants.csv", dtype=str, keep_default_na=False)
    part.loc[3, "gender"] = "Q"  # same size, new content: the hash tells
    part.to_csv(data / "participants.csv", index=False)
    with pytest.raises(DataValidationError):
        load_dataset(data)


def test_new_file_or_other_directory_is_validated_again(data, handed, synth_dir, tmp_path, monkeypatch):
    calls = []
    real = dataset._handed_over
    monkeypatch.setattr(dataset, "_handed_over", lambda d: calls.append(real(d)) or calls[-1])
    load_dataset(synth_dir)  # same files, another directory
    (data / "participants.parquet").write_bytes(b"")  # a second participants table appears
    with pytest.raises(DataValidationError):
        load_dataset(data)
    assert calls == [None, None]


def test_no_hand_over_when_the_files_changed_since_validation(data, tmp_path):
    ds = load_dataset(data)
    (data / "extract.yaml").write_text((data / "extract.yaml").read_text() + "\n# edited\n")
    assert hand_over(ds, tmp_path / "ds.pickle") is None
    assert not (tmp_path / "ds.pickle").exists()


def test_unreadable_hand_over_file_is_ignored(data, tmp_path, monkeypatch):
    (tmp_path / "bad.pickle").write_bytes(b"not a pickle")
    monkeypatch.setenv(HANDOVER_ENV, str(tmp_path / "bad.pickle"))
    assert load_dataset(data).participants.shape[0] > 0
    monkeypatch.setenv(HANDOVER_ENV, str(tmp_path / "missing.pickle"))
    assert load_dataset(data).participants.shape[0] > 0
