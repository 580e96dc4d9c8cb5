"""``tariffs indices ...`` through click's CliRunner, on the bundled store and on temporary stores."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tariffs.cli import main

ROOT = Path(__file__).parent.parent
BUNDLE = ROOT / "indices"
FIX = Path(__file__).parent / "fixtures" / "insee"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_show_json_exact_shape_on_bundle():
    result = run(
        "indices",
        "show",
        "IPC-HT",
        "--indices",
        BUNDLE,
        "--as-of",
        "2021-01-16",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[-1] == {
        "period": "2020-11",
        "value": 103.86,
        "status": "definitive",
        "published": "2020-12-16",
    }
    assert set(rows[0]) == {"period", "value", "status", "published"}


def test_show_by_idbank_alias_and_declared_series_message():
    result = run("indices", "show", "001763559", "--indices", BUNDLE, "--format", "csv")
    assert result.exit_code == 0 and "2024-08,167.82,definitive,2024-09-13" in result.output
    missing = run("indices", "show", "TR-LD", "--indices", BUNDLE)
    assert missing.exit_code == 1 and "tariffs indices import FILE --id TR-LD" in missing.output


def test_show_chained_states_coefficient():
    result = run("indices", "show", "BT01", "--chained", "--indices", BUNDLE, "--format", "json")
    rows = {r["period"]: r["value"] for r in json.loads(result.output)}
    assert rows["2014-09"] == pytest.approx(881.6 / 8.3802)
    assert rows["2020-01"] == 111.8
    table = run("indices", "show", "BT01", "--chained", "--indices", BUNDLE)
    assert "coefficient 8.3802" in table.output


def test_list_bundle_has_required_ids():
    result = run("indices", "list", "--indices", BUNDLE, "--format", "json")
    rows = {r["id"]: r for r in json.loads(result.output)}
    for sid in ("FOD", "FOD-ROTTERDAM", "GAS", "HEAT", "WOOD-SAWN-SOFTWOOD", "BRENT-EUR", "BRENT-USD",
                "CNR-GAZOLE", "IPC", "IPC-HT", "ENERGY-PETROLEUM", "BT01", "BT01-1974", "CNR-LD-EA-STRUCT",
                "CNR-REG-EA", "ICHT-IME", "ICHT-IME-1997"):  # fmt: skip
        assert rows[sid]["available"] and rows[sid]["periods"] > 0, sid
    for sid in ("ICHT-BOIS", "TR-LD", "IPP-BOIS", "ICHT-SERV", "BE", "WOOD-CHIPS"):
        assert rows[sid]["status"] == "declared, no data"
    assert rows["TR-LD"]["oil_share"] == 0.33 and rows["FOD"]["oil_share"] == 1.0
    assert rows["FOD"]["last"] == "2024-08" and rows["IPC-HT"]["last"] == "2025-12"


def test_import_then_reimport_then_show_as_of(tmp_path):
    store = tmp_path / "idx"
    first = run(
        "indices",
        "import",
        FIX / "ippi_laitiers_provisional.csv",
        "--indices",
        store,
        "--id",
        "IPPI",
        "--format",
        "json",
    )
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)[0]["added"] == 174
    again = run(
        "indices",
        "import",
        FIX / "ippi_laitiers_provisional.csv",
        "--indices",
        store,
        "--format",
        "json",
    )
    assert json.loads(again.output)[0]["added"] == 0  # matched to IPPI by its idBank
    shown = json.loads(
        run("indices", "show", "IPPI", "--indices", store, "--format", "json").output
    )
    assert shown[-1] == {
        "period": "2023-03",
        "value": 144.3,
        "status": "provisional",
        "published": "2023-04-28",
    }


def test_import_warns_on_spreadsheet_copy(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "indices",
            "import",
            str(FIX / "ipi_spreadsheet_mangled.csv"),
            "--indices",
            str(tmp_path / "s"),
        ],
    )
    assert result.exit_code == 0
    assert "leading zero" in result.output and "010768109" in result.output


def test_import_error_is_located_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        (FIX / "ippi_laitiers_provisional.csv").read_bytes().replace(b'"144.3"', b'"144,3"')
    )
    result = run("indices", "import", bad, "--indices", tmp_path / "s")
    assert result.exit_code == 1
    assert f"{bad}:178: " in result.output and "decimal comma" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "s").exists()


def test_check_bundle_reports_findings():
    result = run("indices", "check", "--indices", BUNDLE, "--format", "json")
    assert result.exit_code == 0, result.output
    checks = {(f["series"], f["check"]) for f in json.loads(result.output)}
    assert ("ICHT-IME", "base-change-without-link") in checks
    assert ("TR-LD", "declared") in checks
    assert ("BRENT-USD", "jump") in checks  # 2020-05: +59.8 %
    assert ("CNR-REG-EA", "gap") in checks
    assert ("BT01", "chain-jump") not in checks


def test_every_indices_command_has_an_example():
    for name in ("list", "show", "import", "check"):
        result = run("indices", name, "--help")
        assert result.exit_code == 0 and "tariffs indices" in result.output


def test_import_without_any_date_warns_naming_the_file(tmp_path):
    result = run(
        "indices",
        "import",
        FIX / "cnr_gazole_professionnel.csv",
        "--id",
        "CNR",
        "--indices",
        tmp_path / "idx",
    )
    assert result.exit_code == 0
    assert "warning: " in result.output and "cnr_gazole_professionnel.csv" in result.output
    assert "re-import with --published YYYY-MM-DD" in result.output


def test_period_value_file_with_generic_header_is_named_after_the_file(tmp_path):
    """The genuine CNR values under a generic 'period;value' header, as a user would type it."""
    text = (FIX / "cnr_gazole_professionnel.csv").read_text(encoding="utf-8")
    hand = tmp_path / "tr_ld gazole.csv"
    hand.write_text(
        text.replace("Date;Indice CNR gazole professionnel", "period;value"), encoding="utf-8"
    )
    store = tmp_path / "idx"
    result = run(
        "indices",
        "import",
        hand,
        "--indices",
        store,
        "--published",
        "2024-10-07",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert '"series": "TR-LD-GAZOLE"' in result.output and "VALUE" not in result.output
    assert (
        "no --id given: stored as TR-LD-GAZOLE (from the file name); give --id ID" in result.output
    )
    assert (store / "TR-LD-GAZOLE.csv").exists()
    titled = run(
        "indices",
        "import",
        FIX / "cnr_gazole_professionnel.csv",
        "--indices",
        store,
        "--published",
        "2024-10-07",
    )
    assert "stored as INDICE-CNR-GAZOLE-PROFESSIONNEL (from the series title)" in titled.output
