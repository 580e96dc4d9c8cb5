"""The row groups of a Parquet file read from its footer, and the audit's slices cut at them.

pyarrow (a benchmark dependency, installed with the tests) is the reference reader of the
footer; the files are written by polars and by pyarrow with other options.
"""

from datetime import date

import polars as pl
import pytest
from test_audit_batches import BODY, HEADER, run

from tariffs.audit import batches
from tariffs.audit.invoices import read_invoices
from tariffs.audit.row_groups import row_group_rows

pq = pytest.importorskip("pyarrow.parquet")

FRAME = (
    pl.DataFrame({"n": range(20_000)})
    .with_columns(pl.col("n").cast(pl.String).alias("text"))
    .with_columns(
        (pl.col("n") % 3 == 0).alias("flag"),
        (pl.col("n") / 7).alias("x"),
        pl.lit(date(2021, 6, 1)).alias("day"),
        pl.concat_list("n", "n").alias("pair"),
        pl.struct("n", "text").alias("both"),
        pl.when(pl.col("n") % 5 == 0).then(pl.col("text")).alias("some"),
    )
)


def reference(path) -> list[int]:
    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


@pytest.mark.parametrize(
    "options",
    [{}, {"row_group_size": 3_000}, {"row_group_size": 777, "statistics": False},
     {"row_group_size": 5_000, "compression": "gzip"}],
)  # fmt: skip
def test_row_groups_of_a_polars_file_are_pyarrows(tmp_path, options):
    path = tmp_path / "f.parquet"
    FRAME.write_parquet(path, **options)
    assert row_group_rows(path) == reference(path)
    assert sum(row_group_rows(path)) == FRAME.height


@pytest.mark.parametrize(
    "options",
    [{"row_group_size": 6_000}, {"row_group_size": 4_096, "use_dictionary": False,
     "write_page_index": True, "data_page_version": "2.0", "write_statistics": False}],
)  # fmt: skip
def test_row_groups_of_a_pyarrow_file_are_pyarrows(tmp_path, options):
    path = tmp_path / "f.parquet"
    pq.write_table(FRAME.to_arrow(), path, **options)
    assert row_group_rows(path) == reference(path)
    assert len(row_group_rows(path)) > 1


def test_no_row_groups_from_what_is_no_parquet_footer(tmp_path):
    whole = tmp_path / "f.parquet"
    FRAME.write_parquet(whole, row_group_size=3_000)
    data = whole.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[:-500])  # the end and its length gone
    hollow = tmp_path / "hollow.parquet"
    hollow.write_bytes(data[:4] + data[-8:])  # a footer length pointing before the file
    text = tmp_path / "f.csv"
    text.write_text("a,b\n1,2\n")
    garbled = tmp_path / "garbled.parquet"
    garbled.write_bytes(data[:-9] + b"\xff" + data[-8:])  # the footer's last field mangled
    for path in (cut, hollow, text, tmp_path / "missing.parquet", garbled):
        assert row_group_rows(path) is None, path


def test_slices_end_at_a_row_group_boundary_when_one_is_near(tmp_path):
    path = tmp_path / "inv.parquet"
    lines = pl.read_csv(_csv(tmp_path), schema_overrides={"invoice": pl.String, "line": pl.String})
    pl.concat([lines] * 100).write_parquet(path, row_group_size=64)  # 800 lines, groups of 64
    invoices = read_invoices(path)
    assert batches.spans(invoices, 120) == [*[(n, 128) for n in range(0, 768, 128)], (768, 32)]
    # no boundary within a quarter of the slice (128 is 28 lines from 100): cut by rows
    assert batches.spans(invoices, 100)[:2] == [(0, 100), (100, 92)]
    plain = read_invoices(_csv(tmp_path))
    assert batches.spans(plain, 3) == [(0, 3), (3, 3), (6, 2)]


def test_slices_cut_at_row_groups_give_the_findings_of_one_slice(tmp_path, monkeypatch):
    path = tmp_path / "inv.parquet"
    lines = pl.read_csv(_csv(tmp_path), schema_overrides={"invoice": pl.String, "line": pl.String})
    pl.concat([lines] * 40).write_parquet(path, row_group_size=24)  # 320 lines
    whole = run(path)
    monkeypatch.setattr(batches, "BATCH_ROWS", 50)  # slices of 48 lines (two groups)
    assert {n for _, n in batches.spans(read_invoices(path))} == {48, 32}
    sliced = run(path)
    assert sliced.findings.equals(whole.findings) and sliced.notes == whole.notes
    assert sliced.lines == whole.lines == 320


def _csv(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + BODY, encoding="utf-8")
    return path


def test_many_row_groups_are_not_read(tmp_path):
    path = tmp_path / "f.parquet"
    FRAME.write_parquet(path, row_group_size=100)  # 200 groups
    assert len(row_group_rows(path)) == 200
    assert row_group_rows(path, most=199) is None and len(row_group_rows(path, most=200)) == 200


def test_footer_read_once_per_audit_and_not_for_many_tiny_groups(tmp_path, monkeypatch):
    lines = pl.read_csv(_csv(tmp_path), schema_overrides={"invoice": pl.String, "line": pl.String})
    tiny = tmp_path / "tiny.parquet"
    pl.concat([lines] * 40).write_parquet(tiny, row_group_size=2)  # 160 groups of 2 lines
    calls = []

    def counted(path, most=None):
        calls.append(most)
        return row_group_rows(path, most)

    monkeypatch.setattr(batches, "row_group_rows", counted)
    monkeypatch.setattr(batches, "BATCH_ROWS", 50)
    assert batches.spans(read_invoices(tiny))[:2] == [(0, 50), (50, 50)]  # 32 groups a slice
    assert calls == [56]
    calls.clear()
    whole = run(tiny)
    assert len(calls) == 1 and whole.lines == 320


def _with_footer(tmp_path, footer: bytes):
    path = tmp_path / f"forged-{footer[:12].hex()}-{len(footer)}.parquet"
    path.write_bytes(b"PAR1" + footer + len(footer).to_bytes(4, "little") + b"PAR1")
    return path


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def test_a_forged_footer_gives_none_quickly(tmp_path):
    deep = _with_footer(tmp_path, b"\x1c" * 200_000)  # a struct in a struct in a struct ...
    # field 1: a list (long size form) of 2**62 booleans, declared in a few bytes
    endless = _with_footer(tmp_path, b"\x19\xf1" + _varint(2**62) + b"\x00")
    huge_map = _with_footer(tmp_path, b"\x1b" + _varint(2**62) + b"\x11\x00")  # field 1: a map
    for path in (deep, endless, huge_map):
        assert row_group_rows(path) is None
