"""The calibrated synthetic generator: determinism, calibration to the 2024 report, validity,
scale, truth.json, recovery of the true parameters, and the ``synth`` CLI verb.

Calibration targets are read from ``published-figures.yaml`` (never typed here) and the
generated figures are computed in this file with plain pandas, independently of
:func:`ixl_eval.synth.calibration_table`. Tolerances are the issue's: enrolments exact, the 2023
mix within 2 percentage points, everything else within 5% (relative, also for shares).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from ixl_eval import paths, synth
from ixl_eval.exceptions import IxlEvalError

FIG = yaml.safe_load(paths.PUBLISHED_FIGURES.read_text(encoding="utf-8"))
CUT = pd.Timestamp("2024-04-30")


# --------------------------------------------------------------------------------------------
# figures computed from the data, independently of the generator
# --------------------------------------------------------------------------------------------


def _p_year(ds, y):
    p = ds.participants
    return p[p["enrolled_on"].dt.year == y]


def _pl_year(ds, y):
    pl = ds.placements
    return pl[pl["started_on"].dt.year == y]


def _q1(ds, y):
    pl = ds.placements
    return pl[(pl["started_on"] >= f"{y}-01-01") & (pl["started_on"] <= f"{y}-03-31")]


def _ips_taken(ds):
    pr = ds.programmes
    ips = pr[(pr["programme"] == "ips") & (pr["offered_on"] >= "2019-01-01") & (pr["offered_on"] <= CUT)]
    return ips, ips[ips["started_on"].notna()]


def _ips_during(ds):
    """Placements that started while the person was in IPS (start to end, or the cut-off)."""
    _, taken = _ips_taken(ds)
    m = ds.placements.merge(taken[["participant_id", "started_on", "ended_on"]], on="participant_id",
                            suffixes=("", "_ips"))
    end = m["ended_on_ips"].fillna(CUT)
    return m[(m["started_on"] >= m["started_on_ips"]) & (m["started_on"] <= end)]


def _first_placement(ds):
    return ds.placements.groupby("participant_id")["started_on"].min()


def _targets():
    """(id, target, tolerance, kind, compute) for every calibration figure of the issue."""
    e, pl, ips = FIG["enrolments"], FIG["placements"], FIG["ips"]
    out = []
    for y, v in e["by_year"].items():
        out.append((f"enrolments_{y}", v, 0, "abs", lambda ds, y=int(y): len(_p_year(ds, y))))
    out.append(("enrolments_jan1_feb16_2023", e["jan1_to_feb16_2023"], 0, "abs",
                lambda ds: int(ds.participants["enrolled_on"].between("2023-01-01", "2023-02-16").sum())))
    for y in (2022, 2023):
        out.append((f"under_40_share_{y}", e[f"under_40_{y}"] / e["by_year"][y], 0.02, "abs",
                    lambda ds, y=y: ((y - _p_year(ds, y)["birth_year"]) < 40).mean()))
    out.append(("foreign_share_2023", e["foreign_origin_2023"]["share"], 0.02, "abs",
                lambda ds: (_p_year(ds, 2023)["citizenship"] != "IT").mean()))
    out.append(("foreign_share_2022", e["foreign_origin_share_2022"], 0.02, "abs",
                lambda ds: (_p_year(ds, 2022)["citizenship"] != "IT").mean()))
    for c, v in e["top_citizenships_2023_share"].items():
        def share(ds, c=c):
            cz = _p_year(ds, 2023)["citizenship"]
            return (cz == c).sum() / (cz != "IT").sum()
        out.append((f"citizenship_{c}_share_of_foreign_2023", v, 0.02, "abs", share))
    total_edu = sum(e["education_2023"].values())
    for lvl, v in e["education_2023"].items():
        out.append((f"education_{lvl}_2023", v / total_edu, 0.02, "abs",
                    lambda ds, lvl=lvl: (_p_year(ds, 2023)["education"] == lvl).mean()))
    for y, v in pl["by_year"].items():
        out.append((f"placements_{y}", v, 0.05, "rel", lambda ds, y=int(y): len(_pl_year(ds, y))))
    out.append(("persons_placed_2023", pl["persons_placed_2023"], 0.05, "rel",
                lambda ds: _pl_year(ds, 2023)["participant_id"].nunique()))
    out.append(("persons_first_placed_2023", pl["persons_first_placed_2023"], 0.05, "rel",
                lambda ds: int((_first_placement(ds).dt.year == 2023).sum())))
    for t, v in pl["contract_type_2023"].items():
        if isinstance(v, dict):
            out.append((f"contract_{t}_share_2023", v["share"], 0.05, "rel",
                        lambda ds, t=t: (_pl_year(ds, 2023)["contract_type"] == t).mean()))
    size_groups = {"large_over_250": ["large"], "medium_and_small": ["medium", "small"], "micro_under_10": ["micro"]}
    for k, v in pl["employer_size_share_2023"].items():
        out.append((f"employer_{k}_share_2023", v, 0.05, "rel",
                    lambda ds, g=size_groups[k]: _pl_year(ds, 2023)["employer_size"].isin(g).mean()))
    top = pl["top_employer_share_2023"]
    out.append((f"employer_{top['employer']}_share_2023", top["share"], 0.05, "rel",
                lambda ds: _pl_year(ds, 2023)["employer_name"].eq(top["employer"]).fillna(False).mean()))
    for y, v in pl["q1"].items():
        out.append((f"placements_q1_{y}", v, 0.05, "rel", lambda ds, y=int(y): len(_q1(ds, y))))
    for y, v in pl["permanent_q1"].items():
        out.append((f"permanent_q1_{y}", v, 0.05, "rel",
                    lambda ds, y=int(y): int((_q1(ds, y)["contract_type"] == "permanent").sum())))

    def tper(ds, lo, hi):
        p = ds.placements
        return int(((p["employer_name"] == "TPER") & (p["contract_type"] == "permanent")
                    & p["started_on"].between(lo, hi)).sum())
    out.append(("tper_permanent_nov_dec_2023", pl["tper_permanent"]["nov_dec_2023"], 0.05, "rel",
                lambda ds: tper(ds, "2023-11-01", "2023-12-31")))
    out.append(("tper_permanent_q1_2024", pl["tper_permanent"]["q1_2024"], 0.05, "rel",
                lambda ds: tper(ds, "2024-01-01", "2024-03-31")))
    out.append(("ips_offered", ips["offered"], 0.05, "rel", lambda ds: len(_ips_taken(ds)[0])))
    out.append(("ips_declined", ips["declined"], 0.05, "rel",
                lambda ds: int((_ips_taken(ds)[0]["decision"] == "declined").sum())))
    out.append(("ips_taken_in_charge", ips["taken_in_charge"], 0.05, "rel", lambda ds: len(_ips_taken(ds)[1])))
    out.append(("ips_employed_during", ips["found_work_during_ips"]["persons"], 0.05, "rel",
                lambda ds: _ips_during(ds)["participant_id"].nunique()))
    out.append(("ips_contracts", ips["contracts_signed"], 0.05, "rel", lambda ds: len(_ips_during(ds))))
    iv = FIG["intake_interviews"]
    out.append(("interviews_2023", iv["done_2023"], 0.05, "rel",
                lambda ds: int((ds.interviews["interviewed_on"].dt.year == 2023).sum())))
    out.append(("interviews_q1_2024_share_of_enrolled", iv["q1_2024_share_of_enrolled_interviewed"], 0.05, "rel",
                lambda ds: ds.interviews["interviewed_on"].between("2024-01-01", "2024-03-31").sum()
                / ds.participants["enrolled_on"].between("2024-01-01", "2024-03-31").sum()))
    return out


TARGETS = _targets()


@pytest.mark.parametrize("name,target,tol,kind,compute", TARGETS, ids=[t[0] for t in TARGETS])
def test_calibration_target(synth_dataset, name, target, tol, kind, compute):
    got = float(compute(synth_dataset))
    allowed = tol if kind == "abs" else tol * abs(target)
    assert abs(got - target) <= allowed + 1e-9, f"{name}: generated {got:.4g}, report {target} (±{allowed:.3g})"


def test_gender_mix_as_the_report_says(synth_dataset):
    # The YAML states it in words: "2022 exactly half women; 2023 clearly more men than women".
    assert "2022 exactly half women" in FIG["enrolments"]["gender"]
    w22 = (_p_year(synth_dataset, 2022)["gender"] == "F").mean()
    g23 = _p_year(synth_dataset, 2023)["gender"].value_counts(normalize=True)
    assert abs(w22 - 0.5) <= 0.02
    assert g23["M"] - g23["F"] >= 0.10


def test_calibration_table_agrees_with_independent_figures(synth_dir, synth_dataset):
    res = synth.generate(estimands=False)
    table = synth.calibration_table(res).set_index("figure")
    assert table["ok"].all(), table[~table["ok"]]
    mine = {name: float(compute(synth_dataset)) for name, _, _, _, compute in TARGETS}
    for name in ("placements_2023", "persons_placed_2023", "ips_contracts", "interviews_2023"):
        assert table.loc[name, "generated"] == pytest.approx(mine[name])


# --------------------------------------------------------------------------------------------
# determinism, scale, validity, identifiers
# --------------------------------------------------------------------------------------------


def test_same_seed_same_frames_and_truth():
    a, b = synth.generate(seed=11, scale=0.3), synth.generate(seed=11, scale=0.3)
    for t in a.frames:
        pd.testing.assert_frame_equal(a.frames[t], b.frames[t])
    assert json.dumps(a.truth, sort_keys=True, default=str) == json.dumps(b.truth, sort_keys=True, default=str)
    c = synth.generate(seed=12, scale=0.3)
    assert not a.frames["placements"]["participant_id"].equals(c.frames["placements"]["participant_id"])


def test_estimands_come_from_separate_streams_and_make_sense(synth_truth):
    """The estimands do not touch the data's random stream (same frames with or without them), and
    they order as the model implies: ITT below ATT below the conditional log-HR (non-collapsibility),
    with small Monte Carlo error."""
    a, b = synth.generate(seed=11, scale=0.3), synth.generate(seed=11, scale=0.3, estimands=False)
    for t in a.frames:
        pd.testing.assert_frame_equal(a.frames[t], b.frames[t])
    assert "estimands" not in b.truth
    e = synth_truth["estimands"]
    offer, start = e["ips"]["offer"], e["ips"]["start"]
    assert (offer["estimand"], start["estimand"]) == ("ITT", "ATT")
    assert 0.6 < offer["log_hr"] < start["log_hr"] < synth_truth["ips_log_hr"]
    for c in (offer, start):
        assert 0 < c["placed_6m_risk_difference"] < c["placed_12m_risk_difference"] < 0.7
        assert c["mc_se"]["log_hr"] < 0.03 and c["mc_se"]["placed_12m_risk_difference"] < 0.01
    tot = e["time_to_placement_total"]
    assert set(tot["log_hr"]) == set(synth_truth["cox_log_hr"])
    # IPS goes to older, less educated people and speeds them up: their total effect is less negative
    assert tot["log_hr"]["age_band=50+"] > synth_truth["cox_log_hr"]["age_band=50+"] - 3 * tot["mc_se"]["age_band=50+"]


def test_frames_have_contract_columns_and_dtypes():
    from ixl_eval.contract import TABLES

    res = synth.generate(seed=5, scale=0.2, estimands=False)
    for name, frame in res.frames.items():
        expected = [c.name for c in TABLES[name].columns if c.required or c.name in frame.columns]
        assert list(frame.columns) == expected
        for c in TABLES[name].columns:
            if c.name not in frame.columns:
                continue
            dtype = frame[c.name].dtype
            if c.kind == "date":
                assert dtype == "datetime64[ns]", (name, c.name, dtype)
            elif c.kind == "int":
                assert dtype == np.int64, (name, c.name, dtype)
            else:
                assert dtype == object, (name, c.name, dtype)


def test_scale_two_doubles_the_population():
    one, two = synth.generate(seed=3, scale=1, estimands=False), synth.generate(seed=3, scale=2, estimands=False)
    p1, p2 = one.frames["participants"], two.frames["participants"]
    assert len(p2) == 2 * len(p1)
    by_year = lambda f, col: f[col].dt.year.value_counts().sort_index()  # noqa: E731
    pd.testing.assert_series_equal(by_year(p2, "enrolled_on"), 2 * by_year(p1, "enrolled_on"))
    pd.testing.assert_series_equal(by_year(two.frames["placements"], "started_on"),
                                   2 * by_year(one.frames["placements"], "started_on"))
    assert two.truth["realised"]["shortfall"] == dict.fromkeys(two.truth["realised"]["shortfall"], 0)


def test_data_directory_is_valid(synth_dir):
    from ixl_eval.validate import validate_dir

    report = validate_dir(synth_dir)
    assert report.ok, [str(f) for f in report.errors[:10]]
    assert len(report.warnings) == 0, [str(f) for f in report.warnings[:10]]
    assert report.source == "synthetic"
    assert str(report.extracted_on) == "2024-04-30"


def test_identifiers_and_employer_names(synth_dataset):
    ds = synth_dataset
    assert ds.participants["participant_id"].str.fullmatch(r"P\d{6}").all()
    assert ds.placements["placement_id"].str.fullmatch(r"C\d{7}").all()
    assert ds.placements["employer_id"].str.fullmatch(r"E\d{5}").all()
    named = ds.placements[ds.placements["employer_name"].notna()]
    names = set(named["employer_name"])
    assert {"Camst", "TPER", "Coop Alleanza 3.0"} <= names and len(names) <= 6
    assert (named["employer_size"] == "large").all()
    assert named.groupby("employer_name")["employer_id"].nunique().eq(1).all()
    # Few named employers, many anonymous ones: names never leak to the others.
    assert ds.placements["employer_name"].isna().mean() > 0.6


def test_no_placement_after_withdrawal_and_one_first_placement(synth_dataset):
    ds = synth_dataset
    first = _first_placement(ds)
    wd = ds.participants.set_index("participant_id")["withdrawn_on"]
    placed_and_withdrawn = wd.reindex(first.index).notna()
    assert not placed_and_withdrawn.any()  # withdrawal means "left unplaced"
    assert ds.placements["started_on"].max() <= CUT


# --------------------------------------------------------------------------------------------
# truth.json and recovery of the true parameters
# --------------------------------------------------------------------------------------------


def test_truth_json_next_to_the_data(synth_dir, synth_truth):
    assert (synth_dir / "truth.json").is_file()
    assert set(synth_truth["cox_log_hr"]) == set(synth.COVARIATES)
    assert synth_truth["reference_levels"] == {"gender": "M", "age_band": "<30", "citizenship_group": "IT",
                                               "education": "upper_secondary_diploma"}
    assert synth_truth["ips_log_hr"] > 0
    assert set(synth_truth["conversion"]["log_hr"]) == {"small", "medium", "large"}
    assert synth_truth["seed"] == synth.DEFAULT_SEED
    cal = synth_truth["realised"]["calibration"]
    assert cal and all(r["ok"] for r in cal)
    assert not any(synth_truth["realised"]["shortfall"].values())


def _design(p: pd.DataFrame) -> pd.DataFrame:
    age = p["enrolled_on"].dt.year - p["birth_year"]
    edu = p["education"]
    return pd.DataFrame({
        "gender=F": (p["gender"] == "F").astype(int),
        "gender=X": (p["gender"] == "X").astype(int),
        "age_band=30-39": age.between(30, 39).astype(int),
        "age_band=40-49": age.between(40, 49).astype(int),
        "age_band=50+": (age >= 50).astype(int),
        "citizenship_group=foreign": (p["citizenship"] != "IT").astype(int),
        "education=none_or_compulsory": (edu == "none_or_compulsory").astype(int),
        "education=vocational_qualification": (edu == "vocational_qualification").astype(int),
        "education=degree_or_postgraduate": (edu == "degree_or_postgraduate").astype(int),
    })


def test_cox_recovers_the_true_log_hazard_ratios():
    """Cox on time to first placement, stratified by enrolment year, recovers cox_log_hr."""
    from lifelines import CoxPHFitter

    res = synth.generate(seed=101, scale=2, estimands=False)
    f = res.frames
    p = f["participants"]
    offered_ips = f["programmes"].loc[f["programmes"]["programme"] == "ips", "participant_id"]
    p = p[~p["participant_id"].isin(offered_ips)]  # offer depends on covariates only: no bias
    first = f["placements"].groupby("participant_id")["started_on"].min()
    placed_on = p["participant_id"].map(first)
    end = placed_on.fillna(p["withdrawn_on"]).fillna(CUT)
    d = _design(p)
    d["time"] = (end - p["enrolled_on"]).dt.days + 0.5
    d["event"] = placed_on.notna().astype(int)
    d["year"] = p["enrolled_on"].dt.year
    cph = CoxPHFitter().fit(d, "time", "event", strata=["year"])
    truth = pd.Series(res.truth["cox_log_hr"])
    z = (cph.params_ - truth[cph.params_.index]) / cph.standard_errors_
    assert (z.abs() < 3.5).all(), pd.DataFrame({"est": cph.params_, "truth": truth, "z": z})
    big = truth[truth.abs() >= 0.3].index
    assert (np.sign(cph.params_[big]) == np.sign(truth[big])).all()


def test_cox_recovers_the_conversion_hazard_ratios_by_employer_size():
    from lifelines import CoxPHFitter

    res = synth.generate(seed=202, scale=2, estimands=False)
    ft = res.frames["placements"]
    ft = ft[ft["contract_type"] == "fixed_term"]
    end = ft["converted_on"].fillna(ft["ended_on"]).fillna(CUT)
    d = pd.DataFrame({s: (ft["employer_size"] == s).astype(int) for s in ("small", "medium", "large")})
    d["time"] = (end - ft["started_on"]).dt.days + 0.5
    d["event"] = ft["converted_on"].notna().astype(int)
    cph = CoxPHFitter().fit(d, "time", "event")
    truth = pd.Series(res.truth["conversion"]["log_hr"])
    z = (cph.params_ - truth[cph.params_.index]) / cph.standard_errors_
    assert (z.abs() < 3.5).all(), pd.DataFrame({"est": cph.params_, "truth": truth, "z": z})
    assert cph.params_["large"] > cph.params_["small"]


def test_ips_uptake_is_confounded_by_covariates(synth_dataset, synth_truth):
    """Those offered IPS are older and less educated than the rest (as truth's offer model says)."""
    ds = synth_dataset
    offered, _ = _ips_taken(ds)
    p = ds.participants[ds.participants["enrolled_on"] >= "2018-11-01"]
    is_off = p["participant_id"].isin(offered["participant_id"])
    age = p["enrolled_on"].dt.year - p["birth_year"]
    assert synth_truth["ips_offer_log_odds"]["age_band=50+"] > 0
    assert (age[is_off] >= 50).mean() > (age[~is_off] >= 50).mean() + 0.05
    low = p["education"] == "none_or_compulsory"
    assert low[is_off].mean() > low[~is_off].mean() + 0.05


# --------------------------------------------------------------------------------------------
# writing and the CLI verb
# --------------------------------------------------------------------------------------------


def test_main_synth_refuses_a_non_empty_directory(tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(IxlEvalError, match="not empty"):
        synth.main_synth(out=out, seed=1, scale=0.05)
    assert synth.main_synth(out=out, seed=1, scale=0.05, force=True) == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"  # only data files are replaced
    assert (out / "truth.json").is_file() and (out / "participants.csv").is_file()


def test_main_synth_default_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "DEFAULT_DATA_DIR", tmp_path / "bundled")
    assert synth.main_synth(out=None, seed=1, scale=0.05, fmt="parquet") == 0
    assert (tmp_path / "bundled" / "placements.parquet").is_file()
    assert "calibration" in capsys.readouterr().out


def test_cli_synth_then_validate(tmp_path, capsys):
    from ixl_eval.cli import main

    out = tmp_path / "data"
    assert main(["synth", "--out", str(out), "--seed", "4", "--scale", "0.1", "--format", "csv-it"]) == 0
    assert main(["validate", str(out)]) == 0
    assert main(["synth", "--out", str(out), "--scale", "0.1"]) == IxlEvalError.exit_code
    assert "--force" in capsys.readouterr().err
    text = (out / "participants.csv").read_text(encoding="utf-8-sig")
    assert re.search(r"\d\d/\d\d/20\d\d", text)  # Italian-style dates


def test_bad_scale_is_a_domain_error(tmp_path):
    with pytest.raises(IxlEvalError):
        synth.main_synth(out=tmp_path / "x", scale=0)
    with pytest.raises(ValueError):
        synth.generate(scale=-1)
