"""Session fixtures shared by the test suite.

Tests never read ``data/synthetic``: the synthetic data directory is generated once per session
in a temporary directory, with the default seed, exactly as ``ixl-eval synth`` writes it.
"""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory):
    """A synthetic data directory (CSV, default seed and scale) with its ``truth.json``."""
    from ixl_eval.synth import DEFAULT_SEED, write

    d = tmp_path_factory.mktemp("synth") / "data"
    write(d, seed=DEFAULT_SEED, scale=1.0, fmt="csv")
    return d


@pytest.fixture(scope="session")
def synth_truth(synth_dir):
    """The true parameters of ``synth_dir`` (its ``truth.json``, as a dict)."""
    return json.loads((synth_dir / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def synth_dataset(synth_dir):
    """``load_dataset(synth_dir)``, loaded once per session. Do not modify its frames."""
    from ixl_eval.dataset import load_dataset

    return load_dataset(synth_dir)


@pytest.fixture(scope="session")
def suite_run(synth_dir, tmp_path_factory):
    """ONE run of every notebook in ``notebooks/`` (defaults) on ``synth_dir``, through the runner
    users use: the expensive part of the suite, shared by every test that reads a run folder."""
    from ixl_eval.runner import find_notebooks, run

    out = tmp_path_factory.mktemp("suite")
    p = out / "suite.yaml"
    p.write_text("notebooks:\n" + "".join(f"  {k}: {{}}\n" for k in find_notebooks()), encoding="utf-8")
    return run(p, data_dir=synth_dir, outputs_dir=out / "outputs", compare=False)


@pytest.fixture(scope="session")
def suite_run_en(synth_dir, tmp_path_factory):
    """ONE run of every notebook with English reports (``lang: en``, as ``params/english.yaml``)
    on ``synth_dir``: shared by the wording and browser tests."""
    from ixl_eval.runner import find_notebooks, run

    out = tmp_path_factory.mktemp("suite_en")
    p = out / "suite_en.yaml"
    p.write_text("name: suite_en\nlang: en\nnotebooks:\n" + "".join(f"  {k}: {{}}\n" for k in find_notebooks()),
                 encoding="utf-8")
    return run(p, data_dir=synth_dir, outputs_dir=out / "outputs", compare=False)
