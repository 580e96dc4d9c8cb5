"""``tariffs indices list | show | import | fetch | check``: the index store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
import polars as pl

from tariffs.cli.common import emit, guarded, indices_option, report_options, warn
from tariffs.errors import OptionError
from tariffs.report import render
from tariffs.series.checks import check_store, summary
from tariffs.series.importer import import_files
from tariffs.series.store import IndexStore, load_store

LIST_COLUMNS = [
    "id",
    "frequency",
    "base",
    "first",
    "last",
    "periods",
    "last_update",
    "status",
    "oil_share",
    "chain",
    "title",
]
SHOW_COLUMNS = ["period", "value", "status", "published"]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise OptionError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from exc


def _series_id(store: IndexStore, given: str) -> str:
    """An id of the catalog, or a source id (idBank) naming exactly one series."""
    if given in store.catalog:
        return given
    same = [
        i.id
        for i in store.catalog.values()
        if i.source_id and i.source_id.lstrip("0") == given.lstrip("0")
    ]
    if len(same) == 1:
        return same[0]
    raise OptionError(
        f"{store.root / 'catalog.toml'}: {given}: no such series; known: {', '.join(store.catalog)}"
    )


@click.group("indices")
def indices() -> None:
    """The index store: list, show, import, fetch and check series.

    \b
    Examples:
      tariffs indices list
      tariffs indices show FOD --format json
      tariffs indices import valeurs_mensuelles.csv --source-id 001763559 --id FOD
      tariffs indices fetch 001763559 --id FOD
      tariffs indices check
    """


@indices.command("list")
@indices_option
@report_options
@guarded
def list_series(indices_dir: Path, fmt: str, output: Path | None) -> None:
    """List the series of the store with coverage, last update and status counts.

    \b
    Example:
      tariffs indices list --format csv -o series.csv
    """
    rows = summary(load_store(indices_dir))
    for row in rows:
        if not row["available"]:
            row["status"] = "declared, no data"
    emit(
        render(
            rows, LIST_COLUMNS, fmt, output, title=f"index series in {indices_dir}", sheet="series"
        )
    )


@indices.command("show")
@click.argument("series_id")
@click.option(
    "--as-of", "as_of", metavar="YYYY-MM-DD", help="Values as known on that date (vintages)."
)
@click.option(
    "--chained",
    is_flag=True,
    help="Include the periods taken from the older chained series (in this base).",
)
@indices_option
@report_options
@guarded
def show(
    series_id: str,
    as_of: str | None,
    chained: bool,
    indices_dir: Path,
    fmt: str,
    output: Path | None,
) -> None:
    """Show the values of one series (the latest vintage, or as known on --as-of).

    \b
    Examples:
      tariffs indices show IPC-HT --as-of 2021-01-16 --format json
      tariffs indices show BT01 --chained
    """
    store = load_store(indices_dir)
    sid = _series_id(store, series_id)
    info = store.catalog[sid]
    if not info.available and not chained:
        raise OptionError(info.missing_message())
    day = _date(as_of, "--as-of")
    frame = store.resolved(day) if chained else store.known(day)
    frame = frame.filter(pl.col("series") == sid).sort("period")
    rows = [
        {"period": p, "value": v, "status": s, "published": d.isoformat() if d else None}
        for p, v, s, d in frame.select(SHOW_COLUMNS).iter_rows()
    ]
    title = f"{sid}: {info.title}"
    if chained and info.chain:
        coefficient = store.link_coefficient(sid)
        how = store.link_coefficients.get(sid, (None, ""))[1]
        title += f" (chained to {info.chain.series} until {info.chain.until}, coefficient {coefficient}, {how})"
    emit(render(rows, SHOW_COLUMNS, fmt, output, title=title, sheet=sid))


@indices.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--source-id",
    "source_ids",
    multiple=True,
    metavar="IDBANK",
    help="Series to take from a multi-series file (default: all).",
)
@click.option(
    "--id", "series_id", metavar="ID", help="Catalog id of the series, when one series is imported."
)
@click.option(
    "--published", metavar="YYYY-MM-DD", help="Publication date of values the file does not date."
)
@indices_option
@report_options
@guarded
def import_(files, source_ids, series_id, published, indices_dir, fmt, output) -> None:
    """Import publisher files into the store, adding new vintages (never overwriting).

    Reads INSEE BDM CSV (rows or transposed, monthly or quarterly), INSEE xlsx
    exports, INSEE SDMX-ML 2.1, and simple 'period;value' files (CNR, FRED).
    Nothing is written when any file has an error.

    \b
    Examples:
      tariffs indices import valeurs_mensuelles.csv --source-id 001763559 --id FOD
      tariffs indices import cnr.csv --id CNR-GAZOLE --published 2024-10-07
    """
    report = import_files(
        indices_dir, list(files), source_ids, series_id, _date(published, "--published")
    )
    _print_report(report, indices_dir, fmt, output)


@indices.command("fetch")
@click.argument("idbanks", nargs=-1, required=True, metavar="IDBANK...")
@click.option(
    "--id", "series_id", metavar="ID", help="Catalog id of the series, when one idBank is fetched."
)
@indices_option
@report_options
@guarded
def fetch(idbanks, series_id, indices_dir, fmt, output) -> None:
    """Fetch series from INSEE's BDM web service (SDMX) and import them, adding new vintages.

    Asks https://bdm.insee.fr/series/sdmx/data/SERIES_BDM/IDBANK[+IDBANK...] and
    imports the answer exactly as `tariffs indices import` would import the same
    SDMX file (values dated by the series' last update). Nothing is written on
    any error; when INSEE cannot be reached, download the file by hand and use
    `tariffs indices import`.

    \b
    Examples:
      tariffs indices fetch 001763559 --id FOD
      tariffs indices fetch 001654489 001763559 --indices my-indices
    """
    from tariffs.series.fetch import fetch_series

    _print_report(fetch_series(indices_dir, idbanks, series_id), indices_dir, fmt, output)


def _print_report(report, indices_dir: Path, fmt: str, output: Path | None) -> None:
    """Warnings on stderr, then one row per imported series."""
    for problem in report.warnings:
        warn(str(problem).replace(": warning: ", ": "))
    rows = [vars(r) for r in report.rows]
    columns = ["series", "source_id", "file", "periods", "first", "last", "added", "new_series"]
    emit(render(rows, columns, fmt, output, title=f"imported into {indices_dir}", sheet="import"))


@indices.command("check")
@click.option(
    "--threshold",
    default=0.25,
    show_default=True,
    help="Flag a move between consecutive periods above this share.",
)
@indices_option
@report_options
@guarded
def check(threshold: float, indices_dir: Path, fmt: str, output: Path | None) -> None:
    """Check the store: gaps, duplicates, non-positive values, jumps, unlinked bases, old provisional values.

    Exit 1 when an error is found (warnings alone exit 0).

    \b
    Example:
      tariffs indices check --threshold 0.3 --format json
    """
    findings = check_store(load_store(indices_dir), threshold)
    rows = [f.row() for f in findings]
    emit(
        render(
            rows,
            ["series", "check", "severity", "period", "message"],
            fmt,
            output,
            title="index store check",
            sheet="check",
        )
    )
    if any(f.severity == "error" for f in findings):
        raise SystemExit(1)


COMMANDS = [indices]
