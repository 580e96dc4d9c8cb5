"""`tariffs check`, `revise` and `history` through click's CliRunner, exit codes included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tariffs.cli import main

FIX = Path(__file__).parent / "fixtures" / "revise"
STORE = ["--indices", str(FIX)]


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_check_valid_contracts():
    result = run("check", str(FIX / "network.toml"), str(FIX / "transport.toml"), *STORE)
    assert result.exit_code == 0, result.output
    assert "2 contract(s), 2 term(s)" in result.output


def test_check_broken_contract_names_file_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((FIX / "transport.toml").read_text().replace("weight = 0.5", "weight = 0.7"))
    result = run("check", str(bad), *STORE)
    assert result.exit_code == 1
    assert str(bad) in result.output and "terms[0]" in result.output
    assert "Traceback" not in result.output


def test_revise_json_of_a_mix_term_at_a_date():
    result = run("revise", str(FIX / "network.toml"), *STORE, "--at", "2008-09", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    by = {r["component"]: r for r in rows}
    oil = by["fuel-oil"]
    assert oil["at"] == "2008-07"
    assert oil["indices"][0]["period"] == "2008-04" and oil["indices"][0]["value"] == 117.61
    assert oil["indices"][0]["base_value"] == 54.77
    # K = 117.61 / 54.77 = 2.14734... -> 2.1473 ; price 18.4 x 2.1473 = 39.51032 -> 39.51
    assert oil["coefficient"] == 2.1473 and oil["price"] == 39.51
    assert by["wood"]["price"] == 18.4
    assert by[None]["price"] == round(0.9 * 18.4 + 0.1 * 39.51, 2)


def test_revise_reports_a_missing_series_and_how_to_import_it():
    result = run(
        "revise", str(FIX / "transport.toml"), *STORE, "--at", "2005-07", "--format", "json"
    )
    assert result.exit_code == 0
    row = json.loads(result.stdout)[0]
    assert row["status"] == "missing-index" and row["price"] is None
    assert "TR-LD" in result.stderr and "tariffs indices import" in result.stderr
    strict = run("revise", str(FIX / "transport.toml"), *STORE, "--at", "2005-07", "--strict")
    assert strict.exit_code == 1


def test_history_lists_every_revision_date():
    result = run("history", str(FIX / "network.toml"), *STORE, "--from", "2002-01", "--to", "2010-12",
                 "--format", "csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("contract,term,component,at")
    ats = {line.split(",")[3] for line in lines[1:]}
    assert ats == {f"{y}-07" for y in range(2002, 2011)}


@pytest.mark.parametrize(
    "args",
    [("--at", "2008-13"), ("--format", "xlsx"), ("--indices", "no-such-folder")],
)
def test_revise_bad_options_exit_1_without_traceback(args):
    result = run("revise", str(FIX / "network.toml"), *STORE, *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.output.strip()


def test_revise_writes_xlsx_atomically(tmp_path):
    out = tmp_path / "prices.xlsx"
    result = run("revise", str(FIX / "network.toml"), *STORE, "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    assert sheet.cell(1, 1).value == "contract" and sheet.max_row == 4
    assert [p.name for p in tmp_path.iterdir()] == ["prices.xlsx"]


def test_history_window_reversed_is_an_error():
    result = run(
        "history", str(FIX / "network.toml"), *STORE, "--from", "2009-01", "--to", "2008-01"
    )
    assert result.exit_code == 1 and "after" in result.output


@pytest.mark.parametrize("command", ["check", "revise", "history"])
def test_help_has_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and "Example" in result.output


def test_outputs_get_the_usual_file_mode(tmp_path):
    import os

    out = tmp_path / "prices.json"
    result = run("revise", str(FIX / "network.toml"), *STORE, "--format", "json", "-o", str(out))
    assert result.exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_strict_passes_when_everything_is_computed():
    result = run("revise", str(FIX / "network.toml"), *STORE, "--at", "2008-09", "--strict")
    assert result.exit_code == 0, result.output
    assert "no value" not in result.stderr and "needed by" not in result.stderr


def test_progress_bar_is_silent_when_not_a_terminal_and_shown_on_one(capsys):
    from tariffs.cli.common import progress

    with progress(2, "stage one", enabled=False) as step:
        step("stage two")
    assert capsys.readouterr().err == ""
    with progress(2, "stage one", enabled=True) as step:
        step("stage two")
        step()
    # rich writes to the real stderr only on a terminal; here it must not fail and must finish


def test_revise_output_is_unchanged_by_the_progress_bar_when_piped():
    result = run("revise", str(FIX / "network.toml"), *STORE, "--at", "2008-09", "--format", "csv")
    assert result.exit_code == 0 and result.stdout.startswith("contract,term,component,at")


def test_a_minimal_catalog_entry_is_enough(tmp_path):
    (tmp_path / "catalog.toml").write_text('[FOD]\nfrequency = "monthly"\nfile = "FOD.csv"\n')
    (tmp_path / "FOD.csv").write_text((FIX / "FOD.csv").read_text())
    result = run("revise", str(FIX / "network.toml"), "--indices", str(tmp_path), "--at", "2008-09",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {r["component"]: r["price"] for r in json.loads(result.stdout)}[None] == 20.51
