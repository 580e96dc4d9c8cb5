"""Review of the rewritten audit loop (issue 6): behaviour that changed against ``a863aa6``.

Each test states what ``tariffs audit`` gave before the rewrite (commit ``a863aa6``) on the
same input; two were bugs of the rewrite (fixed: the unreadable period quoted stripped, a
blocked line asking no index value). The contract and the FOD values are the genuine fixtures of
``tests/fixtures/invoices`` (PROVENANCE there).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tariffs.cli import main

FIX = Path(__file__).parent / "fixtures" / "invoices"
ARGS = ["--contracts", str(FIX / "contracts"), "--indices", str(FIX / "indices")]
HEADER = (
    "invoice;line;contract;term;period;quantity;quantity_unit;energy_basis;coefficient;"
    "unit_price;amount_excl_vat;vat_rate;amount_incl_vat;index:FOD;base_index:FOD\n"
)
# the example's first line, correct (K 2.1473, 20.51 EUR/MWh in 2008-10: README.md)
GOOD = "F-2008-10;1;conches-en-ouche;R1;2008-10;132,4;MWh;useful;2,1473;20,51;2715,52;19,6 %;3247,76;117,61;54,77\n"


def audit_json(tmp_path: Path, body: str, *extra: str) -> tuple[int, dict]:
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(path), *ARGS, "--format", "json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_invalid_period_message_quotes_the_stripped_period(tmp_path):
    bad = GOOD.replace(";2008-10;", "; 2008-13 ;").replace("F-2008-10;1", "F-X;1")
    code, data = audit_json(tmp_path, GOOD + bad)
    assert code == 1
    (finding,) = data["findings"]
    assert (finding["line"], finding["code"], finding["period"]) == (3, "invalid-line", "2008-13")
    assert finding["message"] == "period: expected a month YYYY-MM, got '2008-13'"


def test_keys_with_blanks_around_them_are_found_and_reported_stripped(tmp_path):
    """Unchanged by the rewrite: a863aa6 gave the same (no finding on the good line, the
    duplicate found through the blanks, keys reported stripped)."""
    spaced = GOOD.replace(
        "F-2008-10;1;conches-en-ouche;R1;2008-10", " F-2008-10 ;1 ; conches-en-ouche;R1  ; 2008-10"
    )
    code, data = audit_json(tmp_path, GOOD + spaced)
    assert code == 1
    (finding,) = data["findings"]
    assert (finding["line"], finding["code"], finding["difference_eur"]) == (
        3,
        "duplicate-line",
        2715.52,
    )
    assert (finding["invoice"], finding["contract"], finding["term"], finding["period"]) == (
        "F-2008-10", "conches-en-ouche", "R1", "2008-10")  # fmt: skip


def _contracts_with_an_ended_copy(tmp_path: Path) -> Path:
    """The fixture contract, and a copy ``conches-end`` ending on 2012-02-29 (last revision
    2011-07, which needs FOD 2011-04: after the fixture's last value, 2010-12)."""
    folder = tmp_path / "contracts"
    folder.mkdir()
    text = (FIX / "contracts" / "conches-en-ouche.toml").read_text(encoding="utf-8")
    (folder / "conches-en-ouche.toml").write_text(text, encoding="utf-8")
    ended = text.replace('id = "conches-en-ouche"', 'id = "conches-end"')
    ended = ended.replace("end = 2021-06-30", "end = 2012-02-29")
    assert ended.count("conches-end") == 1 and "end = 2012-02-29" in ended
    (folder / "conches-end.toml").write_text(ended, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "blocked, code",
    [
        ("conches-end,R1,2012-03,10,", "period-outside-contract"),  # after the end: date 2011-07
        ("conches-end,R1,2011-10,abc,", "invalid-line"),  # unreadable quantity, date 2011-07
    ],
)
def test_a_blocked_line_asks_no_index_value(tmp_path, monkeypatch, blocked, code):
    from tariffs.audit import batches

    monkeypatch.setattr(batches, "BATCH_ROWS", 3)  # the first slice prices the dates ahead
    path = tmp_path / "inv.csv"
    path.write_text(
        "contract,term,period,quantity,unit_price,amount_excl_vat\n"
        "conches-end,R1,2008-10,10,20.51,205.10\n"
        "conches-en-ouche,R1,2012-10,10,20.51,205.10\n"
        f"{blocked}20.51,205.10\n"
        "conches-en-ouche,R1,2008-10,10,20.51,205.10\n"
        "conches-en-ouche,R1,2008-11,10,20.51,205.10\n"
        "conches-en-ouche,R1,2008-12,10,20.51,205.10\n",
        encoding="utf-8",
    )
    args = ["audit", str(path), "--contracts", str(_contracts_with_an_ended_copy(tmp_path))]
    args += ["--indices", str(FIX / "indices"), "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    codes = [(f["line"], f["code"]) for f in json.loads(result.stdout)["findings"]]
    assert codes == [(3, "missing-index"), (4, code)]
    # a863aa6: only the 2012-07 revision of conches-en-ouche (line 3) needs a missing value
    warnings = [w for w in result.stderr.splitlines() if w.startswith("warning: no value of FOD")]
    assert warnings == [
        "warning: no value of FOD for 2012-04: the store ends at 2010-12; import a newer "
        "download (tariffs indices import FILE); needed by: conches-en-ouche R1"
    ]
