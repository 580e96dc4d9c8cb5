"""``tariffs check``, ``tariffs revise`` and ``tariffs history``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tariffs.cli.common import emit, guarded, indices_option, progress, report_options, warn
from tariffs.errors import OptionError
from tariffs.periods import parse_month
from tariffs.portfolio import count, history, revise
from tariffs.report import render
from tariffs.revision import Result

COLUMNS = ["contract", "term", "component", "at", "base_price", "coefficient", "price", "unit",
           "energy_basis", "indices", "flags", "status"]  # fmt: skip
TABLE_COLUMNS = [c for c in COLUMNS if c != "energy_basis"]


def load_inputs(paths: tuple[Path, ...], indices_dir: Path):
    """The index store and the contracts, validated against its catalog."""
    from tariffs.contract import load_contracts
    from tariffs.portfolio import is_portfolio, load_portfolio
    from tariffs.series import load_store

    store = load_store(indices_dir)
    if any(is_portfolio(p) for p in paths):  # a portfolio table (CSV/Parquet), maybe with TOML
        portfolio = load_portfolio(list(paths), store.catalog)
        for w in portfolio.warnings:
            click.echo(str(w), err=True)
        return portfolio, store
    contracts = load_contracts(list(paths) or [Path("contracts")], store.catalog)
    for c in contracts:
        for w in c.warnings:
            click.echo(w, err=True)  # already formatted as path:line: key: warning: ...
    return contracts, store


def month_option(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_month(value)
    except ValueError as exc:
        raise OptionError(f"{name}: {exc}") from exc


def _table_rows(rows: list[dict], join_unit: bool = False) -> list[dict]:
    """Rows for a table or sheet: indices as ``SERIES PERIOD: value/base``, mix totals named."""
    mixes = {(r["contract"], r["term"], r["at"]) for r in rows if r["component"] is not None}
    out = []
    for r in rows:
        shown = dict(r)
        if r["component"] is None and (r["contract"], r["term"], r["at"]) in mixes:
            shown["component"] = "(total)"
        if join_unit and r["energy_basis"]:
            shown["unit"] = f"{r['unit']} {r['energy_basis']}"
        shown["indices"] = [
            f"{i['series']} {i['period']}: {_num(i['value'])}/{_num(i['base_value'])}"
            for i in r["indices"]
        ]
        out.append(shown)
    return out


def _num(value) -> str:
    return "MISSING" if value is None else f"{value:g}"


def show_result(result: Result, fmt: str, output: Path | None, title: str, strict: bool,
                rows: list[dict] | None = None) -> None:  # fmt: skip
    rows = result.rows() if rows is None else rows
    if fmt == "table":
        emit(render(_table_rows(rows, join_unit=True), TABLE_COLUMNS, fmt, output, title=title))
    else:
        shown = _table_rows(rows) if fmt in ("csv", "xlsx") else rows
        emit(render(shown, COLUMNS, fmt, output, json_data=rows, title=title, sheet="prices"))
    for problem in result.problems:
        warn(problem)
    if strict and result.problems:
        sys.exit(1)


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@indices_option
@guarded
def check(paths: tuple[Path, ...], indices_dir: Path) -> None:
    """Validate contract files and folders against the index catalog (and the catalog itself).

    \b
    Examples:
      tariffs check                      # contracts/ against indices/
      tariffs check contracts/belfort-leon-blum.toml --indices indices
    """
    contracts, store = load_inputs(paths, indices_dir)
    n, terms = count(contracts)
    click.echo(f"{n} contract(s), {terms} term(s): valid against {indices_dir}/catalog.toml "
               f"({len(store.catalog)} series)")  # fmt: skip


@click.command("revise")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@indices_option
@click.option(
    "--at",
    "at",
    metavar="YYYY-MM",
    help="Month whose prices in force are wanted (default: each contract's latest revision the indices cover).",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Use index values as known on this date (vintages).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when a term cannot be computed (missing series or value).",
)
@report_options
@guarded
def revise_cmd(paths, indices_dir, at, as_of, strict, fmt, output) -> None:
    """Revised price of every term of every contract, with the index values used.

    \b
    Examples:
      tariffs revise                             # contracts/ on indices/
      tariffs revise contracts/conches.toml --at 2008-01
      tariffs revise --format json -o prices.json
      tariffs revise --format xlsx -o prices.xlsx
    """
    month = month_option(at, "--at")
    day = as_of.date() if as_of else None
    with progress(3, "reading contracts and indices") as step:
        contracts, store = load_inputs(paths, indices_dir)
        step("revising prices")
        result = revise(contracts, store, at=month, as_of=day)
        step("writing the report")
        rows = result.rows()
    show_result(result, fmt, output, "Revised prices", strict, rows)


@click.command("history")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@indices_option
@click.option(
    "--from", "start", required=True, metavar="YYYY-MM", help="First month of the window."
)
@click.option("--to", "end", required=True, metavar="YYYY-MM", help="Last month of the window.")
@click.option("--strict", is_flag=True, help="Exit 1 when a term cannot be computed at some date.")
@report_options
@guarded
def history_cmd(paths, indices_dir, start, end, strict, fmt, output) -> None:
    """Coefficient and price at every revision date in a window.

    \b
    Examples:
      tariffs history --from 2001-01 --to 2008-12
      tariffs history contracts/conches.toml --from 2000-01 --to 2012-12 --format csv -o h.csv
    """
    first, last = month_option(start, "--from"), month_option(end, "--to")
    if first > last:
        raise OptionError(f"--from {start} is after --to {end}")
    with progress(3, "reading contracts and indices") as step:
        contracts, store = load_inputs(paths, indices_dir)
        step("computing every revision date")
        result = history(contracts, store, first, last)
        step("writing the report")
        rows = result.rows()
    show_result(result, fmt, output, f"Revision history {start}..{end}", strict, rows)


COMMANDS = [check, revise_cmd, history_cmd]
