"""Read an operator's invoice lines (CSV, XLSX or Parquet) into a lazy polars frame.

The reader is the edge: it finds the separator and the decimal mark, renames
the columns to our names once, keeps the file's line number of every row
(header = line 1) and turns every value into its type without dropping a row.
A value that cannot be read becomes null and the row gets a ``problem``
message naming the column and the text found: such a row is *blocked* by the
audit, reported with its line number, never silently skipped.

Notes
-----
Columns (INTERFACE.md): required ``contract, term, period, quantity,
unit_price, amount_excl_vat``; optional ``invoice, line, quantity_unit,
energy_basis, coefficient, vat_rate, amount_incl_vat, invoice_date`` and
``index:<SERIES>`` / ``base_index:<SERIES>``. Numbers may use a decimal point
or a decimal comma (``1 234,56``); a VAT rate may be written ``0.2``, ``20``
or ``20 %``. Line numbers assume one record per physical line (no quoted
newlines).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tariffs.errors import InvoiceError, Problem

REQUIRED = ("contract", "term", "period", "quantity", "unit_price", "amount_excl_vat")
OPTIONAL = (
    "invoice", "line", "quantity_unit", "energy_basis", "coefficient",
    "vat_rate", "amount_incl_vat", "invoice_date",
)  # fmt: skip
NUMBERS = (
    "quantity",
    "unit_price",
    "amount_excl_vat",
    "coefficient",
    "vat_rate",
    "amount_incl_vat",
)
INDEX_PREFIXES = ("index:", "base_index:")
#: the text columns that identify a line and its term
KEYS = ("contract", "term", "period", "invoice", "line")

#: the largest number a line may hold (quantities, prices, euros, index values): larger ones are
#: typos or overflows, and their products would be infinite
MAX_NUMBER = 10**9
#: quantity units -> (factor to MWh, energy basis written in the unit or None)
QUANTITY_UNITS = {"mwh": 1.0, "kwh": 0.001, "gwh": 1000.0, "gj": 1 / 3.6}


@dataclass
class Invoices:
    """The invoice lines of one file, typed, with their line numbers (``row``)."""

    path: str
    frame: pl.LazyFrame
    columns: list[str]
    index_columns: list[str] = field(default_factory=list)
    source: pl.LazyFrame | None = None  # the file as scanned, columns renamed, no row number
    numeric: frozenset[str] = frozenset()
    loose: pl.LazyFrame | None = None  # :attr:`frame` with the text keys as read
    warnings: list[str] = field(default_factory=list)  # e.g. a file read as Windows-1252
    #: the file's records, blank ones included, once counted (:func:`~tariffs.audit.batches.records`)
    records: int | None = field(default=None, repr=False, compare=False)
    #: the audit's slices by slice size, once cut (:func:`~tariffs.audit.batches.spans`)
    spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict, repr=False, compare=False)

    def has(self, column: str) -> bool:
        return column in self.columns

    def lines(self, offset: int, rows: int) -> pl.LazyFrame:
        """The typed lines ``offset .. offset + rows - 1`` (0-based), with their file line numbers.

        The slice is taken in the scan itself (a Parquet file reads only those
        rows): slicing :attr:`frame` would read and number the whole file first.
        The text keys (:data:`KEYS`) are as read, not stripped, and ``problem``
        does not say a contract or term missing: the audit strips only the few
        keys it cannot find as they are, and the lines it reports
        (:func:`strip_keys`, :func:`key_problems`), not 10 M texts per column.
        """
        if self.source is None:
            return self.loose.slice(offset, rows)
        return _numbered(self.source.slice(offset, rows), self, 2 + offset, strip=False)


def read_invoices(path: Path) -> Invoices:
    """Read ``path`` (``.csv``/``.txt``, ``.xlsx`` or ``.parquet``) lazily; see the module Notes.

    Raises :class:`InvoiceError` when the file cannot be read or lacks a
    required column (all missing columns reported together, at line 1).
    """
    path = Path(path)
    if not path.is_file():
        raise InvoiceError(problems=[Problem(str(path), "", "invoice file not found")])
    suffix = path.suffix.lower()
    warnings: list[str] = []
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw = _scan_xlsx(path)
        elif suffix == ".parquet":
            raw = pl.scan_parquet(path)  # typed: numbers stay numbers (see _typed)
        else:
            raw, warnings = _scan_csv(path)
        names = raw.collect_schema().names()
    except InvoiceError:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise unreadable(path, exc) from exc
    renames = {n: _canonical(n) for n in names}
    raw = raw.rename(renames)
    columns = list(renames.values())
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InvoiceError(
            problems=[
                Problem(
                    str(path), c, f"missing required column; the file has: {', '.join(columns)}", 1
                )
                for c in missing
            ]
        )
    index_columns = [c for c in columns if c.startswith(INDEX_PREFIXES)]
    schema = raw.collect_schema()
    odd = [
        Problem(str(path), c, f"a column of type {schema[c]}; expected text, numbers or dates", 1)
        for c in (*REQUIRED, *OPTIONAL, *index_columns)
        if c in schema and not _readable_type(schema[c])
    ]
    if odd:
        raise InvoiceError(problems=odd)
    numeric = {c for c in (*NUMBERS, *index_columns) if c in columns and schema[c].is_numeric()}
    invoices = Invoices(str(path), raw, columns, index_columns, raw, frozenset(numeric),
                        warnings=warnings)  # fmt: skip
    invoices.frame = _numbered(raw, invoices, 2)
    invoices.loose = _numbered(raw, invoices, 2, strip=False)
    return invoices


def _readable_type(dtype: pl.DataType) -> bool:
    """A column type the audit reads a value from: text, a number, a date (a Parquet file may
    hold any type; a list or a duration is no invoice value)."""
    return (
        dtype in (pl.String, pl.Categorical, pl.Boolean, pl.Null)
        or isinstance(dtype, pl.Enum)
        or dtype.is_numeric()
        or dtype == pl.Date
        or isinstance(dtype, pl.Datetime)
    )


def unreadable(path: Path | str, exc: Exception) -> InvoiceError:
    """The error for a file whose content cannot be read (found when it is opened, or later as
    its lines are read: a broken quote in a CSV, a damaged Parquet page), with the reader's
    reason without its advice on reader options."""
    text = str(exc)
    if "Original error:" in text:  # polars' CSV errors: hints for its API, then the cause
        text = text.split("Original error:", 1)[1]
    parts = [part.strip() for part in text.replace("`", "").splitlines() if part.strip()]
    text = parts[0] + (": " + " ".join(parts[1:]) if len(parts) > 1 else "") if parts else ""
    reason = text.split(" This error occurred with", 1)[0]
    reason = reason if len(reason) <= 300 else reason[:297] + "..."
    return InvoiceError(problems=[Problem(str(path), "", f"not a readable invoice file: {reason}")])


def _numbered(
    raw: pl.LazyFrame, invoices: Invoices, first_line: int, strip: bool = True
) -> pl.LazyFrame:
    """``raw`` (lines from file line ``first_line`` on, as scanned) numbered and typed; ``strip``:
    the text keys stripped (else as read, see :meth:`Invoices.lines`)."""
    schema = raw.collect_schema()
    used = (*REQUIRED, *OPTIONAL, *invoices.index_columns)  # other columns are kept as they are
    text = [c for c in used if c in schema and c not in invoices.numeric and schema[c] != pl.String]
    numbered = raw.with_row_index("row", offset=first_line).with_columns(
        # a month stored as a date (a Parquet date column) is read as its month, as in XLSX
        pl.col(c).dt.strftime("%Y-%m") if c == "period" and schema[c].is_temporal()
        else pl.col(c).cast(pl.String)
        for c in text
    )  # fmt: skip
    if not str(invoices.path).lower().endswith(".parquet"):
        # a blank line of a CSV/XLSX export (often the last one) is no invoice line: dropped,
        # the numbering of the others kept
        blank = pl.all_horizontal(
            pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == "")
            for c in invoices.columns
        )
        numbered = numbered.filter(~blank)
    return _typed(numbered, invoices.columns, invoices.index_columns, invoices.numeric, strip)


def strip_keys(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The text keys (:data:`KEYS`) of ``lines`` stripped of surrounding blanks."""
    return lines.with_columns(pl.col(c).str.strip_chars() for c in KEYS)


def _canonical(name: str) -> str:
    name = name.strip().lstrip("\ufeff")
    for prefix in INDEX_PREFIXES:
        if name.lower().startswith(prefix):
            return prefix + name[len(prefix) :].strip()
    return name.lower().replace(" ", "_")


#: how much of a CSV file is looked at for its encoding (the whole file would be read twice)
ENCODING_SAMPLE = 1 << 20


def _scan_csv(path: Path) -> tuple[pl.LazyFrame, list[str]]:
    """The file, and a warning when it is read as Windows-1252.

    A web page saved under a CSV name is refused (one clear message, not one per
    missing column). A file whose first megabyte is not UTF-8 is an export in
    Windows-1252 (Excel's "CSV (séparateur : point-virgule)" on a French system:
    ``€``, ``é``, a no-break space in ``1 234,56``): it is converted to UTF-8 in a
    temporary file, read from there, and the user is told. Undecodable bytes further
    on are read as U+FFFD, and the values holding them are reported unreadable.
    """
    with open(path, "rb") as handle:
        sample = handle.read(ENCODING_SAMPLE)
    if sample.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype", b"<html", b"<?xml")):
        raise InvoiceError(problems=[Problem(
            str(path), "", "this is a web page (HTML/XML), not a CSV export of invoice lines: "
            "export the lines from the operator's portal or spreadsheet as CSV, XLSX or Parquet", 1,
        )])  # fmt: skip
    warnings = []
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = len(sample) == ENCODING_SAMPLE and exc.reason == "unexpected end of data"
        if not cut:  # not a character cut at the sample's end
            path = _as_utf8(path)
            warnings.append("not UTF-8: read as Windows-1252 (Excel's CSV on a French system)")
    head = sample.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    separator = max((";", ",", "\t"), key=head.count)
    scanned = pl.scan_csv(
        path, separator=separator, infer_schema=False, encoding="utf8-lossy",
        truncate_ragged_lines=True,
    )  # fmt: skip
    return scanned, warnings


def _as_utf8(path: Path) -> Path:
    """A UTF-8 copy of a Windows-1252 file, in the temporary folder, removed at exit."""
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".utf8.csv")
    os.close(fd)
    atexit.register(Path(name).unlink, missing_ok=True)
    with (
        open(path, encoding="cp1252", errors="replace", newline="") as source,
        open(name, "w", encoding="utf-8", newline="") as target,
    ):
        shutil.copyfileobj(source, target, 1 << 20)
    return Path(name)


def _scan_xlsx(path: Path) -> pl.LazyFrame:
    """The first sheet, every cell as text; sheet row numbers equal file line numbers."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [str(h) if h is not None else f"column_{i}" for i, h in enumerate(next(rows, ()))]
    data: dict[str, list] = {h: [] for h in header}
    periods = {h for h in header if _canonical(h) == "period"}
    for values in rows:
        for h, v in zip(header, values, strict=False):
            # a month typed in Excel ("2006-03") becomes a date cell: read it back as the month
            text = v.strftime("%Y-%m") if h in periods and hasattr(v, "strftime") else _cell_text(v)
            data[h].append(None if v is None else text)
        for h in header[len(values) :]:
            data[h].append(None)
    book.close()
    return pl.DataFrame(data, schema={h: pl.String for h in header}).lazy()


def _cell_text(value: object) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def number(column: str) -> pl.Expr:
    """Text -> Float64 accepting ``1234.5``, ``1 234,5``, ``1.234,5``, ``1,234.5``, ``20 %``.

    The rule is :func:`number_rule`'s; it is evaluated only on the texts that need it
    (:func:`_numbers`): most texts are a plain number (``1234.5``) or one with a decimal
    comma (``1234,5``), read by one cast.
    """
    value = pl.col(column).map_batches(_numbers, return_dtype=pl.Float64, is_elementwise=True)
    return pl.when(value.is_finite()).then(value)  # "nan", "inf": not an amount


def number_rule(text: pl.Expr) -> pl.Expr:
    """The reading of every text (spaces, %, € dropped; the last of ``.`` and ``,`` is the
    decimal mark when both are there, else a ``,`` is); null when it is no number."""
    s = text.str.replace_all(r"[\s\u00a0\u202f%€]", "")
    both = s.str.contains(r"\.") & s.str.contains(",")
    comma_last = s.str.contains(r"\.[^,]*,[^.]*$")
    text = (
        pl.when(both & comma_last)
        .then(s.str.replace_all(r"\.", "").str.replace(",", ".", literal=True))
        .when(both)
        .then(s.str.replace_all(",", "", literal=True))
        .otherwise(s.str.replace(",", ".", literal=True))
    )
    return pl.when(s == "").then(None).otherwise(text).cast(pl.Float64, strict=False)


#: a text :func:`number_rule` reads as one cast: no blank, %, € or comma in it
PLAIN = r"[\s\u00a0\u202f%€,]"
#: a text it reads as one cast once its only comma is a point: digits, one comma, digits
DECIMAL_COMMA = r"^[+-]?[0-9]*,[0-9]*$"


def _numbers(texts: pl.Series) -> pl.Series:
    """:func:`number_rule` of ``texts``, the pattern work done only on the texts that need it.

    A text without blank, %, € or comma reads as the cast of itself (the rule then
    changes nothing in it); one made of digits around a single comma as the cast of it
    with a point (the rule's "otherwise" branch); only the others go through the rule.
    """
    values = texts.cast(pl.Float64, strict=False)
    odd = texts.str.contains(PLAIN).fill_null(False)
    if not odd.any():
        return values
    where = odd.arg_true()
    comma = texts.gather(where).str.contains(DECIMAL_COMMA)
    simple, other = where.filter(comma), where.filter(~comma)
    pointed = texts.gather(simple).str.replace(",", ".", literal=True)
    values = values.scatter(simple, pointed.cast(pl.Float64, strict=False))
    if other.len():
        read = pl.select(number_rule(pl.lit(texts.gather(other)))).to_series()
        values = values.scatter(other, read)
    return values


def _typed(
    raw: pl.LazyFrame,
    columns: list[str],
    index_columns: list[str],
    numeric: set[str] = frozenset(),
    strip: bool = True,
) -> pl.LazyFrame:
    """Typed columns plus ``month`` (month index) and ``problem`` (null when the row reads).

    With ``strip`` false the text keys stay as read and ``problem`` leaves out
    the messages of :func:`key_problems` (see :meth:`Invoices.lines`).

    A column of ``numeric`` is already numbers (a typed Parquet column): it is
    cast to Float64, never turned into text and re-parsed; a value that is not
    finite (NaN, inf) is unreadable, as the same text in a CSV; its text ``_c``
    is null otherwise (a missing one reads as ``''``). An
    optional column the file lacks is a constant (no text work per line).
    """
    absent = [c for c in OPTIONAL if c not in columns]
    raw = raw.with_columns(pl.lit(None, pl.String).alias(c) for c in absent)
    text = [pl.col(c).str.strip_chars().alias(c) for c in KEYS] if strip else []
    dated = "invoice_date" not in absent
    raw = raw.with_columns(
        *text,
        *[pl.col("invoice_date").cast(pl.String).str.strip_chars().alias("_invoice_date")] * dated,
        *[
            pl.lit(None, pl.String).alias(f"_{c}") if c in absent
            # a typed number is unreadable only when not finite (NaN, inf): its text then
            else pl.when(~pl.col(c).cast(pl.Float64).is_finite()).then(pl.col(c).cast(pl.String))
            .alias(f"_{c}") if c in numeric
            else pl.col(c).str.strip_chars().alias(f"_{c}")
            for c in NUMBERS + tuple(index_columns)
        ],
    )  # fmt: skip
    frame = raw.with_columns(
        *[
            pl.col(c).cast(pl.Float64).alias(c) if c in absent
            else pl.when(pl.col(c).cast(pl.Float64).is_finite()).then(pl.col(c).cast(pl.Float64))
            .alias(c) if c in numeric
            else number(f"_{c}").alias(c)
            for c in NUMBERS + tuple(index_columns)
        ],
        MONTH_OF_PERIOD,
        *_units(absent),
        pl.lit(None, pl.Date).alias("invoice_date") if "invoice_date" in absent
        else _date(pl.col("invoice_date")).alias("invoice_date"),
    )  # fmt: skip
    if "vat_rate" not in absent:
        frame = frame.with_columns(
            pl.when(pl.col("vat_rate") > 1)
            .then(pl.col("vat_rate") / 100)
            .otherwise(pl.col("vat_rate"))
            .alias("vat_rate")
        )
    return frame.with_columns(_problem(index_columns, strip, dated).alias("problem")).drop(
        [f"_{c}" for c in (*NUMBERS, *index_columns, *["invoice_date"] * dated)]
    )


#: "YYYY-MM" of the years 1000-2999, the Enum a period is cast to (month number = code + offset)
MONTHS = pl.Enum([f"{y:04d}-{m:02d}" for y in range(1000, 3000) for m in range(1, 13)])
PERIOD = r"^(\d{4})-(0[1-9]|1[0-2])$"


def month_of(period: pl.Expr) -> pl.Expr:
    """Month index (year × 12 + month − 1) of ``YYYY-MM`` texts (blanks around them ignored);
    null if not one.

    One ``Enum`` cast (a hash look-up per line); the texts it does not find
    (another year range, blanks around, or no month) are stripped and read by
    the pattern :data:`PERIOD`, so the result is exactly the pattern's on the
    stripped text. polars evaluates the pattern only for the lines that need it.
    """
    fast = period.cast(MONTHS, strict=False).to_physical().cast(pl.Int64) + 1000 * 12
    parts = period.str.strip_chars().str.extract_groups(PERIOD)
    slow = parts.struct.field("1").cast(pl.Int64) * 12 + parts.struct.field("2").cast(pl.Int64) - 1
    return pl.when(fast.is_not_null() | period.is_null()).then(fast).otherwise(slow)


#: :func:`month_of` the ``period`` column, built once (the ``Enum`` of 24,000 months is converted
#: for polars each time an expression names it)
MONTH_OF_PERIOD = month_of(pl.col("period")).alias("month")


def month_number(period: pl.Series) -> pl.Series:
    """:func:`month_of` a series of texts."""
    return pl.select(month_of(pl.lit(period, pl.String))).to_series().alias(period.name)


def _units(absent: list[str]) -> list[pl.Expr]:
    """``mwh_per_unit`` (factor of the quantity to MWh) and ``billed_basis``."""
    if "quantity_unit" in absent:
        basis = pl.lit(None, pl.String) if "energy_basis" in absent else pl.col("energy_basis")
        return [
            pl.lit(1.0, pl.Float64).alias("mwh_per_unit"),
            basis.str.strip_chars().alias("billed_basis"),
        ]
    unit = pl.col("quantity_unit").str.strip_chars().str.to_lowercase().fill_null("mwh")
    unit_base = unit.str.extract(r"^([a-z]+)")
    basis_in_unit = unit.str.extract(r"(pci|pcs|useful|utile)$")
    return [
        unit_base.replace_strict(QUANTITY_UNITS, default=None, return_dtype=pl.Float64).alias(
            "mwh_per_unit"
        ),
        pl.coalesce(
            pl.col("energy_basis").str.strip_chars(),
            basis_in_unit.replace({"pci": "PCI", "pcs": "PCS", "utile": "useful"}),
        ).alias("billed_basis"),
    ]


def key_problems() -> list[pl.Expr]:
    """The messages for a missing (null or blank) ``contract`` or ``term`` (stripped texts)."""
    return [
        pl.when(pl.col(c).is_null() | (pl.col(c) == "")).then(pl.lit(f"{c}: missing value"))
        for c in ("contract", "term")
    ]


def _date(expr: pl.Expr) -> pl.Expr:
    text = expr.str.strip_chars()
    return pl.coalesce(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        # day first, as a French export writes it, maybe with a time ("31/01/2009 00:00")
        text.str.extract(r"^(\d{1,2}/\d{1,2}/\d{4})").str.to_date("%d/%m/%Y", strict=False),
    )


def _problem(index_columns: list[str], keys: bool = True, dated: bool = True) -> pl.Expr:
    """One message per unreadable value of the row, joined with ``; `` (null: row is readable);
    ``keys``: with the messages for a missing contract or term (:func:`key_problems`)."""
    checks = key_problems() if keys else []
    checks.append(
        pl.when(pl.col("month").is_null()).then(
            # stripped here only: the audit reads the keys as they are (Invoices.lines)
            pl.format(
                "period: expected a month YYYY-MM, got '{}'",
                pl.col("period").str.strip_chars().fill_null(""),
            )  # fmt: skip
        )
    )
    for c in REQUIRED[3:]:
        checks.append(
            pl.when(pl.col(c).is_null()).then(
                pl.format(f"{c}: expected a number, got '{{}}'", pl.col(f"_{c}").fill_null(""))
            )
        )
    for c in NUMBERS[3:] + tuple(index_columns):
        checks.append(
            pl.when(pl.col(c).is_null() & (pl.col(f"_{c}").fill_null("") != "")).then(
                pl.format(f"{c}: expected a number, got '{{}}'", pl.col(f"_{c}"))
            )
        )
    for c in NUMBERS + tuple(index_columns):  # 1e300 reads, but its products overflow to inf
        checks.append(
            pl.when(pl.col(c).abs() >= MAX_NUMBER).then(
                pl.format(f"{c}: expected a number below {MAX_NUMBER:,}, got '{{}}'",
                          pl.col(c).cast(pl.String))
            )
        )  # fmt: skip
    if dated:  # the invoice date decides the index values known: never silently dropped
        checks.append(
            pl.when(pl.col("invoice_date").is_null() & (pl.col("_invoice_date").fill_null("") != ""))
            .then(pl.format("invoice_date: expected a date YYYY-MM-DD or DD/MM/YYYY, got '{}'",
                            pl.col("_invoice_date")))
        )  # fmt: skip
    checks.append(
        pl.when(pl.col("mwh_per_unit").is_null()).then(
            pl.format("quantity_unit: expected MWh, kWh, GWh or GJ (optionally _PCI/_PCS/_useful), got '{}'",
                      pl.col("quantity_unit"))
        )
    )  # fmt: skip
    checks.append(
        pl.when(
            pl.col("billed_basis").is_not_null()
            & ~pl.col("billed_basis").is_in(["useful", "PCI", "PCS"])
        ).then(
            pl.format("energy_basis: expected useful, PCI or PCS, got '{}'", pl.col("billed_basis"))
        )
    )
    return pl.concat_str(checks, separator="; ", ignore_nulls=True).replace("", None)
