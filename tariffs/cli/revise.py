"""``tariffs check``, ``tariffs revise`` and ``tariffs history``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import polars as pl

from tariffs.cli.common import guarded, indices_option, progress, report_options, warn
from tariffs.errors import OptionError
from tariffs.output import batch_chunks, report
from tariffs.periods import parse_month
from tariffs.portfolio import count, history, revise
from tariffs.report import write_chunks
from tariffs.revision import Result, batch_problems, history_batches


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


def write_result(result: Result, fmt: str, output: Path | None, title: str):
    """Write the report (:mod:`tariffs.output`) to ``output``; without one, the text to print."""
    chunks = report(result, fmt, output, title)  # an xlsx report is written here
    if chunks is None or output is None:
        return chunks
    write_chunks(output, chunks)
    return None


def show_result(problems: list[str], chunks, strict: bool) -> None:
    """Print the report's text (if not written to a file), then the problems on standard error."""
    for chunk in chunks or ():
        click.echo(chunk, nl=False)
    for problem in problems:
        warn(problem)
    if strict and problems:
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
        chunks = write_result(result, fmt, output, "Revised prices")
    show_result(result.problems, chunks, strict)


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
        if fmt in ("csv", "json"):  # by batches of contracts: memory holds one batch
            step("computing and writing every revision date")
            chunks, problems = None, _history_streamed(contracts, store, first, last, fmt, output)
            step("done")
        else:
            step("computing every revision date")
            result = history(contracts, store, first, last)
            step("writing the report")
            chunks = write_result(result, fmt, output, f"Revision history {start}..{end}")
            problems = result.problems
    show_result(problems, chunks, strict)


def _history_streamed(contracts, store, first: int, last: int, fmt: str, output) -> list[str]:
    """The csv/json history written batch by batch (:func:`tariffs.revision.history_batches`),
    to ``output`` atomically or to standard output; the problems, as for one run."""
    missing: list[pl.DataFrame] = []

    def results():
        for result in history_batches(contracts, store, first, last):
            missing.append(result.missing)  # the messages are made once, at the end
            yield result

    chunks = batch_chunks(results(), fmt)
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
    else:
        write_chunks(output, chunks)
    return batch_problems(missing, store)


COMMANDS = [check, revise_cmd, history_cmd]
