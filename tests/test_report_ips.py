"""ixl_eval.report.ips: the IPS notebook's typed tables, their joint protection, and an audit
that attacks what the notebook publishes.

The audit writes down, independently of :func:`ixl_eval.report.ips.relations`, the arithmetic a
reader knows about the IPS outputs (offered = declined + accepted-not-started + taken in charge;
years add up to the total; in each group, people to start from = exclusions + people analysed;
the people analysed are the estimates' arm sizes and the people followed at month 0; a 1:1
matched comparison arm is as large as the matched IPS arm; share x base = count), and solves,
for every withheld count, the smallest and largest value the published numbers allow
(``scipy.optimize.linprog``, as tau-Argus audits a table). A withheld count must never be pinned
to a single value.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ixl_eval import disclosure, ips
from ixl_eval.report import ips as ips_report
from ixl_eval.report import render, vocab
from ixl_eval.report.table import PRIMARY, SHOWN

K = 10
SUFFIX = ips_report.CONTRASTS


# ------------------------------------------------------------------------------ the audit
class _LP:
    """Unknown (withheld) counts as variables, published ones as constants, linear relations."""

    def __init__(self, k: int):
        self.k = k
        self.var: dict = {}
        self.bounds: list = []
        self.eq: list = []  # (coefs {var: a}, constant c): sum a x + c == 0 (within tol)
        self.tol: list = []

    def term(self, value, status: str, name):
        """A cell as (variable index or None, constant)."""
        if not status:
            return None, float(value)
        if name not in self.var:
            self.var[name] = len(self.var)
            self.bounds.append((1, self.k - 1) if status == f"<{self.k}" else (0, None))
        return self.var[name], 0.0

    def add(self, terms, tol: float = 1e-6):
        """``terms``: list of (coef, (var, const)); the relation sum coef * cell == 0."""
        coefs, c = {}, 0.0
        for a, (v, const) in terms:
            if v is None:
                c += a * const
            else:
                coefs[v] = coefs.get(v, 0.0) + a
        if coefs:
            self.eq.append((coefs, c))
            self.tol.append(tol)
        else:
            assert abs(c) <= max(tol, 1e-6), f"published numbers break a relation by {c}"

    def intervals(self) -> dict:
        from scipy.optimize import linprog

        n = len(self.var)
        if not n:
            return {}
        A, b = [], []
        for (coefs, c), tol in zip(self.eq, self.tol):
            row = np.zeros(n)
            for v, a in coefs.items():
                row[v] = a
            A += [row, -row]
            b += [-c + tol, c + tol]
        out = {}
        for name, v in self.var.items():
            cost = np.zeros(n)
            cost[v] = 1
            lo = linprog(cost, A_ub=np.array(A) if A else None, b_ub=np.array(b) if b else None, bounds=self.bounds)
            hi = linprog(-cost, A_ub=np.array(A) if A else None, b_ub=np.array(b) if b else None, bounds=self.bounds)
            assert lo.status == 0, f"audit LP infeasible: {lo.message}"
            out[name] = (lo.fun, -hi.fun if hi.status == 0 else math.inf)
        return out


def _cell(lp, frames, t, i, col):
    df = frames[t]
    if col not in df.columns:
        return None, 0.0
    st = df.at[i, f"{col}__status"] if f"{col}__status" in df.columns else ""
    st = "" if st is None or (isinstance(st, float) and math.isnan(st)) else str(st)
    return lp.term(df.at[i, col], st, (t, i, col))


def audit(frames: dict, records: list, k: int = K) -> dict:
    """Every withheld count of the IPS notebook with the interval the published numbers leave it.

    ``frames``: ``{table name: the CSV frame}`` (values, empty where withheld, ``<col>__status``);
    ``records``: the notebook's results.json records. Returns ``{(table, row, column): (lo, hi)}``.
    """
    lp = _LP(k)
    f = frames["imbuto_ips"]
    tot = len(f) - 1
    counts = [c for c in ips.FUNNEL_COUNTS if c in f.columns]
    for i in range(len(f)):  # offered = declined + accepted_not_started + taken_in_charge
        lp.add([(1, _cell(lp, frames, "imbuto_ips", i, "offered"))]
               + [(-1, _cell(lp, frames, "imbuto_ips", i, c))
                  for c in ("declined", "accepted_not_started", "taken_in_charge")])
        # share x taken = employed; contracts per employed x employed = contracts (when shown)
        for ratio, num, den in (("share_employed", "employed_during_ips", "taken_in_charge"),
                                ("contracts_per_employed", "contracts_signed", "employed_during_ips")):
            st = f.at[i, f"{ratio}__status"] if f"{ratio}__status" in f.columns else ""  # unprotected: shown
            if not st and not pd.isna(f.at[i, ratio]):
                lp.add([(float(f.at[i, ratio]), _cell(lp, frames, "imbuto_ips", i, den)),
                        (-1, _cell(lp, frames, "imbuto_ips", i, num))], tol=0.01)
    for c in counts:  # the years add up to the total
        lp.add([(1, _cell(lp, frames, "imbuto_ips", i, c)) for i in range(tot)]
               + [(-1, _cell(lp, frames, "imbuto_ips", tot, c))])
    for contrast, sfx in SUFFIX.items():
        ex_name = f"persone_confronto_{sfx}"
        ex = frames[ex_name]
        analysed = {}
        for g in dict.fromkeys(ex["group"]):
            rows = list(np.flatnonzero(ex["group"].to_numpy() == g))
            lp.add([(1, _cell(lp, frames, ex_name, rows[0], "n"))]
                   + [(-1, _cell(lp, frames, ex_name, r, "n")) for r in rows[1:]])
            analysed[g] = rows[-1]
        treated, comparison = list(analysed)
        first_ips = int(np.flatnonzero(ex["group"].to_numpy() == treated)[0])
        lp.add([(1, _cell(lp, frames, "imbuto_ips", tot, "offered")), (-1, _cell(lp, frames, ex_name, first_ips, "n"))])
        if contrast == "start":
            for col, reason in (("declined", "declined_offer"), ("accepted_not_started", "accepted_not_started")):
                for lang in ("it", "en"):
                    hit = np.flatnonzero((ex["group"] == treated).to_numpy()
                                         & (ex["item"] == vocab.level("ips_exclusion", reason, lang)).to_numpy())
                    if len(hit):
                        lp.add([(1, _cell(lp, frames, "imbuto_ips", tot, col)), (-1, _cell(lp, frames, ex_name, int(hit[0]), "n"))])
        est_name = f"stime_{sfx}"
        if est_name in frames:
            est = frames[est_name]
            for i in range(len(est)):
                m = est.at[i, "method"]
                if m in (vocab.level("ips_method", x, lang) for x in ("naive", "iptw") for lang in ("it", "en")):
                    lp.add([(1, _cell(lp, frames, est_name, i, "n_treated")), (-1, _cell(lp, frames, ex_name, analysed[treated], "n"))])
                    lp.add([(1, _cell(lp, frames, est_name, i, "n_control")), (-1, _cell(lp, frames, ex_name, analysed[comparison], "n"))])
                else:
                    lp.add([(1, _cell(lp, frames, est_name, i, "n_treated")), (-1, _cell(lp, frames, est_name, i, "n_control"))])
        ar_name = f"a_rischio_{sfx}"
        if ar_name in frames:
            ar = frames[ar_name]
            for j, g in enumerate((treated, comparison)):
                lp.add([(1, _cell(lp, frames, ar_name, j, "m0")), (-1, _cell(lp, frames, ex_name, analysed[g], "n"))])
        # results.json: the arm size n of the raw and IPTW estimates is the IPS people analysed
        for r in records:
            if f"__contrast={contrast}__method=" in r["key"] and r["key"].split("method=")[1] in ("naive", "iptw") \
                    and r.get("n") is not None:
                lp.add([(1, lp.term(r["n"], "", None)), (-1, _cell(lp, frames, ex_name, analysed[treated], "n"))])
    for key, col in (("ips_offered", "offered"), ("ips_declined", "declined"), ("ips_taken_in_charge", "taken_in_charge"),
                     ("ips_employed_during", "employed_during_ips"), ("ips_contracts_signed", "contracts_signed")):
        r = next((r for r in records if r["key"] == key), None)
        if r is not None and r["value"] is not None:
            lp.add([(1, lp.term(r["value"], "", None)), (-1, _cell(lp, frames, "imbuto_ips", tot, col))])
    return lp.intervals()


def pinned(intervals: dict) -> dict:
    """Withheld counts the published numbers determine exactly."""
    return {k: v for k, v in intervals.items()
            if math.isfinite(v[1]) and math.floor(v[1] + 1e-6) <= math.ceil(v[0] - 1e-6)}


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def analysis(synth_dataset):
    return ips.analyse(synth_dataset)


def _published(analysis, synth_dir, lang="it", relations=True):
    from ixl_eval.report import Report

    rep = Report.open("efficacia_ips", data_dir=str(synth_dir), lang=lang, disclosure_threshold=K)
    tabs = ips_report.tables(analysis, lang=lang)
    rels = ips_report.relations(tabs) if relations else []
    tabs = rep.publish(*tabs.values(), relations=rels)
    ips_report.record_results(rep, analysis, tabs)
    return rep, tabs


@pytest.fixture(scope="module")
def published(analysis, synth_dir):
    return _published(analysis, synth_dir)


def _frames(tabs, lang="it"):
    return {name: render.csv_frame(t, lang, K) for name, t in tabs.items()}


def _records(rep):
    return [r.as_dict() for r in rep.final_records()]


# ------------------------------------------------------------------------------ tables are data
def test_funnel_has_no_language_and_the_report_adds_the_total(analysis):
    f = analysis.funnel
    assert "period" not in f.columns and f["year"].notna().all()  # years only, no "Totale" row
    t = ips_report.funnel_table(f, "en")
    assert t.data["period"].iloc[-1] == "Total" and t.total_row
    assert t.data["offered"].iloc[-1] == f["offered"].sum() == analysis.total["offered"]
    assert t.data["share_employed"].between(0, 1).all()


def test_every_table_holds_numbers(published):
    _, tabs = published
    for t in tabs.values():
        for c in t.cols:
            if c.role in ("label", "text"):
                continue
            assert pd.api.types.is_numeric_dtype(t.data[c.key]), (t.name, c.key)
            if c.role == "count":
                assert pd.api.types.is_integer_dtype(t.data[c.key]), (t.name, c.key)
    est = tabs["stime_proposta"].data
    for col in ("difference", "ratio"):
        d = est.dropna(subset=[col])
        assert len(d) and (d[f"{col}_low"] <= d[col]).all() and (d[col] <= d[f"{col}_high"]).all()
    assert (est["difference"].isna() != est["ratio"].isna()).all()  # each row one kind of estimate


def test_sentences_and_records_follow_the_protected_tables(published, analysis):
    rep, tabs = published
    est = tabs["stime_proposta"]
    recs = {r["key"]: r for r in _records(rep)}
    i = est.find({"outcome": vocab.level("ips_outcome", "placed_12m"), "method": vocab.level("ips_method", "iptw")})
    r = recs["placed_12m__contrast=offer__method=iptw"]
    assert r["value"] == pytest.approx(est.data.at[i, "difference"])
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((est.data.at[i, "difference_low"], est.data.at[i, "difference_high"]))
    if est.status.at[i, "n_treated"] != SHOWN:
        assert r["n"] is None and r["suppressed"].startswith("n_")
        text = ips_report.effect_paragraph(analysis.effects["offer"], est, "it", K)
        assert f" {int(est.data.at[i, 'n_treated'])} persone IPS" not in text


def test_a_tiny_threshold_shows_every_count_and_a_huge_one_none(analysis):
    tabs = ips_report.tables(analysis, "it")
    disclosure.protect(tabs.values(), 1, relations=ips_report.relations(tabs))
    assert not any(t.any_hidden() for t in tabs.values())
    s = ips_report.describe_effect(analysis.effects["start"], tabs["stime_presa_in_carico"], "it", 1)
    assert "persone IPS" in s[1]
    tabs = ips_report.tables(analysis, "it")
    disclosure.protect(tabs.values(), 10_000, relations=ips_report.relations(tabs))
    s = ips_report.describe_effect(analysis.effects["start"], tabs["stime_presa_in_carico"], "it", 10_000)
    assert s[0].startswith("Le persone prese in carico da IPS sono meno di 10000")


# ------------------------------------------------------------------------------ the leaks
def test_old_protection_let_262_minus_258_give_4_and_the_audit_sees_it(analysis):
    # Reproduction of the leak of issue 10 with the old per-table suppression: the offer
    # contrast's IPS block showed 262 people to start from and 258 analysed beside a "<10".
    ex = ips_report.exclusion_table(analysis.frames["offer"], "it")
    # what the notebook used to publish: each count below K marked on its own
    old = [f"<{K}" if 0 < v < K else str(v) for v in ex.data["n"]]
    ips_rows = ex.data["group"] == "IPS"
    shown = [v for v, r in zip(old, ips_rows) if r]
    assert shown[0] == "262" and shown[-1] == "258" and shown[1] == f"<{K}"
    assert 262 - 258 == ex.data.loc[ips_rows, "n"].iloc[1] == 4
    # the same table, protected block by block, withholds a partner
    tabs = ips_report.tables(analysis, "it")
    disclosure.protect(tabs.values(), K, relations=ips_report.relations(tabs))
    t = tabs["persone_confronto_proposta"]
    assert (t.status.loc[ips_rows.to_numpy(), "n"] != SHOWN).sum() == 2


def test_no_withheld_count_can_be_recovered(published):
    rep, tabs = published
    frames = _frames(tabs)
    iv = audit(frames, _records(rep))
    assert iv, "the bundled data have withheld IPS counts: the audit must see them"
    assert not pinned(iv), pinned(iv)
    # the funnel's small year and the offer contrast's small exclusion are among them
    assert ("persone_confronto_proposta", 1, "n") in iv and ("persone_confronto_proposta", 2, "n") in iv


def test_without_the_relations_the_audit_recovers_a_count(analysis, synth_dir):
    # Switching one protection off (the links across tables) must be seen: the estimates table
    # would then show the 258 people analysed that the exclusion table withholds.
    rep, tabs = _published(analysis, synth_dir, relations=False)
    leaks = pinned(audit(_frames(tabs), _records(rep)))
    assert ("persone_confronto_proposta", 2, "n") in leaks or ("persone_confronto_proposta", 1, "n") in leaks


def test_without_the_block_lines_the_audit_recovers_a_count(analysis):
    tabs = ips_report.tables(analysis, "it")
    ex = {tabs[f"persone_confronto_{sfx}"].name for sfx in SUFFIX.values()}
    for name in ex:
        tabs[name].by = None  # one column line over both groups, as the old table had
    # and without the block relations (the lines whose members all lie in one exclusion table)
    rels = [r for r in ips_report.relations(tabs)
            if not any(all(m[0] == f"ips_{c}_people" for m in r) for c in SUFFIX)]
    assert len(rels) < len(ips_report.relations(tabs))
    disclosure.protect(tabs.values(), K, relations=rels)
    assert pinned(audit(_frames(tabs), []))


def test_charts_draw_nothing_withheld(published, analysis):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, tabs = published
    ar = tabs["a_rischio_proposta"]
    fig = ips_report.plot_cumulative(analysis.frames["offer"], ar, analysis.effects["offer"].weights["iptw"],
                                     lang="it", k=K)
    ax, axt = fig.axes
    texts = [t.get_text() for t in axt.texts]
    months = [c.key for c in ar.cols if c.role == "count"]
    for j in range(len(ar.data)):
        for m, c in enumerate(months):
            assert texts[j * len(months) + m] == render.cell_text(ar, j, c, "it", K)
            if ar.status.at[j, c] != SHOWN:
                assert texts[j * len(months) + m] in (f"<{K}", "c")
    # curves end where fewer than k people remain followed
    frame, w = analysis.frames["offer"], analysis.effects["offer"].weights["iptw"].to_numpy()
    for line, grp in zip(ax.get_lines(), (1, 0)):
        tt = frame["time"].to_numpy()[(frame["treated"].to_numpy() == grp) & (w > 0)]
        assert (tt >= line.get_xdata().max()).sum() >= K
    plt.close(fig)


def test_status_codes_are_consistent(published):
    _, tabs = published
    f = tabs["imbuto_ips"]
    for i in range(len(f.data)):
        for c in f.counts:
            v = f.data.at[i, c]
            if 0 < v < K:
                assert f.status.at[i, c] == PRIMARY
            if v == 0:
                assert f.status.at[i, c] == SHOWN  # zeros are shown


# ------------------------------------------------------------------------------ the run's files
@pytest.mark.slow
def test_csv_files_hold_numbers_equal_to_results_json(suite_run):
    run = suite_run.run_dir
    recs = {r["key"]: r for r in json.loads((run / "results.json").read_text(encoding="utf-8"))
            if r["notebook"] == "efficacia_ips"}
    files = sorted((run / "tables").glob("efficacia_ips__*.csv"))
    assert {p.stem.split("__", 1)[1] for p in files} >= {"imbuto_ips", "persone_confronto_proposta", "stime_proposta",
                                                         "stime_presa_in_carico", "equilibrio_proposta"}
    schemas = {s["name"]: s for s in json.loads((run / "fragments" / "tables" / "efficacia_ips.json").read_text(encoding="utf-8"))}
    frames = {}
    for p in files:
        df = pd.read_csv(p, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
        name = p.stem.split("__", 1)[1]
        labels = {c["key"] for c in schemas[name]["cols"] if c["role"] in ("label", "text")}
        assert labels < set(df.columns) and len(labels) < len(schemas[name]["cols"])
        for c in df.columns:
            if c in labels or c.endswith("__status"):
                continue
            assert pd.api.types.is_numeric_dtype(df[c]), (p.name, c, df[c].dtype)
        for c in [c for c in df.columns if c.endswith("__status")]:
            df[c] = df[c].fillna("")
        frames[name] = df
    f = frames["imbuto_ips"]
    for key, col in (("ips_offered", "offered"), ("ips_declined", "declined"), ("ips_taken_in_charge", "taken_in_charge"),
                     ("ips_employed_during", "employed_during_ips"), ("ips_contracts_signed", "contracts_signed"),
                     ("ips_share_employed", "share_employed")):
        v = f[col].iloc[-1]
        assert (recs[key]["value"] is None) == pd.isna(v)
        if not pd.isna(v):
            assert recs[key]["value"] == pytest.approx(v, rel=1e-9)
    for contrast, sfx in SUFFIX.items():
        est = frames[f"stime_{sfx}"]
        for i in range(len(est)):
            outcome = next(k for k in ips.OUTCOMES if vocab.level("ips_outcome", k) == est.at[i, "outcome"])
            method = next(k for k in ("naive", "iptw", "matching") if vocab.level("ips_method", k) == est.at[i, "method"])
            r = recs[f"{outcome}__contrast={contrast}__method={method}"]
            col = "difference" if outcome in ("placed_6m", "placed_12m", "permanent_12m") else "ratio"
            assert r["value"] == pytest.approx(est.at[i, col], rel=1e-9)
            assert r["ci_low"] == pytest.approx(est.at[i, f"{col}_low"], rel=1e-9)
            n = est.at[i, "n_treated"]
            assert (r["n"] is None) == pd.isna(n) and (pd.isna(n) or r["n"] == n)
    # and the audit on the published files finds nothing to recover
    assert not pinned(audit(frames, list(recs.values())))
