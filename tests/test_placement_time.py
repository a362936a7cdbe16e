"""The time-to-placement analysis of notebook 10: consistency of what it shows and records."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from ixl_eval import placement_time as pt  # noqa: E402
from ixl_eval.disclosure import suppress_table  # noqa: E402


@pytest.fixture(scope="module")
def analysis(synth_dataset):
    return pt.analyse(synth_dataset, k=10)


def test_analysis_is_consistent(analysis):
    a = analysis
    f = a.frame
    assert a.km.n_ == len(f) and a.km.n_events_ == int((f["event"] == 1).sum())
    # with withdrawals as a competing event, fewer people are placed than 1 - KM suggests
    for h in a.horizons:
        km = float(a.km.cumulative_at([h])["cumulative"].iloc[0])
        aj = float(a.aj.cif_at([h], 1)["cif"].iloc[0])
        assert 0 < aj < km < 1
    assert set(a.by) >= {"gender", "age_band", "education", pt.COHORT_COL}
    for col, fits in a.by.items():
        sub = f if col != pt.COHORT_COL else f.loc[f[col].notna()]
        assert sum(km.n_ for km in fits.values()) == len(sub)
        assert a.logrank[col].table["n"].sum() == len(sub)
    assert a.cox is not None and a.cox.strata == ["enrolment_year"]
    assert {"covariate", "p", "violated"} <= set(a.ph.columns)


def test_tables_suppress_and_link(analysis):
    t = pt.km_table(analysis, "gender", "it")
    shown = suppress_table(t.df, t.count_cols, 10, estimates=t.estimates, lines=t.lines)
    x = shown.iloc[2]  # gender X: fewer than 10 placements in the synthetic data
    assert x["Inserimenti"] == "<10" and x["Giorni mediani (IC 95%)"] == "<10"
    m = shown.iloc[1]  # men: a count withheld only to protect X's keeps its estimates
    assert m["Giorni mediani (IC 95%)"] not in ("<10", "c") and m["Entro 365 giorni"] not in ("<10", "c")
    hr = pt.hr_display(analysis, "en")
    assert (hr.df["Placements"] >= 10).all()
    assert any("Non-binary" in s for s in hr.df.attrs["left_out"])
    r = pt.risk_table(analysis, "age_band", "en")
    assert r.df[r.count_cols].diff(axis=1).iloc[:, 1:].le(0).all().all()  # at risk only decreases
    c = pt.cohort_table(analysis, "en").df
    assert c["n"].iloc[0] == len(analysis.frame) and c["n"].iloc[-3:].sum() == len(analysis.frame)


@pytest.mark.parametrize("lang", ["it", "en"])
def test_sentences_are_plain_and_complete(analysis, lang):
    texts = pt.summary_sentences(analysis, lang) + [
        pt.describe_overall(analysis, lang), pt.describe_competing(analysis, lang),
        pt.describe_subgroup(analysis, "age_band", lang), pt.describe_cohorts(analysis, lang),
        pt.describe_cox(analysis, lang), pt.describe_ph(analysis, lang), pt.caveats_text(analysis, lang)]
    for s in texts:
        assert s and "nan" not in s.lower().split() and "None" not in s.replace("None or compulsory", "")
    assert texts[0].startswith("Su 100 persone" if lang == "it" else "Of every 100 people")
    if lang == "it":
        assert "," in pt.describe_cox(analysis, lang)  # decimal comma


def test_records(analysis):
    class Rep:
        def __init__(self):
            self.recs = {}

        def record(self, key, value, **kw):
            assert key not in self.recs
            self.recs[key] = (value, kw)

    rep = Rep()
    n = pt.record_analysis(rep, analysis)
    assert n == len(rep.recs) > 50
    v, kw = rep.recs["km_median_days"]
    assert v == analysis.km.median_ or (v is None and math.isnan(analysis.km.median_))
    v, kw = rep.recs["cox_hr__age_band=50+"]
    assert kw["ci"][0] < v < kw["ci"][1] < 1
    assert 0 <= rep.recs["ph_global_p"][0] <= 1
    assert "cox_cohort_hr__enrolment_cohort=2023" in rep.recs


def test_figures(analysis):
    import matplotlib.pyplot as plt

    fig = pt.figure_km(analysis, "gender", "it")
    counts = [t.get_text() for t in fig.axes[1].texts]
    assert len(counts) == 3 * 5  # three genders with at least k people, five times
    assert all(c.startswith("<") or c == "c" or c.replace(".", "").isdigit() for c in counts)
    # the figure shows exactly what the report's number-at-risk table shows
    t = pt.risk_table(analysis, "gender", "it")
    table = suppress_table(t.df, t.count_cols, 10, lines=t.lines)[t.count_cols].to_numpy().ravel().tolist()
    assert counts == table
    for f in (fig, pt.figure_competing(analysis, "en"), pt.figure_forest(analysis, "it"),
              pt.figure_schoenfeld(analysis, "it")):
        plt.close(f)


def test_interview_time_zero_and_window(synth_dataset):
    a = pt.analyse(synth_dataset, time_zero="interview", enrol_from="2022-01-01", subgroups=("gender",),
                   cox_covariates=("age_band",), k=10)
    ex = a.frame.attrs["excluded"]
    assert ex["no_time_zero"] > 0 and ex["enrolled_outside_window"] > 0
    assert (a.frame["enrolment_year"] >= 2022).all()
    assert "primo colloquio" in pt.caveats_text(a, "it")
    assert np.isfinite(a.cox.hr_table_["hr"]).all()


def test_a_level_without_placements_is_pooled_not_fatal(synth_dataset):
    """A sparse level (here: gender X with every placement removed) used to make the whole Cox model
    disappear ("does not converge"); it is now pooled with the reference level, and the report says so."""
    import dataclasses

    ds = synth_dataset
    x = ds.participants.loc[ds.participants["gender"] == "X", "participant_id"]
    assert len(x) > 0
    ds2 = dataclasses.replace(ds, placements=ds.placements.loc[~ds.placements["participant_id"].isin(x)])
    a = pt.analyse(ds2)
    assert a.cox is not None, a.cox_note
    assert a.cox_pooled == {"gender": {"X": "M"}}
    assert not any(t.startswith("gender=X") for t in a.cox.hr_table_["term"])
    assert len(a.cox.hr_table_) == 8
    assert "pooled" in pt.describe_cox(a, "en") and "riuniti" in pt.describe_cox(a, "it")
    assert "total" in pt.describe_cox(a, "en")
    # the unpooled data keep every level (nothing pooled when no level is sparse)
    assert pt.analyse(ds).cox_pooled == {}
