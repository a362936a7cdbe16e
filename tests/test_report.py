"""Report: the notebook's context — validation gate, cut-off, records and tables under disclosure."""

import json

import pandas as pd
import pytest

from ixl_eval.exceptions import DataValidationError, DisclosureError, ParamsError
from ixl_eval.report import Report


@pytest.fixture()
def rep(synth_dir, tmp_path):
    return Report.open("prova", data_dir=str(synth_dir), output_dir=str(tmp_path), disclosure_threshold=10)


def test_cutoff_after_extract_is_refused(synth_dir):
    with pytest.raises(ParamsError, match="after the data extraction date"):
        Report.open("prova", data_dir=str(synth_dir), cutoff="2099-01-01")


def test_invalid_data_never_reach_a_report(tmp_path, synth_dir):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in synth_dir.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    p = bad / "participants.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",F,", ",Q,").replace(",M,", ",Q,")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError):
        Report.open("prova", data_dir=str(bad))


def test_small_counts_and_their_partners_are_withheld_in_records(rep, tmp_path):
    rep.record("people__gender=F", 500, unit="people")
    rep.record("people__gender=M", 480, unit="people")
    rep.record("people__gender=X", 3, unit="people")
    rep.record("people", 983, unit="people")
    rep.record("median_days__gender=F", 120.0, n=500, unit="days")
    rep.record("median_days__gender=M", 140.0, n=480, unit="days")
    rep.record("median_days__gender=X", 99.0, n=3, unit="days")
    rep.finish()
    recs = {r["key"]: r for r in json.loads((tmp_path / "fragments" / "prova.json").read_text())["records"]}
    # X is below the threshold; M (the smallest partner) goes too, or X = total - F - M
    assert recs["people__gender=X"]["value"] is None
    assert recs["people__gender=M"]["value"] is None
    assert recs["people__gender=F"]["value"] == 500 and recs["people"]["value"] == 983
    assert recs["median_days__gender=X"]["value"] is None and recs["median_days__gender=X"]["n"] is None
    assert recs["median_days__gender=M"]["n"] is None and recs["median_days__gender=M"]["value"] == 140.0
    assert recs["median_days__gender=F"]["n"] == 500


def test_tables_refuse_identifiers_and_write_suppressed_csv(rep, tmp_path):
    from ixl_eval.report import Col, Table

    with pytest.raises(DisclosureError):
        rep.publish(Table("ids", pd.DataFrame({"participant_id": ["P1"], "n": [1]}),
                          [Col("participant_id", "Id", "Id"), Col("n", "N", "N", role="count")]))
    with pytest.raises(TypeError, match="takes a Table"):
        rep.table(pd.DataFrame({"gruppo": ["a"], "n": [4]}))
    rep.table(Table("gruppi", pd.DataFrame({"gruppo": ["a", "b", "c"], "n": [4, 20, 30]}),
                    [Col("gruppo", "Gruppo", "Group"), Col("n", "N", "N", role="count")]))
    back = pd.read_csv(tmp_path / "tables" / "prova__gruppi.csv")
    assert back["n"].isna().tolist() == [True, True, False] and back["n__status"].tolist()[:2] == ["<10", "c"]


def test_synthetic_banner_in_both_languages(synth_dir):
    it = Report.open("prova", data_dir=str(synth_dir)).header("Titolo", "Title").data
    en = Report.open("prova", data_dir=str(synth_dir), lang="en").header("Titolo", "Title").data
    assert "DATI SINTETICI" in it and "SYNTHETIC DATA" in en
