"""Rendering of result rows as table / csv / json / xlsx, with atomic writes.

Rows are plain dicts (the JSON objects of INTERFACE.md). ``table`` renders a
rich table on the terminal; ``csv`` flattens nested values; ``xlsx`` needs a
file. Every file is written to a temporary file in the same folder and moved
into place, so a failure never leaves a half-written output.

Big reports (``revise``, ``history``: :mod:`tariffs.output`) come as frames of
cells instead of dicts: :func:`write_chunks` streams their text into the file,
:func:`plain_table` lays out a table too long for rich, :func:`write_xlsx_slices`
streams the cells into a sheet.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from tariffs.errors import OptionError

FORMATS = ("table", "csv", "json", "xlsx")


def check_output(path: Path | None, fmt: str | None = None) -> None:
    """Refuse, before any work is done, a report that could not be written: xlsx without
    ``-o``, an empty name, a folder, or a file in a folder that does not exist."""
    if fmt == "xlsx" and path is None:
        raise OptionError("--format xlsx needs --output FILE.xlsx")
    if path is None:
        return
    path = Path(path)
    if str(path) in ("", "."):
        raise OptionError("-o/--output: expected a file name, got an empty one")
    if path.is_dir():
        raise OptionError(f"-o/--output: {path} is a folder; expected a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OptionError(f"{path}: output folder {folder} does not exist")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` then move the temporary file onto ``path``."""
    path = Path(path)
    check_output(path)
    if path.exists() and not path.is_file():
        write(path)  # a device or a pipe (/dev/stdout): written in place, never replaced
        return
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_chunks(path: Path, chunks: Iterable[str]) -> None:
    """Write the text ``chunks`` one after the other into ``path``, atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as file:
            for chunk in chunks:
                file.write(chunk)

    atomic_write(path, write)


def _flat(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(_flat(v)) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_flat(v)}" for k, v in value.items())
    return "" if value is None else value


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_flat(row.get(c)) for c in columns])
    return buffer.getvalue()


def to_table(rows: Sequence[dict], columns: Sequence[str], title: str | None = None) -> str:
    """A rich table rendered to text (no colour codes when not on a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*[str(_flat(row.get(c))) for c in columns])
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def write_xlsx(path: Path, sheets: dict[str, tuple[Sequence[str], Sequence[dict]]]) -> None:
    """Write one sheet per entry ``name -> (columns, rows)``, atomically."""
    import xlsxwriter

    def write(tmp: Path) -> None:
        book = xlsxwriter.Workbook(str(tmp))
        bold = book.add_format({"bold": True})
        for name, (columns, rows) in sheets.items():
            sheet = book.add_worksheet(name[:31])
            sheet.write_row(0, 0, list(columns), bold)
            for r, row in enumerate(rows, start=1):
                sheet.write_row(r, 0, [_flat(row.get(c)) for c in columns])
            sheet.freeze_panes(1, 0)
        book.close()

    atomic_write(path, write)


def render(
    rows: Sequence[dict],
    columns: Sequence[str],
    fmt: str,
    output: Path | None,
    *,
    json_data: Any = None,
    title: str | None = None,
    sheet: str = "results",
) -> str | None:
    """Render ``rows`` in ``fmt``; write to ``output`` atomically or return the text to print."""
    if fmt == "xlsx":
        if output is None:
            raise OptionError("--format xlsx needs --output FILE.xlsx")
        write_xlsx(output, {sheet: (columns, rows)})
        return None
    if fmt == "json":
        text = to_json(rows if json_data is None else json_data)
    elif fmt == "csv":
        text = to_csv(rows, columns)
    elif fmt == "table":
        text = to_table(rows, columns, title)
    else:
        raise OptionError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if output is None:
        return text
    atomic_write_text(output, text)
    return None


def plain_table(cells: pl.DataFrame | Iterable[pl.DataFrame], title: str | None,
                right: Sequence[str] = (), rows: int = 50_000,
                widths: dict[str, int] | None = None) -> Iterator[str]:  # fmt: skip
    """A plain-text table of text ``cells`` (no null): title, header, rule, one line per row.

    Columns are padded to their widest cell and separated by two spaces; the
    columns named in ``right`` (numbers) are right-aligned. Yields the text by
    ``rows`` lines, for tables far too long for rich. ``cells`` may be several
    frames (read one after the other) when their columns' ``widths`` are given.
    """
    parts = [cells] if isinstance(cells, pl.DataFrame) else cells
    if widths is None:
        widths = text_widths(cells)
    columns = list(widths)

    def pad(text: pl.Expr | str, column: str) -> pl.Expr | str:
        w = widths[column]
        if isinstance(text, str):
            return text.rjust(w) if column in right else text.ljust(w)
        return text.str.pad_start(w) if column in right else text.str.pad_end(w)

    header = "  ".join(pad(c, c) for c in columns).rstrip()
    rule = "  ".join("-" * widths[c] for c in columns)
    yield (f"{title}\n" if title else "") + f"{header}\n{rule}\n"
    line = pl.concat_str([pad(pl.col(c), c) for c in columns], separator="  ")
    for frame in parts:
        for part in frame.iter_slices(rows):
            yield "\n".join(part.select(line.str.strip_chars_end()).to_series().to_list()) + "\n"


def text_widths(cells: pl.DataFrame, widths: dict[str, int] | None = None) -> dict[str, int]:
    """Each column's width in a plain table: its name's or its widest cell's (at least
    ``widths``, those of the frames before)."""
    widths = widths or {}
    return {c: max(widths.get(c, 0), len(c), cells[c].str.len_chars().max() or 0)
            for c in cells.columns}  # fmt: skip


def write_xlsx_slices(path: Path, sheet: str, columns: Sequence[str],
                      slices: Iterable[pl.DataFrame]) -> None:  # fmt: skip
    """One sheet of the ``columns`` of each frame of ``slices`` (in order), atomically.

    Header in bold, frozen. Cells as :func:`write_xlsx` writes them: a number
    column as numbers, anything else as text; a null or empty cell is left blank.
    Rows are streamed to the file (xlsxwriter ``constant_memory``).
    """
    import xlsxwriter

    def write(tmp: Path) -> None:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
        sheet_ = book.add_worksheet(sheet[:31])
        sheet_.freeze_panes(1, 0)
        sheet_.write_row(0, 0, list(columns), book.add_format({"bold": True}))
        row = 1
        for frame in slices:
            frame = frame.select(columns)
            kinds = [sheet_.write_number if d.is_numeric() else sheet_.write_string
                     for d in frame.dtypes]  # fmt: skip
            for values in frame.iter_rows():
                for col, value in enumerate(values):
                    if value is not None and value != "":
                        kinds[col](row, col, value)
                row += 1
        book.close()

    atomic_write(path, write)
