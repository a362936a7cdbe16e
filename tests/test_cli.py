"""The ixl-eval command: verbs exist and relative paths are taken from where the user is."""

import pytest

from ixl_eval.cli import build_parser, main


def test_the_fixed_verbs_exist():
    p = build_parser()
    for argv in (["synth"], ["validate", "d"], ["run", "p.yaml", "--data", "d"], ["params", "check", "f"]):
        assert p.parse_args(argv).verb == argv[0]


def test_relative_paths_are_relative_to_the_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["synth", "--out", "rel", "--seed", "3"]) == 0
    assert (tmp_path / "rel" / "participants.csv").is_file()
    assert main(["validate", "rel"]) == 0
    assert "VALID" in capsys.readouterr().out


def test_a_missing_directory_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "nowhere"]) != 0
    assert str(tmp_path / "nowhere") in capsys.readouterr().err


def test_no_verb_is_a_usage_error():
    with pytest.raises(SystemExit):
        main([])
