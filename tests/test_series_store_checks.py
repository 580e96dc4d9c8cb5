"""Loading the store: every located message of its series files, all files together.

The schema (pandera) validation runs only on a file with a NaN value, the one
case the row checks let through; these tests pin that the messages and the
values are those of the file-by-file validation (:func:`read_series_csv`).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tariffs.errors import CatalogError
from tariffs.series.catalog import load_catalog
from tariffs.series.store import load_store, read_series_csv

ROOT = Path(__file__).parents[1]


def _store(tmp_path: Path, files: dict[str, str]) -> Path:
    """A store of monthly series S0, S1, ... with the given CSV texts."""
    catalog = "".join(f'[{sid}]\nfrequency = "monthly"\nfile = "{sid}.csv"\n' for sid in files)
    (tmp_path / "catalog.toml").write_text(catalog, encoding="utf-8")
    for sid, text in files.items():
        (tmp_path / f"{sid}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def _problems(root: Path) -> list[tuple]:
    with pytest.raises(CatalogError) as info:
        load_store(root)
    return [(Path(p.path).name, p.key, p.message, p.line) for p in info.value.problems]


def test_bundled_store_values_are_those_of_each_file_validated():
    store = load_store(ROOT / "indices")
    catalog = load_catalog(ROOT / "indices" / "catalog.toml")
    files = [read_series_csv(ROOT / "indices" / i.file, i) for i in catalog.values() if i.file]
    assert store.values.equals(pl.concat(files))
    assert store.values.height > 4000 and store.values["series"].n_unique() == len(files)


def test_every_rule_of_every_file_is_reported_together(tmp_path):
    root = _store(tmp_path, {
        "S0": "period,value,status,published\n2020-13,1,definitive,\n2020-01,-2,final,2020/02/01\n",
        "S1": "period,value\n2020-01,1.5\n2020-02,NaN\n",
        "S2": "period,value,published\n2020-01,1,2020-02-01\n2020-01,2,2020-02-01\n",
    })  # fmt: skip
    assert _problems(root) == [
        ("S0.csv", "period", "expected a monthly period, got '2020-13'", 2),
        ("S0.csv", "value", "expected a positive number, got '-2'", 3),
        ("S0.csv", "status", "expected one of definitive, provisional, revised, estimated, got 'final'", 3),
        ("S0.csv", "published", "expected an ISO date YYYY-MM-DD, got '2020/02/01'", 3),
        ("S1.csv", "", "non-nullable column 'value' contains null values", None),
        ("S2.csv", "period", "period 2020-01 appears twice with the same publication date", 2),
        ("S2.csv", "period", "period 2020-01 appears twice with the same publication date", 3),
    ]  # fmt: skip


def test_at_most_twenty_rows_per_rule(tmp_path):
    rows = "".join(f"2020-{m:02d},-{m}\n" for m in range(1, 13)) * 3
    problems = _problems(_store(tmp_path, {"S0": "period,value\n" + rows}))
    assert len(problems) == 20 + 20  # 36 negative values, and each period appears 3 times
    assert problems[0] == ("S0.csv", "value", "expected a positive number, got '-1'", 2)
