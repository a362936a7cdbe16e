"""Several cities: site exports and pooled analyses (issue 15).

The bundled synthetic data are split into three sites of different size and case mix
(:func:`ixl_eval.federated.site_of`); each exports its aggregates; the pool must equal, to 1e-9,
the same grid estimators on all records together, and leak no count below k.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ixl_eval import federated as F
from ixl_eval.cli import main
from ixl_eval.params import load_params

PARAMS = Path(__file__).resolve().parents[1] / "params" / "default.yaml"


@pytest.fixture(scope="module")
def fed(synth_dir, synth_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("federated")
    dirs = F.split_dataset(synth_dir, root / "data")
    files = {}
    for site, d in dirs.items():
        files[site] = root / f"{site}.zip"
        assert main(["site", "export", str(PARAMS), "--data", str(d), "--site", site, "--out", str(files[site])]) == 0
    run_dir = F.pool(PARAMS, list(files.values()), outputs_dir=root / "outputs")
    pset = load_params(PARAMS)
    return {"root": root, "dirs": dirs, "files": files, "run": run_dir, "pset": pset,
            "k": int(pset.disclosure_threshold), "ds": synth_dataset,
            "sites": {s: F.read_site(f) for s, f in files.items()}}


def test_sites_differ_in_size_and_mix(fed):
    from ixl_eval.dataset import load_dataset

    sizes, late = {}, {}
    for s, d in fed["dirs"].items():
        p = load_dataset(d).participants
        sizes[s] = len(p)
        late[s] = float((p["enrolled_on"].dt.year >= 2021).mean())
    assert len(set(sizes.values())) == 3 and sum(sizes.values()) == len(fed["ds"].participants)
    assert max(late.values()) - min(late.values()) > 0.2


def _all_records_tables(fed):
    """The fine grid tables on all records together (the same code the sites run)."""
    return F.site_tables(fed["ds"], fed["pset"])


def test_pooled_grid_estimators_equal_all_records(fed):
    whole = _all_records_tables(fed)
    worst = {"counts": 0.0, "km": 0.0, "aj": 0.0, "logrank": 0.0}
    compared = []
    for name in [n for n in whole if n != "kpi"]:
        causes = (1, 2)
        summed, partial, starts = F.pool_risk_tables({s: sf.tables[name] for s, sf in fed["sites"].items()}, causes)
        if not len(summed):  # every level withheld by some site (recorded in its manifest)
            continue
        compared.append(name)
        ref = F.regrid(whole[name].assign(start=np.round(whole[name]["start"], 6)), starts, causes)
        ref = F.merge_levels(ref, [lv.split(F.SEP) for lv in dict.fromkeys(summed.level)], causes)
        for lv in dict.fromkeys(summed.level):
            a = summed[summed.level == lv].sort_values("start").reset_index(drop=True)
            b = ref[ref.level == lv].sort_values("start").reset_index(drop=True)
            for c in F.COUNT_COLS:
                worst["counts"] = max(worst["counts"], float(np.abs(a[c].to_numpy(float)[:-1] - b[c].to_numpy(float)[:-1]).max(initial=0)))
            # closed intervals: the open last one may hold a site's ended follow-up (coarsen)
            closed = slice(0, max(len(a) - 1, 0))
            assert (a["n_risk"].to_numpy() == b["n_risk"].to_numpy()).all()
            if len(a) < 2:
                continue
            ea, eb = F.grid_estimates(a).iloc[closed], F.grid_estimates(b).iloc[closed]
            worst["km"] = max(worst["km"], float(np.abs(ea["survival"] - eb["survival"]).max()))
            worst["aj"] = max(worst["aj"], float(np.abs(ea[["cif_1", "cif_2"]].to_numpy() - eb[["cif_1", "cif_2"]].to_numpy()).max()))
        if summed.level.nunique() >= 2 and len(starts) >= 2:
            la, lb = F.grid_logrank(summed), F.grid_logrank(ref)
            worst["logrank"] = max(worst["logrank"], abs(la["statistic"] - lb["statistic"]), abs(la["p_value"] - lb["p_value"]))
    print("max abs differences pooled vs all records:", worst, "tables:", compared)
    assert {"ttp__all", "ttp__gender", "ttp__age_band", "conv__all", "conv__employer_size"} <= set(compared)
    assert worst["counts"] == 0
    assert max(worst.values()) <= 1e-9


def test_grid_estimator_is_kaplan_meier_and_logrank_on_grid_times(fed):
    """The grid estimator equals the package's KM (held to R) and log-rank with times rounded down
    to the grid: it is the exact estimator on the grid, not an approximation of it."""
    from ixl_eval.survival import AalenJohansen, KaplanMeier, logrank

    f = F._ttp_frame(fed["ds"], fed["pset"])
    starts = F.month_grid(f["time"].max())
    j = np.searchsorted(starts, f["time"].to_numpy(), side="right") - 1
    rt = F.grid_table(f, None, starts)
    e = F.grid_estimates(rt)
    km = KaplanMeier().fit(j, f["event"].to_numpy(), event_of_interest=1)
    got = km.survival_at(np.arange(len(starts)))["survival"].to_numpy()
    assert np.abs(got - e["survival"].to_numpy()).max() < 1e-12
    aj = AalenJohansen().fit(j, f["event"].to_numpy())
    assert np.abs(aj.cif_at(np.arange(len(starts)), cause=2)["cif"].to_numpy() - e["cif_2"].to_numpy()).max() < 1e-12
    rg = F.grid_table(f, "gender", starts)
    lr = logrank(j, f["event"].to_numpy(), f["gender"].astype(str).to_numpy())
    assert abs(F.grid_logrank(rg)["statistic"] - lr.statistic) < 1e-9


def test_pooled_kpi_equal_all_records(fed):
    """Pooled KPI counts equal the all-records quarters summed on the pooled grid."""
    from ixl_eval.kpi import Indicators

    pooled = pd.read_csv(next(fed["run"].glob("tables/pool__pooled_kpi.csv")), encoding="utf-8-sig", dtype={"period": str})
    whole = Indicators().fit(fed["ds"]).table("quarter")
    whole["period"] = whole["period"].astype(str)
    shown = pooled.dropna(subset=["count"])
    for c, p, v in zip(shown["indicator"], shown["period"], shown["count"]):
        lev = F.kpi_level(p)
        inside = [q for q in whole["period"] if F.kpi_label(q, lev) == p]
        assert inside and v == whole.loc[whole["period"].isin(inside), c].sum(), (c, p)
    assert len(shown) > 0.6 * len(pooled)
    assert set(pooled["indicator"]) == set(F.KPI_COUNTS)


def test_kpi_coarsened_not_withheld(fed):
    """A site with small quarters sends half-years or years, listed in its manifest."""
    k, coarsened = fed["k"], 0
    for site, sf in fed["sites"].items():
        t = sf.tables["kpi"]
        rec = next(d for d in sf.manifest["disclosure"] if d["table"] == "kpi")
        levels = t["period"].map(F.kpi_level)
        assert sorted(rec["coarsened"]) == sorted({f"{p[:4]}/{c}: {L}" for c, p, L in zip(t["indicator"], t["period"], levels)
                                                   if L != "quarter"})
        coarsened += len(rec["coarsened"])
        v = t["count"].dropna()
        assert ((v == 0) | (v >= k)).all()
        # a withheld cell is a whole year (or protects one)
        assert len(rec["withheld"]) == t["count"].isna().sum()
    assert coarsened > 0


def test_meta_cox_agrees_with_site_stratified_cox(fed):
    from ixl_eval.survival import CoxModel

    st = F._settings(fed["pset"])
    frames = []
    for s, d in fed["dirs"].items():
        from ixl_eval.dataset import load_dataset

        f, _ = F.cox_frame(F._ttp_frame(load_dataset(d), fed["pset"]), st["cox_covariates"], fed["k"])
        frames.append(f.assign(site=s))
    allf = pd.concat(frames, ignore_index=True)
    ref = next(iter(fed["sites"].values())).cox["reference"]
    m = CoxModel(st["cox_covariates"], strata=["site"] + st["cox_strata"], reference=ref).fit(allf, event_of_interest=1)
    meta = F.meta_cox({s: sf.cox for s, sf in fed["sites"].items()}).set_index("term")
    assert len(meta) >= 3
    for term, row in meta.iterrows():
        se = float(np.sqrt(m.variance_.loc[term, term]))
        assert abs(row["fixed"] - m.params_[term]) < se, term
        assert abs(row["fixed_se"] - se) < 0.2 * se


def test_meta_analysis_textbook():
    # DerSimonian-Laird by hand: Q = 8, df = 2, c = 300 - 30000/300 = 200, tau2 = 6/200
    r = F.meta_analysis([0.0, 0.2, 0.4], [0.1, 0.1, 0.1])
    assert r["fixed"] == pytest.approx(0.2) and r["Q"] == pytest.approx(8.0)
    assert r["tau2"] == pytest.approx(0.03) and r["I2"] == pytest.approx(0.75)
    assert r["random_se"] == pytest.approx(np.sqrt((0.01 + 0.03) / 3))


def test_pooled_run_folder_and_audit(fed):
    from ixl_eval.audit import audit_run

    run = fed["run"]
    for f in ("index.html", "pool.html", "results.json", "manifest.json"):
        assert (run / f).is_file(), f
    man = json.loads((run / "manifest.json").read_text())
    assert {s["site"] for s in man["sites"]} == set(fed["files"])
    assert all(len(s["sha256"]) == 64 for s in man["sites"])
    html = (run / "pool.html").read_text()
    assert "DATI SINTETICI" in html and "eterogeneità" in html and "data:image/png;base64" in html
    res = audit_run(run)
    assert res.ok, res.summary()
    # never overwrite: a second pool is a new folder
    again = F.pool(PARAMS, list(fed["files"].values()), outputs_dir=run.parent)
    assert again != run and run.is_dir()


def test_no_count_below_k_in_any_export(fed):
    k = fed["k"]
    for site, path in fed["files"].items():
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.endswith(".parquet"):
                    df = pd.read_parquet(io.BytesIO(z.read(n)))
                    for c in df.columns:
                        if c in F.COUNT_COLS or c in F.KPI_COUNTS:
                            v = df[c].dropna().to_numpy(float)
                            assert not ((v > 0) & (v < k)).any(), (site, n, c)
                elif n == "cox.json":
                    cox = json.loads(z.read(n))
                    assert cox is None or cox["n"] is None or (cox["n"] >= k and cox["events"] >= k)
                elif n == "ips.json":
                    ips = json.loads(z.read(n)) or {}
                    for key, e in ips.items():
                        if isinstance(e, dict):
                            assert e["n_treated"] >= k and e["n_control"] >= k, (site, key)
                else:
                    assert n == "manifest.json", n


def test_show_says_what_leaves(fed, capsys):
    f = fed["files"]["modena"]
    assert main(["site", "show", str(f)]) == 0
    out = capsys.readouterr().out
    assert "no records of people" in out and "modena" in out and "kpi" in out


def _rewrite(src: Path, dst: Path, edit) -> Path:
    with zipfile.ZipFile(src) as z:
        items = {n: z.read(n) for n in z.namelist()}
    edit(items)
    with zipfile.ZipFile(dst, "w") as z:
        for n, b in items.items():
            z.writestr(n, b)
    return dst


def test_refusals(fed, capsys, tmp_path):
    files = fed["files"]
    good = [str(files["bologna"]), str(files["ferrara"])]

    def tamper(items):
        df = pd.read_parquet(io.BytesIO(items["ttp__all.parquet"]))
        df.loc[0, "events_1"] += 10
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        items["ttp__all.parquet"] = buf.getvalue()

    def version(items):
        m = json.loads(items["manifest.json"])
        m["package_version"] = "0.0.9"
        items["manifest.json"] = json.dumps(m).encode()

    cases = {"tampered": (tamper, "tampered with"), "version": (version, "0.0.9")}
    for name, (edit, says) in cases.items():
        bad = _rewrite(files["modena"], tmp_path / f"{name}.zip", edit)
        rc = main(["pool", str(PARAMS), *good, str(bad), "--outputs", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert rc != 0 and "modena" in err and says in err, err
    # another parameter set
    other = tmp_path / "other.yaml"
    other.write_text(PARAMS.read_text().replace("disclosure_threshold: 10", "disclosure_threshold: 11"))
    rc = main(["site", "export", str(other), "--data", str(fed["dirs"]["modena"]), "--site", "modena",
               "--out", str(tmp_path / "other.zip")])
    assert rc == 0
    rc = main(["pool", str(PARAMS), *good, str(tmp_path / "other.zip"), "--outputs", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc != 0 and "modena" in err and "another parameter set" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_ips_pooled_from_conclusive_site_estimates(fed):
    pooled = pd.read_csv(fed["run"] / "tables" / "pool__ips_meta.csv", encoding="utf-8-sig")
    row = pooled[(pooled.contrast == "offer") & (pooled.measure == "hazard_ratio")].iloc[0]
    use = [sf.ips["offer__iptw"] for sf in fed["sites"].values()
           if sf.ips and sf.ips.get("offer__iptw", {}).get("conclusive")]
    m = F.meta_analysis([e["log_hr"] for e in use], [e["log_hr_se"] for e in use])
    assert row["fixed"] == pytest.approx(np.exp(m["fixed"]), rel=1e-8)
    for sf in fed["sites"].values():  # balance summaries only: no covariate means leave a site
        for key, e in sf.ips.items():
            if isinstance(e, dict):
                assert not any(x.startswith("mean") for x in e), key


def test_english_report(fed, tmp_path):
    en = Path(__file__).resolve().parents[1] / "params" / "english.yaml"
    files = []
    for site in ("bologna", "ferrara"):
        files.append(tmp_path / f"{site}.zip")
        F.export_site(en, fed["dirs"][site], site, files[-1])
    run = F.pool(en, files, outputs_dir=tmp_path / "out")
    html = (run / "pool.html").read_text()
    assert 'lang="en"' in html and "SYNTHETIC DATA" in html and "heterogeneity" in html


def test_no_level_recoverable_from_the_overall_table(fed):
    """A level too small to send is merged, not withheld: the overall table minus the levels sent
    would give it back."""
    for site, sf in fed["sites"].items():
        tot = sf.tables["ttp__all"].sort_values("start")["n_risk"].iloc[0]
        for name, t in sf.tables.items():
            if name.startswith("ttp__") and name != "ttp__all" and len(t):
                first = t[t["start"] == t["start"].min()]
                assert first["n_risk"].sum() == tot, (site, name)
        cox = sf.cox
        assert not cox["levels_left_out"] or cox["n"] is None


def test_no_lone_withheld_kpi_quarter(fed):
    """Each indicator's periods add up to a total the risk tables reveal: never one withheld alone."""
    for site, sf in fed["sites"].items():
        k = sf.tables["kpi"]
        enr = k[k["indicator"] == "enrolments"]["count"]
        if enr.notna().all():
            assert enr.sum() == sf.tables["ttp__all"].sort_values("start")["n_risk"].iloc[0]
        for c in F.KPI_COUNTS:
            assert k.loc[k["indicator"] == c, "count"].isna().sum() != 1, (site, c)


def test_audit_every_site_file(fed):
    """The disclosure audit attacks each export: no count in 1..k-1, no withheld cell recoverable."""
    for site, f in fed["files"].items():
        res = F.audit_site_file(f, fed["k"])
        assert res.ok, (site, res.summary())
        assert res.withheld == int(fed["sites"][site].tables["kpi"]["count"].isna().sum()) + sum(
            int(t[list(F.COUNT_COLS)].isna().sum().sum()) for n, t in fed["sites"][site].tables.items() if n != "kpi")


def _rewrite_member(src, dst, name, change):
    import io
    import zipfile

    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w") as zo:
        for n in zi.namelist():
            b = zi.read(n)
            if n == f"{name}.parquet":
                t = pd.read_parquet(io.BytesIO(b))
                change(t)
                buf = io.BytesIO()
                t.to_parquet(buf, index=False)
                b = buf.getvalue()
            zo.writestr(n, b)


def test_audit_fails_when_protection_is_off(fed, tmp_path, monkeypatch):
    k = fed["k"]
    # 1. levels exported unmerged and the grid not coarsened (coarsen switched off)
    monkeypatch.setattr(F, "coarsen", lambda tb, k, causes=(1, 2), landmarks=None: (tb, {}))
    monkeypatch.setattr(F, "_check_counts", lambda *a, **kw: None)
    out = tmp_path / "raw.zip"
    F.export_site(PARAMS, fed["dirs"]["modena"], "modena", out)
    res = F.audit_site_file(out, k)
    # protect() alone withholds the small cells, but the relations give many of them back
    assert any(f["rule"] == "recovered_by_relations" for f in res.findings), res
    assert any(f["rule"] == "pinned_below_k" for f in res.findings), res
    # 2. one cell withheld alone: the relations give it back
    src = fed["files"]["modena"]

    def blank_risk(t):
        t.loc[(t["level"] == t["level"].iloc[0]) & (t["interval"] == 1), "events_1"] = np.nan

    _rewrite_member(src, tmp_path / "r.zip", "ttp__gender", blank_risk)
    assert any(f["rule"] == "recovered_by_relations" for f in F.audit_site_file(tmp_path / "r.zip", k).findings)
    _rewrite_member(src, tmp_path / "a.zip", "ttp__all", lambda t: t.__setitem__("censored", t["censored"].where(t["interval"] != 2)))
    assert any(f["rule"] == "recovered_by_relations" for f in F.audit_site_file(tmp_path / "a.zip", k).findings)

    def blank_kpi(t):
        t.loc[t.index[(t["indicator"] == "enrolments")][0], "count"] = np.nan

    _rewrite_member(src, tmp_path / "k.zip", "kpi", blank_kpi)
    assert any(f["rule"] == "recovered_by_relations" for f in F.audit_site_file(tmp_path / "k.zip", k).findings)
