"""Sentences several reports share: how many tests were run, which sparse groups were pooled.

Examples
--------
>>> tests_sentence([0.01, 0.04, 0.3], "en")
'3 tests were run together: 2 have a p-value below 0.05, 1 still does after the Holm adjustment for multiple tests.'
"""

from __future__ import annotations

import numpy as np

from ..estimate.design import OTHER
from ..estimate.multiplicity import holm
from . import vocab

__all__ = ["tests_sentence", "pooled_sentence"]


def tests_sentence(pvalues, lang: str = "it", alpha: float = 0.05) -> str:
    """How many tests were run and how many stay below ``alpha`` before and after Holm."""
    p = np.asarray(pvalues, dtype=float)
    p = p[~np.isnan(p)]
    raw, adj = int((p < alpha).sum()), int((holm(p) < alpha).sum())
    a = f"{alpha:.2f}".replace(".", ",") if lang == "it" else f"{alpha:.2f}"
    if lang == "it":
        return (f"Sono stati eseguiti {len(p)} test insieme: {raw} hanno un valore p sotto {a}, "
                f"{adj} anche dopo la correzione di Holm per i test multipli.")
    return (f"{len(p)} tests were run together: {raw} have a p-value below {a}, "
            f"{adj} still {'does' if adj == 1 else 'do'} after the Holm adjustment for multiple tests.")


def pooled_sentence(pooled: dict, lang: str = "it", what: tuple[str, str] = ("persone", "people"),
                    min_count: float = 5) -> str:
    """One plain sentence naming the pooled levels and where they went ("" when nothing was pooled).

    Examples
    --------
    >>> pooled_sentence({"gender": {"X": "M"}}, "en", ("placements", "placements"))
    'So the model can be estimated, groups with fewer than 5 placements were pooled with another group: gender: Non-binary / n.a. → Men.'
    """
    if not pooled:
        return ""
    def lab(c, v):
        if v == OTHER:
            return vocab.word("others_few", lang).lower()
        return vocab.level(c, v, lang)  # a merged label ("2018-2019") is shown as it is

    parts = []
    for c, m in pooled.items():
        name = vocab.column(c, lang)
        parts.append(f"{name.lower()}: " + ", ".join(f"{lab(c, k)} → {lab(c, v)}" for k, v in m.items()))
    n = int(min_count)
    if lang == "it":
        return (f"Per poter stimare il modello, i gruppi con meno di {n} {what[0]} sono stati riuniti a un altro "
                "gruppo: " + "; ".join(parts) + ".")
    return (f"So the model can be estimated, groups with fewer than {n} {what[1]} were pooled with another group: "
            + "; ".join(parts) + ".")
