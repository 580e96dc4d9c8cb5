"""``tariffs exposure`` through click's CliRunner: JSON fields, formats, plot, exit codes.

The store and contracts are written into tmp_path by the test: values chosen for the test."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from tariffs.cli import main

CATALOG = """
[FOD]
title = "Test fuel oil"
publisher = "test"
frequency = "monthly"
file = "FOD.csv"
oil_share = 1.0

[BRENT-EUR]
title = "Test Brent in euros"
publisher = "test"
frequency = "monthly"
file = "BRENT-EUR.csv"
oil_share = 1.0

[LAB]
title = "Test labour cost"
publisher = "test"
frequency = "quarterly"
file = "LAB.csv"
oil_share = 0.0

[TR-LD]
title = "Test road transport, declared without values"
publisher = "CNR"
frequency = "monthly"
oil_share = 0.33
"""

CONTRACT = """
id = "{id}"
title = "test"
start = 2018-07-01
dwellings = 100
yearly_consumption_mwh_useful = 1000
[revision]
frequency = "yearly"
lag_months = 3
coefficient_decimals = 4
[[terms]]
code = "P1"
base_price = 24.41
unit = "EUR/MWh"
energy_basis = "useful"
base_period = "2018-01"
fixed = {fixed}
{indices}
"""


def ref(series, weight):
    return f'  [[terms.indices]]\n  series = "{series}"\n  weight = {weight}\n'


@pytest.fixture
def folder(tmp_path):
    ix = tmp_path / "ix"
    ix.mkdir()
    (ix / "catalog.toml").write_text(CATALOG)
    fod = [100 + 10 * math.sin(m / 3) + m for m in range(48)]
    brent = [60 + 8 * math.sin(m / 3) + 0.5 * m for m in range(48)]
    lines = [f"{2018 + m // 12}-{m % 12 + 1:02d}" for m in range(48)]
    (ix / "FOD.csv").write_text(
        "period,value\n" + "".join(f"{p},{v:.2f}\n" for p, v in zip(lines, fod, strict=True))
    )
    (ix / "BRENT-EUR.csv").write_text(
        "period,value\n" + "".join(f"{p},{v:.2f}\n" for p, v in zip(lines, brent, strict=True))
    )
    (ix / "LAB.csv").write_text(
        "period,value\n"
        + "".join(f"{2018 + q // 4}-Q{q % 4 + 1},{100 + q:.1f}\n" for q in range(16))
    )
    cs = tmp_path / "contracts"
    cs.mkdir()
    (cs / "oil.toml").write_text(
        CONTRACT.format(id="oily", fixed=0.2, indices=ref("FOD", 0.4) + ref("LAB", 0.4))
    )
    (cs / "wood.toml").write_text(CONTRACT.format(id="woody", fixed=0.2, indices=ref("LAB", 0.8)))
    (cs / "transport.toml").write_text(CONTRACT.format(id="trans", fixed=0.2, indices=ref("TR-LD", 0.4) + ref("LAB", 0.4)))  # fmt: skip
    return tmp_path


def run(folder, *args):
    return CliRunner().invoke(main, ["exposure", *map(str, args), "--indices", str(folder / "ix")])


def test_json_rows_follow_the_interface(folder):
    result = run(folder, folder / "contracts", "--shock", "FOD=+50%", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    # 0.4, 0.132, 0, then the folder as a whole (same yearly amount each: oil weight 0.532 / 3)
    assert [r["contract"] for r in rows] == ["oily", "trans", "woody", "(portfolio)"]
    assert rows[-1]["oil_weight"] == pytest.approx((0.4 + 0.132) / 3)
    oily = rows[0]
    for key in ("contract", "term", "component", "window", "oil_weight", "volatility_annual",
                "max_rise_12m", "max_fall_12m", "elasticity", "elasticity_reference",
                "elasticity_points", "contributions", "shocks"):  # fmt: skip
        assert key in oily
    assert oily["window"] == ["2018-01", "2021-12"]
    assert oily["elasticity_points"] == 47
    shock = oily["shocks"][0]
    assert set(shock) >= {
        "shock",
        "delta_coefficient",
        "delta_price",
        "delta_eur_per_dwelling_year",
    }
    assert shock["delta_price"] == pytest.approx(24.41 * shock["delta_coefficient"])
    assert shock["delta_eur_per_dwelling_year"] == pytest.approx(10 * shock["delta_price"])
    assert rows[1]["oil_weight"] == pytest.approx(0.132)
    assert rows[1]["volatility_annual"] is None
    assert "no data for TR-LD" in result.stderr


def test_table_csv_and_xlsx(folder, tmp_path):
    table = run(folder, folder / "contracts" / "oil.toml", "--shock", "oil=+50%")
    assert table.exit_code == 0, table.output
    assert "oily" in table.stdout and "oil=+50%" in table.stdout
    csv = run(folder, folder / "contracts" / "oil.toml", "--shock", "FOD=+10%", "--format", "csv")
    header = csv.stdout.splitlines()[0].split(",")
    assert "oil_weight" in header and "FOD=+10% delta_coefficient" in header
    out = tmp_path / "e.xlsx"
    xlsx = run(folder, folder / "contracts", "--format", "xlsx", "-o", out)
    assert xlsx.exit_code == 0, xlsx.output
    import openpyxl

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["exposure", "monthly_k"]
    assert book["exposure"]["B1"].value == "contract"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shock", "FOD=fifty"], "--shock 'FOD=fifty': expected SERIES=+NN%"),
        (["--shock", "GAS=+5%"], "GAS=+5%: no analysed formula uses this series"),
        (["--from", "2015-01", "--to", "2019-12"], "do not cover the window 2015-01..2019-12"),
        (["--from", "2020-01", "--to", "2019-12"], "--from 2020-01 is after --to 2019-12"),
        (["--from", "2020-13"], "--from: expected a month YYYY-MM"),
        (["--oil-reference", "TR-LD"], "--oil-reference TR-LD: the store has no values"),
    ],
)
def test_bad_input_exits_1_with_a_clear_message(folder, args, message):
    result = run(folder, folder / "contracts" / "oil.toml", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_help_has_an_example():
    result = CliRunner().invoke(main, ["exposure", "--help"])
    assert result.exit_code == 0
    assert "tariffs exposure" in result.output and "--shock FOD=+50%" in result.output


def test_plot_writes_a_png_and_the_figures(folder, tmp_path):
    png = tmp_path / "k.png"
    result = run(folder, folder / "contracts", "--plot", png, "--format", "json")
    assert result.exit_code == 0, result.output
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert json.loads(result.stdout)[0]["contract"] == "oily"
    assert not list(tmp_path.glob(".k.png.*"))  # no temporary file left


def test_plot_into_a_missing_folder_exits_1(folder, tmp_path):
    result = run(folder, folder / "contracts" / "oil.toml", "--plot", tmp_path / "nope" / "k.png")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
