"""ixl-eval: evaluation toolkit of Insieme per il lavoro (Bologna).

Notebooks in ``notebooks/`` call into this package; ``ixl-eval`` (:mod:`ixl_eval.cli`) runs them.
Start with :func:`ixl_eval.dataset.load_dataset` and :class:`ixl_eval.report.Report`.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"


# --------------------------------------------------------------------------- stable module names
# The estimators live in ixl_eval.estimate and the presentation helpers in ixl_eval.report; their
# earlier names (``ixl_eval.survival``, ``from ixl_eval import causal``...) stay importable, as the
# same module objects, so code and notebooks written against them keep working.
import importlib as _importlib
import importlib.abc as _abc
import importlib.util as _util
import sys as _sys

_MOVED = {m: f"estimate.{m}" for m in ("cohorts", "survival", "causal", "design", "placement_time", "ips",
                                        "stabilisation", "kpi", "multiplicity", "distributions")}
_MOVED.update({m: f"report.{m}" for m in ("present", "survplot")})


class _MovedModules(_abc.MetaPathFinder, _abc.Loader):
    """Resolves ``ixl_eval.<old name>`` to the module at its new place (no copy, no reload)."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, tail = fullname.partition(".")
        if head == __name__ and tail in _MOVED:
            return _util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return _importlib.import_module(f"{__name__}.{_MOVED[spec.name.partition('.')[2]]}")

    def exec_module(self, module):
        pass  # already executed under its own name


if not any(type(f).__name__ == "_MovedModules" for f in _sys.meta_path):
    _sys.meta_path.insert(0, _MovedModules())
