"""Domain errors of ixl-eval.

Every error a user can cause (bad data, bad parameters, a failed run) is one of these, so the CLI
can print it plainly and exit non-zero instead of showing a traceback.
"""

from __future__ import annotations

__all__ = [
    "IxlEvalError",
    "DataLoadError",
    "DataValidationError",
    "ParamsError",
    "RunError",
    "DisclosureError",
    "LimitError",
    "OutputError",
    "SiteFileError",
]


class IxlEvalError(Exception):
    """Base class of all errors raised on purpose by ixl-eval."""

    exit_code = 1


class DataLoadError(IxlEvalError):
    """A data directory or one of its files cannot be read at all (missing, wrong format)."""

    exit_code = 2


class DataValidationError(IxlEvalError):
    """The data were read but break the data contract.

    Parameters
    ----------
    message : str
        Short summary.
    findings : sequence
        The :class:`ixl_eval.validate.Finding` objects with severity ``error`` (and warnings),
        each naming file, row, column, value and rule.
    """

    exit_code = 3

    def __init__(self, message: str, findings=()):
        super().__init__(message)
        self.findings = tuple(findings)


class ParamsError(IxlEvalError):
    """A parameter set is invalid (unknown key, wrong type, value not allowed, not fit for the data)."""

    exit_code = 4

    def __init__(self, message: str, problems=()):
        super().__init__(message)
        self.problems = tuple(problems)


class RunError(IxlEvalError):
    """A run could not be completed (one or more notebooks failed)."""

    exit_code = 5


class DisclosureError(IxlEvalError):
    """An output would reveal personal data or an unsuppressed small count."""

    exit_code = 6


class LimitError(IxlEvalError):
    """An input exceeds a documented resource limit (:mod:`ixl_eval.limits`) or a limit option is
    malformed; the message names the limit and how to raise it."""

    exit_code = 2


class OutputError(IxlEvalError):
    """The outputs folder cannot be written (missing permission, full disk, not a folder)."""

    exit_code = 7


class SiteFileError(IxlEvalError):
    """A site file of a multi-site evaluation (:mod:`ixl_eval.federated`) is refused or cannot be
    written: unreadable, tampered with, made with another package version or parameter set, or
    an existing file in the way. The message names the file, the site and the mismatch."""

    exit_code = 8
