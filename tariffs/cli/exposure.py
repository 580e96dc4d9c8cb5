"""``tariffs exposure``: how much each formula moves with oil."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import polars as pl

from tariffs.cli.common import emit, guarded, indices_option, report_options, warn
from tariffs.cli.revise import load_inputs, month_option
from tariffs.errors import OptionError
from tariffs.output import TABLE_ROWS
from tariffs.periods import format_month
from tariffs.report import _flat, atomic_write, plain_table, render, to_table, write_chunks

COLUMNS = ["oil_rank", "contract", "term", "component", "window", "oil_weight", "direct_oil_weight",
           "volatility_annual", "volatility_annual_revision", "max_rise_12m", "max_fall_12m",
           "worst_year", "elasticity", "elasticity_reference", "elasticity_points", "elasticity_r2",
           "contributions"]  # fmt: skip
TABLE_COLUMNS = ["oil_rank", "contract", "term", "component", "oil_weight", "volatility_annual",
                 "max_rise_12m", "max_fall_12m", "worst_year", "elasticity", "elasticity_points",
                 "contributions"]  # fmt: skip
SHOCK_FIELDS = ("delta_coefficient", "delta_price", "delta_eur_per_dwelling_year")
MONTHLY_K_ROWS = 250_000  # above: the xlsx monthly_k sheet holds the portfolio's K only


def _flat_rows(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """One column per shock and effect (csv/xlsx), shocks named by their text."""
    names = [s["shock"] for s in rows[0]["shocks"]] if rows else []
    cols = [f"{name} {f}" for name in names for f in SHOCK_FIELDS]
    flat = []
    for r in rows:
        out = dict(r)
        for s in r["shocks"]:
            for f in SHOCK_FIELDS:
                out[f"{s['shock']} {f}"] = s[f]
        flat.append(out)
    return flat, cols


def _table(rows: list[dict], title: str) -> Iterator[str]:
    """A rich table up to ``TABLE_ROWS`` rows (tariffs.output), else a plain layout of the same cells."""
    flat, _ = _flat_rows(rows)
    shown, cols = [], list(TABLE_COLUMNS)
    names = [s["shock"] for s in rows[0]["shocks"]] if rows else []
    cols += [f"{n}: ΔK / ΔP / €/dwelling/yr" for n in names]
    for r in flat:
        r = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
        r["contributions"] = {
            k: (None if v is None else round(v, 3)) for k, v in r["contributions"].items()
        }
        shown.append(dict(r, **{
            f"{s['shock']}: ΔK / ΔP / €/dwelling/yr": " / ".join(_g(s[f]) for f in SHOCK_FIELDS)
            for s in r["shocks"]
        }))  # fmt: skip
    if len(shown) <= TABLE_ROWS:
        yield to_table(shown, cols, title)
        return
    cells = pl.DataFrame(
        {c: [str(_flat(r.get(c))) for r in shown] for c in cols},
        schema=dict.fromkeys(cols, pl.String),
    )
    note = (f"{len(shown):,} rows: plain layout above {TABLE_ROWS:,} rows; "
            "--format csv, json or xlsx for a spreadsheet")  # fmt: skip
    right = [c for c in cols if c not in ("contract", "term", "component", "contributions")]
    yield from plain_table(cells, f"{title} ({note})", right=right)


def _g(value) -> str:
    return "n/a" if value is None else f"{value:+.4g}"


@click.command("exposure")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@indices_option
@click.option(
    "--from", "start", metavar="YYYY-MM", help="First month (default: all series cover it)."
)
@click.option("--to", "end", metavar="YYYY-MM", help="Last month (default: all series cover it).")
@click.option(
    "--shock", "shocks", multiple=True, metavar="SERIES=+NN%",
    help="Multiply SERIES by (1 + NN %) at the last month; 'oil=+NN%' shocks each series' oil share. Repeatable.",
)  # fmt: skip
@click.option(
    "--oil-reference", "reference", default="BRENT-EUR", show_default=True, metavar="SERIES",
    help="Oil series the elasticity is measured against (e.g. BRENT-EUR, FOD).",
)  # fmt: skip
@click.option(
    "--plot", "plot", type=click.Path(dir_okay=False, path_type=Path),
    help="Write a PNG of K over time per contract term, with the oil reference rebased to 1.",
)  # fmt: skip
@report_options
@guarded
def exposure_cmd(paths, indices_dir, start, end, shocks, reference, plot, fmt, output) -> None:
    """Oil exposure of each contract term: direct oil weight, volatility, elasticity, shocks.

    Rows are ranked by direct oil weight (largest first). Methods: docs/exposure.md.

    \b
    Examples:
      tariffs exposure                                   # contracts/ on indices/
      tariffs exposure contracts/belfort-leon-blum.toml contracts/vitry-habitat-wood-fuel.toml \\
          --from 2005-01 --to 2019-12 --shock FOD=+50% --shock oil=+50%
      tariffs exposure --oil-reference FOD --plot exposure.png --format json -o exposure.json
    """
    from tariffs.exposure import exposure, parse_shock

    first, last = month_option(start, "--from"), month_option(end, "--to")
    if first is not None and last is not None and first > last:
        raise OptionError(f"--from {start} is after --to {end}")
    parsed = [parse_shock(s) for s in shocks]
    contracts, store = load_inputs(paths, indices_dir)
    report = exposure(contracts, store, first, last, parsed, reference)
    _show(report, fmt, output)
    if plot is not None:
        from tariffs.exposure.plot import plot_exposure

        plot_exposure(report, store, plot)
    for note in report.notes:
        warn(note)


def _show(report, fmt: str, output: Path | None) -> None:
    a, b = report.rows[0]["window"] if report.rows else ("", "")
    title = f"Oil exposure {a}..{b} (elasticity against {report.reference_id})"
    if fmt == "table":
        _out(_table(report.rows, title), output)
        return
    if fmt == "json":
        _out(_json(report.rows), output)
        return
    flat, shock_cols = _flat_rows(report.rows)
    cols = COLUMNS + shock_cols
    if fmt == "xlsx":
        if output is None:
            raise OptionError("--format xlsx needs --output FILE.xlsx")
        _xlsx(output, cols, flat, report)
        return
    emit(render(flat, cols, fmt, output, title=title, sheet="exposure"))


def _out(chunks: Iterator[str], output: Path | None) -> None:
    if output is None:
        emit("".join(chunks))
    else:
        write_chunks(output, chunks)


def _json(rows: list[dict]) -> Iterator[str]:
    """The JSON rows, one compact object per line (as revise, history and audit write them)."""
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False, default=str)
    yield "\n]\n"


def _xlsx(output: Path, cols: list[str], flat: list[dict], report) -> None:
    """Sheets ``exposure`` (the rows) and ``monthly_k`` (K month by month), streamed to the file.

    ``monthly_k`` has one line per unit and month; when that exceeds
    ``MONTHLY_K_ROWS`` (a portfolio: Excel stops at 1,048,576 lines, and each
    line costs ~20 µs to write) it holds the portfolio's K only, with a warning.
    """
    import xlsxwriter

    keep = None
    drawn = 0 if report.drawn is None else report.drawn.height
    if drawn * (report.window[1] - report.window[0] + 1) > MONTHLY_K_ROWS:
        keep = pl.col("contract") == "(portfolio)"
        months = report.window[1] - report.window[0] + 1
        warn(f"xlsx: monthly_k holds the portfolio's K only ({drawn:,} units × {months} months "
             f"would exceed {MONTHLY_K_ROWS:,} lines); the library gives every path "
             "(tariffs.exposure.exposure(...).paths)")  # fmt: skip
    header = ["contract", "term", "comp", "month", "k"]

    def write(tmp: Path) -> None:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
        bold = book.add_format({"bold": True})
        sheet = book.add_worksheet("exposure")
        sheet.write_row(0, 0, cols, bold)
        for r, row in enumerate(flat, start=1):
            sheet.write_row(r, 0, [_flat(row.get(c)) for c in cols])
        sheet.freeze_panes(1, 0)
        sheet = book.add_worksheet("monthly_k")
        sheet.write_row(0, 0, header, bold)
        r = 1
        for part in report.path_slices(keep):
            part = part.with_columns(
                pl.col("month").map_elements(format_month, return_dtype=pl.String)
            )
            for values in part.select(header).iter_rows():
                sheet.write_row(r, 0, values)
                r += 1
        sheet.freeze_panes(1, 0)
        book.close()

    atomic_write(output, write)


COMMANDS = [exposure_cmd]
