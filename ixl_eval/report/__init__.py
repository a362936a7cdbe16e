"""The report layer: typed tables, rendering and the reporting context of a notebook.

Estimation modules return plain results (numbers, no language, no threshold); this layer turns
them into :class:`~ixl_eval.report.table.Table` objects, protects them together
(:func:`ixl_eval.disclosure.protect`) and renders them (:mod:`ixl_eval.report.render`).
"""

from .context import COUNT_UNITS, FORBIDDEN_COLUMNS, Report
from .table import Col, Table

__all__ = ["Report", "Table", "Col", "COUNT_UNITS", "FORBIDDEN_COLUMNS"]
