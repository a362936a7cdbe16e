"""Where a result comes from: code version and package versions (for reports and manifests).

Examples
--------
>>> v = code_version()
>>> sorted(v) == ["commit", "dirty", "version"]
True
>>> "pandas" in package_versions()
True
"""

from __future__ import annotations

import subprocess
from functools import lru_cache
from importlib import metadata

from .paths import REPO_ROOT

__all__ = ["code_version", "package_versions", "KEY_PACKAGES"]

KEY_PACKAGES = (
    "ixl-eval", "pandas", "numpy", "scipy", "statsmodels", "lifelines", "matplotlib", "seaborn",
    "papermill", "nbconvert", "nbclient", "ipykernel", "pydantic", "pandera", "pyarrow", "openpyxl",
)


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


@lru_cache(maxsize=1)
def code_version() -> dict:
    """The package version, git commit of the checkout (None outside git) and whether it is dirty.

    ``outputs/`` and ``data/`` are git-ignored, so a run does not make its own checkout dirty.
    """
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "version": _version("ixl-eval"),
        "commit": commit,
        "dirty": bool(status) if status is not None else None,
    }


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def package_versions() -> dict:
    """Versions of the packages whose behaviour can change a result."""
    return {p: _version(p) for p in KEY_PACKAGES}
