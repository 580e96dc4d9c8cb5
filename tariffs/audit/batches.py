"""The invoice file in row batches, its duplicated lines, and each line's revision date.

The audit never holds the typed file at once: it reads it in slices of
``BATCH_ROWS`` lines (a Parquet file is sliced in the scan itself), keeping
only small tables between slices (the keys the engine needs, the findings).
Row numbers (``row``, the file's line numbers) are assigned before slicing,
so they stay the file's.

Notes
-----
- Duplicates: a line is a later copy of another when an earlier line has its
  key (``invoice`` and ``line``, or every column when the file lacks them) and
  its content (every column, text keys stripped; 64-bit hashes compared): it is
  said a copy of the first such line; a line with the key of an earlier one and
  no earlier line with its content is a line number reused for another charge:
  the line is checked, and said (against the key's first line). A reused number
  billed twice is thus a copy of its own first line. Every line's key is hashed (64 bits) in one pass over the key
  columns; the lines whose hash occurs twice keep their key as the audit
  reads its slices (:class:`Copies`) and are compared exactly (a hash
  collision never makes a false duplicate); the file is not read a third time.
- Revision date in force in month ``m`` (the latest scheduled date on or
  after the contract's start, as :func:`tariffs.formulas.revision_months`
  lists them): with ``step`` = 1, 3 or 12 months (monthly, quarterly,
  yearly) and ``r`` = revision month − 1, ``at = m − ((m − r) mod step)``
  (floor modulo), null when ``at`` is before the start month.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import accumulate

import polars as pl

from tariffs.audit.invoices import Invoices, strip_keys, unreadable
from tariffs.audit.row_groups import row_group_rows

BATCH_ROWS = 500_000  # lines per slice: 1,000,000 measured 3 % slower and 20 % more memory
#: a later line with the key of an earlier one; ``same``: an earlier line with that key has its
#: content too (a copy of ``first_row``, billed twice), else a line number reused for another
#: charge (checked as a line; ``first_row``: the key's first line)
DUPLICATES = {"row": pl.UInt32, "first_row": pl.UInt32, "same": pl.Boolean}


def key_columns(invoices: Invoices) -> list[str]:
    """The columns that identify a line: ``invoice`` and ``line``, else all of them."""
    if invoices.has("invoice") and invoices.has("line"):
        return ["invoice", "line"]
    return list(invoices.columns)


class Copies:
    """The later copies of a line, slice by slice (see the module Notes).

    ``candidates``: the rows whose key hash occurs more than once in the file
    (one pass over the key columns). Each slice hands its candidate rows, with
    their exact key, to :meth:`in_slice`; as slices come in file order, the
    first occurrence of a line is always among the rows handed before.
    """

    #: no copies (set below the class)
    NONE: pl.DataFrame

    def __init__(self, invoices: Invoices):
        self.key = key_columns(invoices)
        self.content = list(invoices.columns)  # a copy has the same content as its first line
        with reading(invoices):
            hashes = _keys_hashed(invoices, self.key).collect()
        ordered = hashes["_h"].sort()
        twice = ordered.filter(ordered == ordered.shift(1)).unique()
        rows = hashes.filter(pl.col("_h").is_in(twice.implode()))["row"]
        self.candidates = rows.implode()
        self.count = rows.len()
        self.seen = (
            invoices.frame.select("row", *self.key, pl.lit(0, pl.UInt64).alias("_c"))
            .clear()
            .collect()
        )

    def in_slice(self, lines: pl.DataFrame) -> pl.DataFrame:
        """``row, first_row, same`` of the later lines with an earlier line's key among ``lines``
        (the next slice, typed; its text keys as read or stripped); ``same``: their content (every
        column of the file, text keys stripped) is the first line's."""
        if self.count == 0:
            return pl.DataFrame(schema=DUPLICATES)
        mine = lines.filter(pl.col("row").is_in(self.candidates))
        # the typed values, and what could not be read (an unreadable date and a blank one are
        # both null: the lines differ)
        content = pl.struct(*self.content, "problem").hash().alias("_c")
        mine = strip_keys(mine.lazy()).select("row", *self.key, content).collect()
        self.seen = pl.concat([self.seen, mine])
        # a copy of the first earlier line with its key and content; else, with its key only, a
        # reused number (said against the key's first line)
        first_copy = pl.col("row").min().over(*self.key, "_c")
        first_key = pl.col("row").min().over(self.key)
        same = first_copy != pl.col("row")
        first = self.seen.select(
            "row", pl.when(same).then(first_copy).otherwise(first_key).alias("first_row"),
            same.alias("same"),
        )  # fmt: skip
        copies = first.filter(pl.col("row").is_in(mine["row"].implode()))
        copies = copies.filter(pl.col("row") != pl.col("first_row"))
        if self.key == ["invoice", "line"]:  # a blank invoice or line number is no number reused
            blank = mine.select(
                "row", pl.any_horizontal(pl.col(c).is_null() | (pl.col(c) == "") for c in self.key)
                .alias("blank")
            )  # fmt: skip
            copies = copies.join(blank, on="row").filter(pl.col("same") | ~pl.col("blank"))
        return copies.select(list(DUPLICATES))


Copies.NONE = pl.DataFrame(schema=DUPLICATES)


def _keys_hashed(invoices: Invoices, key: list[str]) -> pl.LazyFrame:
    """``row`` and the hash ``_h`` of each line's key (stripped texts).

    With ``invoice`` and ``line`` read as text, the file as scanned is hashed (two
    columns read): the typed lines of a CSV/XLSX export would read every column to
    drop its blank lines. A blank line may then be a candidate; it never reaches a
    slice, so it is never a copy (:meth:`Copies.in_slice`)."""
    scanned = invoices.source
    if scanned is not None and key == ["invoice", "line"]:
        schema = scanned.collect_schema()
        if all(schema[c] == pl.String for c in key):
            numbered = scanned.select(key).with_row_index("row", offset=2)
            keys = [pl.col(c).str.strip_chars() for c in key]
            return numbered.select("row", pl.struct(keys).hash().alias("_h"))
    return invoices.frame.select("row", pl.struct(key).hash().alias("_h"))


def slices(invoices: Invoices, rows: int | None = None) -> Iterator[pl.LazyFrame]:
    """The typed lines, about ``rows`` (default ``BATCH_ROWS``) records of the file at a time
    (:func:`spans`); one slice at least. The slices are cut in the file's records
    (:func:`records`), blank ones included: a CSV/XLSX export's blank lines are dropped within
    each slice."""
    for offset, length in spans(invoices, rows):
        yield invoices.lines(offset, length)


def spans(invoices: Invoices, rows: int | None = None) -> list[tuple[int, int]]:
    """(offset, number of records) of each slice: ``rows`` (default ``BATCH_ROWS``) records,
    the end moved to a Parquet file's row-group boundary when one is within a quarter of
    ``rows`` (:mod:`tariffs.audit.row_groups`: a group cut by a slice is decoded twice).
    Computed once per file and size."""
    rows = max(rows or BATCH_ROWS, 1)
    if rows not in invoices.spans:
        invoices.spans[rows] = _spans(invoices, rows)
    return invoices.spans[rows]


def _spans(invoices: Invoices, rows: int) -> list[tuple[int, int]]:
    total = records(invoices)
    if total == 0:
        return [(0, rows)]
    bounds = _group_bounds(invoices, total, rows)
    out, start = [], 0
    while start < total:
        end = min(start + rows, total)
        if end < total and bounds:
            at = bisect_left(bounds, end)
            near = [b for b in bounds[max(at - 1, 0) : at + 1] if start < b < total]
            best = min(near, key=lambda b: abs(b - end), default=end)
            end = best if 4 * abs(best - end) <= rows else end
        out.append((start, end - start))
        start = end
    return out


def _group_bounds(invoices: Invoices, total: int, rows: int) -> list[int]:
    """The records at which a row group of a Parquet invoice file starts. None are looked for
    when the file is one slice, or another file; none are used when the footer's row counts
    do not add up to the records scanned, or when there are more than 8 groups a slice (a
    slice's end inside one then decodes at most an eighth of a slice twice, and reading
    thousands of groups' metadata would cost more)."""
    if total <= rows or invoices.source is None:
        return []
    if not str(invoices.path).lower().endswith(".parquet"):
        return []
    groups = row_group_rows(invoices.path, most=8 * (total // rows + 1))
    if not groups or sum(groups) != total:
        return []
    return list(accumulate(groups))[:-1]


def typed_slices(invoices: Invoices) -> Iterator[pl.DataFrame]:
    """:func:`slices`, collected, the next one read in a background thread while the caller
    checks the current one (polars works without the GIL: reading and typing overlap the
    checks, at the cost of one more slice in memory)."""
    with ThreadPoolExecutor(1) as pool:
        pending = None
        for batch in slices(invoices):
            ahead = pool.submit(_collected, batch, invoices)
            if pending is not None:
                yield pending.result()
            pending = ahead
        if pending is not None:
            yield pending.result()


def _collected(batch: pl.LazyFrame, invoices: Invoices) -> pl.DataFrame:
    """A slice in memory, its columns in the chunks read (copying them into one costs more than
    it saves: the audit computes its new columns apart, :func:`tariffs.audit.checks._prepared`)."""
    # in-memory: polars 2.1's streaming engine panics at random (docs/performance.md)
    with reading(invoices):
        return batch.collect(engine="in-memory")


@contextmanager
def reading(invoices: Invoices):
    """Reading ``invoices``' content: a polars error there (a broken quote in a CSV, a damaged
    Parquet page) is the file's, said as an :class:`~tariffs.errors.InvoiceError`."""
    try:
        yield
    except pl.exceptions.PolarsError as exc:
        raise unreadable(invoices.path, exc) from exc


def records(invoices: Invoices) -> int:
    """The number of records of the file as scanned, blank ones included (counted once: a CSV
    file is read to count them)."""
    if invoices.records is None:
        scanned = invoices.source if invoices.source is not None else invoices.frame
        with reading(invoices):
            invoices.records = int(scanned.select(pl.len()).collect().item())
    return invoices.records


def revision_at(
    month: pl.Expr,
    step: pl.Expr | None = None,
    rev_month: pl.Expr | None = None,
    start_month: pl.Expr | None = None,
) -> pl.Expr:
    """The revision date in force in ``month``; ``step`` (the revision period in months),
    ``rev_month`` and ``start_month`` default to the columns ``frequency``, ``rev_month`` and
    ``start_month``."""
    if step is None:
        step = (
            pl.when(pl.col("frequency") == "monthly").then(1)
            .when(pl.col("frequency") == "quarterly").then(3)
            .otherwise(12)
        )  # fmt: skip
    rev_month = pl.col("rev_month") if rev_month is None else rev_month
    start_month = pl.col("start_month") if start_month is None else start_month
    at = month - (month - (rev_month - 1)) % step
    start = pl.max_horizontal(start_month, 0)
    # before the first revision date: the stub period opened by the start month (base prices)
    return pl.when(at >= start).then(at).when(month >= start).then(start).alias("at")
