"""Malformed inputs found by a traceback hunt: each a clean error, exit 1, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tariffs.cli import main

FIX = Path(__file__).parent / "fixtures" / "revise"
ARGS = ["--contracts", str(FIX / "network.toml"), "--indices", str(FIX)]
HEADER = "contract,term,period,quantity,unit_price,amount_excl_vat\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_an_xlsx_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "inv.xlsx"
    path.write_text(HEADER + "network,R1,2008-09,100,20.51,2051.00\n")
    result = run("audit", path, *ARGS)
    assert result.exit_code == 1 and "not a readable invoice file" in result.output
    assert "Traceback" not in result.output


def test_nan_and_infinite_amounts_are_invalid_lines_not_numbers(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(
        HEADER + "network,R1,2008-09,100,nan,2051.00\nnetwork,R1,2008-10,inf,20.51,2051.00\n"
    )
    result = run("audit", path, *ARGS, "--format", "json")
    assert result.exit_code == 1 and "NaN" not in result.stdout and "Infinity" not in result.stdout
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert codes == ["invalid-line", "invalid-line"]


def test_absurd_settlement_numbers_are_refused(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + "network,R1,2008-09,100,20.51,2051.00\n")
    contract = tmp_path / "c.toml"
    settlement = '\n[settlement]\ntarget_mwh = 2000\nreference_dju = 2300\nprice_term = "R1"\n'
    contract.write_text(
        (FIX / "network.toml").read_text().replace("\n[revision]", settlement + "\n[revision]", 1)
    )
    args = ["--contracts", contract, "--indices", FIX]
    result = run("audit", path, *args, "--dju", "1e30", "--metered", "1e30")
    assert result.exit_code == 1 and "expected a number below" in result.output
    assert "Traceback" not in result.output


def test_output_to_a_device_is_written_in_place(tmp_path):
    result = run("revise", FIX / "network.toml", "--indices", FIX, "--at", "2008-09", "--format", "csv",
                 "-o", "/dev/null")  # fmt: skip
    assert result.exit_code == 0 and Path("/dev/null").is_char_device()
