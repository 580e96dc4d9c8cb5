"""Columnar rendering of a revision result (``revise``, ``history``): csv, json, xlsx, table.

The cells are built with polars expressions from ``Result.frame`` and
``Result.trace`` (no Python dict per row) and written slice by slice, so that a
portfolio of 100,000 contracts (300,000 rows, 1.2 million index rows) is written
in seconds with a bounded memory.

Notes
-----
The content is that of :func:`tariffs.revision.to_rows` (the JSON of INTERFACE.md,
"JSON of revise") and of the table rows derived from it:

- a row's ``indices`` are the trace rows of the same (contract, term, component,
  date), in ``index_order``; a mix term's total row (component null) has none;
- in csv / xlsx / table cells an index reads ``SERIES PERIOD: value/base``
  (``%g``, ``MISSING`` for a missing value), indices and flags are joined with
  ``"; "``, a mix total's component reads ``(total)``; the table also joins the
  unit with the energy basis;
- unrounded figures are snapped to 10 decimals (``round(x, 10)``); numbers are
  written as Python writes them (``repr``; JSON as ``json.dumps``).

Text conversions that must match Python exactly (``repr``, ``%g``, JSON string
escapes) run in Python on the *distinct* values of a column only, then are
gathered back by polars.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import polars as pl

from tariffs.errors import OptionError
from tariffs.periods import format_month
from tariffs.report import plain_table, to_table, write_xlsx_slices

COLUMNS = ["contract", "term", "component", "at", "base_price", "coefficient", "price", "unit",
           "energy_basis", "indices", "flags", "status"]  # fmt: skip
TABLE_COLUMNS = [c for c in COLUMNS if c != "energy_basis"]
PLAIN_COLUMNS = [c for c in TABLE_COLUMNS if c != "indices"] + ["indices"]
NUMBER_COLUMNS = ("base_price", "coefficient", "price")
FLAGS = (("capped", "capped"), ("floored", "floored"), ("safeguard", "safeguard_hit"),
         ("provisional-index", "provisional"), ("base-value-differs", "base_differs"),
         ("chained-series", "chained"), ("not-yet-revised", "stub"))  # fmt: skip
KEYS = ["contract", "term", "comp", "at"]
TABLE_ROWS = 1_000  # above: a plain text layout (rich takes ~2 ms a row)
SLICE_ROWS = 25_000  # frame rows rendered at a time (json: ~40 MB of text per slice at most)


def mapped(series: pl.Series, func: Callable[[Any], Any], dtype=pl.String) -> pl.Series:
    """``func(value)`` for each value of ``series``, computed once per distinct value.

    Nulls give ``func(None)``. Floats are matched by value, so ``-0.0`` (which polars
    groups with ``0.0``) is mapped on its own.
    """
    values = series.drop_nulls().unique()
    new = pl.Series([func(v) for v in values.to_list()], dtype=dtype)
    out = series.replace_strict(values, new, return_dtype=dtype)
    if series.null_count():
        out = out.fill_null(pl.lit(func(None), dtype))
    if series.dtype.is_float() and series.len():
        negative_zero = (series == 0) & ((1.0 / series) < 0)
        if negative_zero.any():
            out = out.scatter(negative_zero.arg_true(), func(-0.0))
    return out


def snap(value: float | None) -> float | None:
    """Remove float noise from an unrounded figure (0.9999999999999999 -> 1.0): 10 decimals."""
    return None if value is None else round(value, 10)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _num(value: float | None) -> str:
    return "MISSING" if value is None else f"{value:g}"


_LINK = pl.col("link_coefficient")
_TRACE_COLUMNS = [
    "index_order", "series", "weight", "base_period", "base_used", "base_source", "period",
    "value", "status", "published", pl.col("any_chained").fill_null(False),
    pl.when(_LINK.is_not_null() & (_LINK != 0)).then(_LINK).otherwise(pl.col("base_link_coefficient"))
    .alias("link"),
    pl.col("base_differs").fill_null(False), "series_base_value",
]  # fmt: skip


class Rendered:
    """A result's frame, with each row's trace rows, ready to be rendered slice by slice.

    ``frame``: the result's rows, with their row number ``fid`` and ``in_mix`` (the
    contract, term and date have a component row). ``trace``: the trace rows
    joined to their frame row ``fid``, sorted by (fid, index_order) (stable).
    """

    def __init__(self, result) -> None:
        frame = result.frame.with_row_index("fid").with_columns(
            pl.col("comp").is_not_null().any().over("contract", "term", "at").alias("in_mix")
        )
        own = pl.col("comp").is_not_null() | ~pl.col("is_mix")  # a mix total has no indices
        keys = frame.select(
            "fid", "contract", "term", pl.when(own).then(pl.col("comp").fill_null("")).alias("comp"), "at"
        )  # fmt: skip
        trace = result.trace
        if keys.select(KEYS).is_duplicated().any():  # not from the engine: each row gets its own
            trace = trace.join(keys, on=KEYS, how="inner", maintain_order="left")
            fid = trace["fid"]
        else:  # the frame row of each trace row: only the key columns go through the join
            fid = trace.select(KEYS).join(keys, on=KEYS, how="left", maintain_order="left")["fid"]
        order = (
            pl.DataFrame({"fid": fid, "index_order": trace["index_order"]}).with_row_index("row")
            .filter(pl.col("fid").is_not_null()).sort("fid", "index_order", maintain_order=True)
        )["row"]  # fmt: skip
        assumed = pl.col("assumed") if "assumed" in trace.columns else pl.lit(False)
        shown = trace.select(*_TRACE_COLUMNS, assumed.fill_null(False).alias("assumed"))
        self.trace = shown[order].with_columns(fid[order])  # the shown columns, gathered once
        self.frame = frame
        self.height = frame.height

    def slices(self, rows: int = SLICE_ROWS) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        """(frame rows, their trace rows) by ``rows`` frame rows."""
        fid = self.trace["fid"]
        for start in range(0, self.height, rows):
            end = min(start + rows, self.height)
            a, b = fid.search_sorted(start, "left"), fid.search_sorted(end, "left")
            yield self.frame.slice(start, end - start), self.trace.slice(a, b - a)


# --- cells: csv / xlsx / table --------------------------------------------------------------------


def cells(frame: pl.DataFrame, trace: pl.DataFrame, *, join_unit: bool = False) -> pl.DataFrame:
    """The table cells of ``frame``'s rows: numbers as snapped floats, everything else as text.

    ``None`` stands for an empty cell. Columns: :data:`COLUMNS`.
    """
    text = (
        pl.concat_str(
            pl.col("series").fill_null("None"),
            pl.lit(" "),
            pl.col("period").fill_null("None"),
            pl.lit(": "),
            pl.lit(mapped(trace["value"], lambda v: _num(snap(v)))),
            pl.lit("/"),
            pl.lit(mapped(trace["base_used"], lambda v: _num(snap(v)))),
        )  # fmt: skip
    )
    indices = trace.select("fid", text.alias("t")).group_by("fid").agg(pl.col("t").str.join("; "))
    indices = indices.rename({"t": "indices"})
    ok = pl.col("missing") == 0
    unit = pl.col("unit")
    if join_unit:
        basis = pl.col("energy_basis")
        unit = (pl.when(basis.is_not_null() & (basis != ""))
                .then(pl.concat_str(unit.fill_null("None"), pl.lit(" "), basis)).otherwise(unit))  # fmt: skip
    out = frame.join(indices, on="fid", how="left", maintain_order="left").select(
        "contract", "term",
        pl.when(pl.col("comp").is_null() & pl.col("in_mix")).then(pl.lit("(total)"))
        .otherwise(pl.col("comp")).alias("component"),
        pl.lit(mapped(frame["at"], format_month)).alias("at"),
        "base_price",
        pl.when(ok).then(pl.lit(mapped(frame["coefficient"], snap, pl.Float64))).alias("coefficient"),
        pl.when(ok).then(pl.lit(mapped(frame["price"], snap, pl.Float64))).alias("price"),
        unit.alias("unit"), "energy_basis", pl.col("indices").fill_null(""),
        _flags("; ", quote=False).alias("flags"),
        pl.when(ok).then(pl.lit("ok")).otherwise(pl.lit("missing-index")).alias("status"),
    )  # fmt: skip
    return out


def _flags(separator: str, quote: bool) -> pl.Expr:
    names = [
        pl.when(pl.col(col)).then(pl.lit(f'"{name}"' if quote else name)) for name, col in FLAGS
    ]
    return pl.concat_str(names, separator=separator, ignore_nulls=True)


def as_text(cells_frame: pl.DataFrame) -> pl.DataFrame:
    """Every cell as the text ``csv.writer`` writes for it (``repr`` of a float, "" for none)."""
    return cells_frame.with_columns(
        pl.lit(mapped(cells_frame[c], lambda v: "" if v is None else repr(v))).alias(c)
        for c in NUMBER_COLUMNS
    ).with_columns(pl.all().fill_null(""))


def csv_quoted(column: str) -> pl.Expr:
    """``column`` quoted as ``csv.writer`` (QUOTE_MINIMAL, ``\\n`` line ends) quotes it."""
    c = pl.col(column)
    needs = c.str.contains('[,"\n]')
    return (
        pl.when(needs)
        .then(pl.concat_str(pl.lit('"'), c.str.replace_all('"', '""', literal=True), pl.lit('"')))
        .otherwise(c)
        .alias(column)
    )


def batch_chunks(results: Iterable, fmt: str) -> Iterator[str]:
    """The csv or json report of several results one after the other (batches of contracts,
    :func:`tariffs.revision.history_batches`), the same text as :func:`csv_chunks` or
    :func:`json_chunks` of one result holding their rows."""
    rows = 0
    if fmt == "csv":
        yield ",".join(COLUMNS) + "\n"
    for result in results:
        for frame, trace in Rendered(result).slices():
            if fmt == "csv":
                text = as_text(cells(frame, trace)).select(csv_quoted(c) for c in COLUMNS)
                yield text.write_csv(
                    include_header=False, quote_style="never", line_terminator="\n"
                )
            elif frame.height:
                yield ("[\n" if rows == 0 else ",\n") + ",\n".join(
                    json_objects(frame, trace).to_list()
                )
            rows += frame.height
    if fmt == "json":
        yield "\n]\n" if rows else "[]\n"


def csv_chunks(rendered: Rendered) -> Iterator[str]:
    """The CSV text of ``revise``/``history``: header, then one line per row."""
    yield ",".join(COLUMNS) + "\n"
    for frame, trace in rendered.slices():
        text = as_text(cells(frame, trace)).select(csv_quoted(c) for c in COLUMNS)
        yield text.write_csv(include_header=False, quote_style="never", line_terminator="\n")


# --- json ----------------------------------------------------------------------------------------


def _entries(trace: pl.DataFrame) -> pl.DataFrame:
    """The JSON object of each trace row (keys as :func:`tariffs.revision.to_rows`), by ``fid``."""

    def j(column: str, func: Callable = _json) -> pl.Expr:
        return pl.lit(mapped(trace[column], func))

    status = trace.select(
        pl.when(pl.col("value").is_not_null()).then(pl.col("status")).otherwise(pl.lit("missing"))
    ).to_series()
    published = pl.col("published").is_not_null()
    entry = pl.concat_str(
        pl.lit('{"series": '), j("series"), pl.lit(', "weight": '), j("weight"),
        pl.lit(', "base_period": '), j("base_period"),
        pl.lit(', "base_value": '), j("base_used", lambda v: _json(snap(v))),
        pl.lit(', "base_source": '), j("base_source"), pl.lit(', "period": '), j("period"),
        pl.lit(', "value": '), j("value", lambda v: _json(snap(v))),
        pl.lit(', "status": '), pl.lit(mapped(status, _json)),
        pl.when(published).then(pl.concat_str(pl.lit(', "published": '),
                                              j("published", lambda d: _json(d and d.isoformat()))))
        .otherwise(pl.lit("")),
        pl.when(published & pl.col("assumed")).then(pl.lit(', "published_assumed": true'))
        .otherwise(pl.lit("")),
        pl.when(pl.col("any_chained")).then(pl.concat_str(pl.lit(', "link_coefficient": '), j("link")))
        .otherwise(pl.lit("")),
        pl.when(pl.col("base_differs"))
        .then(pl.concat_str(pl.lit(', "series_base_value": '), j("series_base_value")))
        .otherwise(pl.lit("")),
        pl.lit("}"),
    )  # fmt: skip
    entries = trace.select("fid", entry.alias("indices"))
    return entries.group_by("fid").agg(pl.col("indices").str.join(", "))


def json_objects(frame: pl.DataFrame, trace: pl.DataFrame) -> pl.Series:
    """One compact JSON object per row of ``frame`` (INTERFACE.md "JSON of revise")."""

    def j(column: str, func: Callable = _json) -> pl.Expr:
        return pl.lit(mapped(frame[column], func))

    ok = pl.col("missing") == 0
    snapped = lambda v: _json(snap(v))  # noqa: E731
    return (
        frame.join(_entries(trace), on="fid", how="left", maintain_order="left")
        .select(
            pl.concat_str(
                pl.lit('{"contract": '),
                j("contract"),
                pl.lit(', "term": '),
                j("term"),
                pl.lit(', "component": '),
                j("comp"),
                pl.lit(', "at": '),
                j("at", lambda m: _json(format_month(m))),
                pl.lit(', "base_price": '),
                j("base_price"),
                pl.lit(', "coefficient": '),
                pl.when(ok).then(j("coefficient", snapped)).otherwise(pl.lit("null")),
                pl.lit(', "price": '),
                pl.when(ok).then(j("price", snapped)).otherwise(pl.lit("null")),
                pl.lit(', "unit": '),
                j("unit"),
                pl.lit(', "energy_basis": '),
                j("energy_basis"),
                pl.lit(', "indices": ['),
                pl.col("indices").fill_null(""),
                pl.lit('], "flags": ['),
                _flags(", ", quote=True),
                pl.lit('], "status": '),
                pl.when(ok).then(pl.lit('"ok"')).otherwise(pl.lit('"missing-index"')),
                pl.lit("}"),
            )
        )  # fmt: skip
        .to_series()
    )


def json_chunks(rendered: Rendered) -> Iterator[str]:
    """A JSON array with one compact row object per line: ``[\\n{...},\\n{...}\\n]\\n``."""
    if rendered.height == 0:
        yield "[]\n"
        return
    yield "["
    for n, (frame, trace) in enumerate(rendered.slices()):
        yield (",\n" if n else "\n") + ",\n".join(json_objects(frame, trace).to_list())
    yield "\n]\n"


# --- xlsx and table ------------------------------------------------------------------------------


def table_chunks(rendered: Rendered, title: str | None) -> Iterator[str]:
    """A rich table up to :data:`TABLE_ROWS` rows, else a plain text layout of the same cells.

    The plain layout puts ``indices``, the one column of unbounded width, last
    (:data:`PLAIN_COLUMNS`) so that flags and status stay in view.
    """
    text = as_text(all_cells(rendered, join_unit=True))
    if text.height <= TABLE_ROWS:
        yield to_table(text.select(TABLE_COLUMNS).to_dicts(), TABLE_COLUMNS, title)
        return
    note = (f"{text.height:,} rows: plain layout above {TABLE_ROWS:,} rows; "
            "--format csv, json or xlsx for a spreadsheet")  # fmt: skip
    title = f"{title} ({note})" if title else note
    yield from plain_table(text.select(PLAIN_COLUMNS), title, right=NUMBER_COLUMNS)


def all_cells(rendered: Rendered, *, join_unit: bool = False) -> pl.DataFrame:
    """:func:`cells` of every row (csv-sized: ~50 MB for 300,000 rows)."""
    parts = [cells(f, t, join_unit=join_unit) for f, t in rendered.slices()]
    return pl.concat(parts) if parts else cells(*next(_empty(rendered)), join_unit=join_unit)


def _empty(rendered: Rendered) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    yield rendered.frame.clear(), rendered.trace.clear()


def report(result, fmt: str, output, title: str | None = None) -> Iterator[str] | None:
    """The report of a revision ``result`` in ``fmt`` (table, csv, json, xlsx).

    Returns the text as chunks (to print, or to write with
    :func:`tariffs.report.write_chunks`); an xlsx report is written to ``output``
    here (None returned).
    """
    if fmt == "xlsx" and output is None:
        raise OptionError("--format xlsx needs --output FILE.xlsx")
    if fmt not in ("table", "csv", "json", "xlsx"):
        raise OptionError(f"unknown format {fmt!r}; expected one of table, csv, json, xlsx")
    rendered = Rendered(result)
    if fmt == "xlsx":
        write_xlsx_slices(output, "prices", COLUMNS, (cells(f, t) for f, t in rendered.slices()))
        return None
    chunks = {"csv": csv_chunks, "json": json_chunks}.get(fmt)
    return chunks(rendered) if chunks else table_chunks(rendered, title)
