"""Chaining (declared and overlap-derived linking coefficients) on stores built by the importer."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tariffs.series.importer import import_files
from tariffs.series.store import load_store

FIX = Path(__file__).parent / "fixtures" / "insee"


def make_store(tmp_path, chain: str) -> Path:
    root = tmp_path / "idx"
    import_files(root, [FIX / "ipc_coicop_excerpt.xlsx"], source_ids=["001759970"], series_id="OLD")
    import_files(root, [FIX / "ipc_hors_tabac_v2025-12_rows_jo.csv"], series_id="NEW")
    catalog = root / "catalog.toml"
    catalog.write_text(
        catalog.read_text(encoding="utf-8") + "\n[NEW.chain]\n" + chain, encoding="utf-8"
    )
    return root


def test_overlap_coefficient_is_ratio_of_means_and_says_so(tmp_path):
    root = make_store(tmp_path, 'series = "OLD"\nuntil = "2014-12"\noverlap = "2015-01..2015-12"\n')
    store = load_store(root)
    means = {
        sid: store.known()
        .filter(
            (store.known()["series"] == sid)
            & store.known()["period"].is_between("2015-01", "2015-12")
        )["value"]
        .mean()
        for sid in ("OLD", "NEW")
    }
    coefficient = store.link_coefficient("NEW")
    assert coefficient == pytest.approx(means["OLD"] / means["NEW"])
    assert (
        "ratio of the means of OLD and NEW over 2015-01..2015-12 (12 common periods)"
        in store.link_coefficients["NEW"][1]
    )
    resolved = store.resolved().filter(series="NEW")
    row = resolved.filter(period="2014-12").row(0, named=True)
    assert row["chained"] and row["link_coefficient"] == coefficient
    old_value = store.known().filter(series="OLD", period="2014-12")["value"].item()
    assert row["value"] == pytest.approx(old_value / coefficient)
    assert not resolved.filter(period="2015-01")["chained"].item()


def test_declared_coefficient_and_as_of(tmp_path):
    root = make_store(tmp_path, 'series = "OLD"\nuntil = "2014-12"\ncoefficient = 2.0\n')
    store = load_store(root)
    assert store.link_coefficient("NEW") == 2.0
    resolved = store.resolved().filter(series="NEW")
    old_value = store.known().filter(series="OLD", period="2014-12")["value"].item()
    assert resolved.filter(period="2014-12")["value"].item() == pytest.approx(old_value / 2.0)
    # as known on 2021-01-16: NEW dated by the JO (up to 2020-11); OLD was first seen in 2024 (a
    # download date, years after its periods): assumed published a month after each period, so
    # its chained history up to 2014-12 is known then (IndexStore.dated)
    early = store.resolved(date(2021, 1, 16)).filter(series="NEW")
    assert early["period"].max() == "2020-11"
    assert early.filter(pl.col("chained"))["period"].max() == "2014-12"
    old = store.known().filter(series="OLD").sort("period")
    assert old.filter(period="2014-12")["assumed"].item()  # first seen ~10 years later
    assert not old["assumed"][
        -1
    ]  # the last months of the download: its date may be the publication


def test_chain_with_both_coefficient_and_overlap_refused(tmp_path):
    from tariffs.errors import CatalogError

    root = make_store(
        tmp_path,
        'series = "OLD"\nuntil = "2014-12"\ncoefficient = 2.0\noverlap = "2015-01..2015-12"\n',
    )
    with pytest.raises(CatalogError, match="exactly one of coefficient or overlap"):
        load_store(root)
