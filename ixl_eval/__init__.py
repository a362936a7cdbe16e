"""ixl-eval: evaluation toolkit of Insieme per il lavoro (Bologna).

Notebooks in ``notebooks/`` call into this package; ``ixl-eval`` (:mod:`ixl_eval.cli`) runs them.
Start with :func:`ixl_eval.dataset.load_dataset` and :class:`ixl_eval.report.Report`.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
