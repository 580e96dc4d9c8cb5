"""``tariffs convert`` through click's CliRunner: output, formats, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tariffs.cli import main


def run(*args: str):
    return CliRunner().invoke(main, ["convert", *args])


def test_wood_tonne_to_pci_prints_the_value_alone():
    result = run("1", "t", "--to", "MWh_PCI", "--fuel", "wood", "--moisture", "30%")
    assert result.exit_code == 0, result.output
    assert result.output == "3.366\n"


def test_price_per_pci_to_price_per_useful_json():
    result = run("26.3", "EUR/MWh_PCI", "--to", "EUR/MWh_useful", "--efficiency", "0.85",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == {"value": pytest.approx(26.3 / 0.85), "unit": "EUR/MWh_useful"}


def test_gas_m3_with_bill_coefficient():
    result = run("1000", "m3", "--to", "MWh_PCI", "--fuel", "gas", "--pcs-kwh-per-m3", "11.2")
    assert result.exit_code == 0, result.output
    assert float(result.output) == pytest.approx(11.2 * 0.9)


def test_csv_shows_the_steps():
    result = run("95", "EUR/t", "--to", "EUR/MWh_PCI", "--fuel", "wood", "--moisture", "0.35",
                 "--format", "csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header == "value,unit,from_value,from_unit,steps"
    assert row.startswith("30.8742281443,EUR/MWh_PCI,95.0,EUR/t,")
    assert "3.077 MWh_PCI" in row


def test_table_format():
    result = run("1", "MWh_PCS", "--to", "MWh_PCI", "--fuel", "gas", "--format", "table")
    assert result.exit_code == 0, result.output
    assert "0.9" in result.output and "PCI/PCS of gas" in result.output


def test_output_file_is_written(tmp_path):
    target = tmp_path / "out.json"
    result = run("2", "GJ_PCI", "--to", "kWh_PCI", "--format", "json", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert json.loads(target.read_text()) == {
        "value": pytest.approx(555.555555556),
        "unit": "kWh_PCI",
    }


def test_text_output_file(tmp_path):
    target = tmp_path / "value.txt"
    result = run("1", "MWh_useful", "--to", "MWh_PCI", "--efficiency", "80%", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text() == "1.25\n"


def test_xlsx_needs_output():
    result = run("1", "MWh_PCI", "--to", "GJ_PCI", "--format", "xlsx")
    assert result.exit_code == 1
    assert "--format xlsx needs --output" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "MWh_PCI", "--to", "MWh_useful"],
         "error: converting MWh_PCI to MWh_useful needs --efficiency (global efficiency useful/PCI)"),
        (["1", "MWh_PCS", "--to", "MWh_PCI"], "needs --fuel"),
        (["1", "MWh_PCS", "--to", "MWh_PCI", "--fuel", "wood"], "no PCS/PCI ratio for wood"),
        (["1", "t", "--to", "MWh_PCI", "--fuel", "wood"], "needs --moisture"),
        (["1", "t", "--to", "MWh_PCI", "--fuel", "wood", "--moisture", "1.2"], "--moisture must be"),
        (["1", "MWh_XYZ", "--to", "MWh_PCI"], "unknown unit 'MWh_XYZ'"),
        (["1", "EUR/MWh_PCI", "--to", "MWh_PCI"], "cannot convert a price"),
        (["1", "MWh_PCI", "--to", "MWh_useful", "--efficiency", "-0.5"], "--efficiency must be in"),
        (["1", "MWh", "--to", "MWh_PCI"], "MWh has no energy basis"),
    ],
)  # fmt: skip
def test_bad_input_exits_1_with_a_message_and_no_traceback(args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args",
    [
        ["1", "MWh_PCI"],  # --to missing
        ["abc", "MWh_PCI", "--to", "GJ_PCI"],  # VALUE not a number
        ["1", "MWh_PCI", "--to", "GJ_PCI", "--fuel", "coal"],  # not a fuel
        ["1", "MWh_PCI", "--to", "GJ_PCI", "--format", "yaml"],
        ["1"],
    ],
)
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.output


def test_help_has_examples():
    result = run("--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "tariffs convert 1 t --to MWh_PCI --fuel wood --moisture 30%" in result.output


def test_unused_parameter_is_warned_on_stderr_only():
    result = run("1", "MWh_PCI", "--to", "MWh_useful", "--efficiency", "0.8", "--moisture", "0.3")
    assert result.exit_code == 0
    assert result.stdout == "0.8\n"
    assert "warning: --moisture is not used" in result.stderr
