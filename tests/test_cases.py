"""Worked examples as data: every ``tests/cases/*.toml`` run through the revision engine.

The case format is defined in ``tests/cases/README.md``. Each case builds a
small index store (catalog + CSVs) from its ``[[values]]`` in a temporary
folder, loads its contract with the strict loader, runs
:func:`tariffs.revision.history` at each expected date and compares K, the
price and the flags with ``[[expect]]`` within the stated tolerances.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
import tomlkit

from tariffs.contract import load_contract, load_contracts
from tariffs.periods import parse_month
from tariffs.revision import history
from tariffs.series import load_store

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "cases").glob("*.toml"))


def _write_store(case: dict, folder: Path) -> Path:
    """catalog.toml + one CSV per series of ``[[values]]`` (frequency from ``[[series]]``)."""
    frequency = {s["id"]: s.get("frequency", "monthly") for s in case.get("series", [])}
    rows: dict[str, list[str]] = {}
    for v in case["values"]:
        line = (
            f"{v['period']},{v['value']},{v.get('status', 'definitive')},{v.get('published', '')}"
        )
        rows.setdefault(v["series"], []).append(line)
    catalog = {}
    for sid, lines in rows.items():
        file = f"{sid}.csv"
        (folder / file).write_text("period,value,status,published\n" + "\n".join(lines) + "\n")
        catalog[sid] = {
            "title": f"test series {sid}",
            "publisher": "test case",
            "frequency": frequency.get(sid, "monthly"),
            "file": file,
        }
    (folder / "catalog.toml").write_text(tomlkit.dumps(catalog), encoding="utf-8")
    return folder


def _contract_path(case: dict, folder: Path) -> Path:
    if "contract_file" in case:
        return ROOT / case["contract_file"]
    path = folder / "contract.toml"
    path.write_text(tomlkit.dumps(case["contract"]), encoding="utf-8")
    return path


def _row(rows: list[dict], expect: dict) -> dict:
    found = [
        r
        for r in rows
        if r["term"] == expect["term"]
        and r["component"] == expect.get("component")
        and r["at"] == expect["at"]
    ]
    assert len(found) == 1, f"expected one row for {expect}, got {found or rows}"
    return found[0]


def _close(got: float | None, want: Decimal, tolerance: Decimal) -> bool:
    return got is not None and abs(Decimal(repr(got)) - want) <= tolerance


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path, tmp_path: Path) -> None:
    case = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    plain = tomllib.loads(
        path.read_text(encoding="utf-8")
    )  # floats: tomlkit writes them back as written
    store = load_store(_write_store(plain, tmp_path))
    contract = load_contract(_contract_path(plain, tmp_path), store.catalog)
    assert case["expect"], "a case needs at least one [[expect]]"
    for expect in case["expect"]:
        at = parse_month(expect["at"])
        result = history([contract], store, at, at)
        assert not result.problems, result.problems
        row = _row(result.rows(), expect)
        assert row["flags"] == expect.get("flags", row["flags"]), row["flags"]
        if "coefficient" in expect:
            tol = expect.get("coefficient_tolerance", Decimal(0))
            assert _close(row["coefficient"], expect["coefficient"], tol), (
                f"K: got {row['coefficient']}, expected {expect['coefficient']} ± {tol}"
            )
        tol = expect.get("price_tolerance", Decimal(0))
        assert _close(row["price"], expect["price"], tol), (
            f"price: got {row['price']}, expected {expect['price']} ± {tol}"
        )


def test_the_published_examples_are_present() -> None:
    """The three published figures must stay among the cases (they anchor the arithmetic)."""
    texts = " ".join(p.read_text(encoding="utf-8") for p in CASES)
    for figure in (
        "coefficient = 1.0652\n",
        "coefficient = 1.066\n",
        "price = 1288.67",
        "price = 2837.78",
    ):
        assert figure in texts, figure


# --- the example contracts of contracts/ on the bundled indices/ ------------------------------

MISSING_AT_2002_07 = {
    "argenton-sur-creuse": {"TR-LD", "ICHT-SERV", "BE"},
    "belfort-leon-blum": {"TR-LD", "ICHT-BOIS"},
    "conches-en-ouche": set(),
    "soclova-monplaisir": set(),
    "vitry-habitat-wood-fuel": {"ICHT-IME", "IPP-BOIS"},
    "vitry-habitat-wood-transport": {"ICHT-IME", "IPP-BOIS", "TR-LD"},
}


def _bundled():
    store = load_store(ROOT / "indices")
    return store, load_contracts([ROOT / "contracts"], store.catalog)


def test_example_contracts_name_exactly_the_series_documented_as_missing() -> None:
    """docs/contracts.md: which series each real case lacks; the others must be revised."""
    store, contracts = _bundled()
    assert {c.id for c in contracts} == set(MISSING_AT_2002_07)
    at = parse_month("2002-07")
    rows = history(contracts, store, at, at).rows()
    for contract, expected in MISSING_AT_2002_07.items():
        mine = [r for r in rows if r["contract"] == contract]
        missing = {i["series"] for r in mine for i in r["indices"] if i["status"] == "missing"}
        assert missing == expected, contract
        assert all((r["price"] is None) == bool(expected) for r in mine), contract


def test_bundled_fod_gives_the_conches_case_result() -> None:
    """The bundled FOD agrees with the genuine values written in mix-conches-genuine-fod.toml."""
    store, contracts = _bundled()
    at = parse_month("2008-07")
    conches = [c for c in contracts if c.id == "conches-en-ouche"]
    rows = history(conches, store, at, at).rows()
    total = next(r for r in rows if r["component"] is None)
    oil = next(r for r in rows if r["component"] == "fuel-oil")
    assert (oil["coefficient"], oil["price"], total["price"]) == (2.1473, 39.51, 20.51)
    assert [(i["base_value"], i["value"]) for i in oil["indices"]] == [(54.77, 117.61)]
