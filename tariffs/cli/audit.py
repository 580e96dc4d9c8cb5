"""``tariffs audit``: recompute an operator's invoice lines and list the discrepancies."""

from __future__ import annotations

import difflib
import sys
from decimal import Decimal
from pathlib import Path

import click

from tariffs.cli.common import emit, guarded, indices_option, progress, report_options, warn
from tariffs.errors import OptionError
from tariffs.report import atomic_write


@click.command("audit")
@click.argument("invoices", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--contracts",
    "contracts_dir",
    type=click.Path(exists=True, path_type=Path),
    default=Path("contracts"),
    show_default=True,
    help="Contract file or folder.",
)
@indices_option
@click.option(
    "--tolerance",
    type=float,
    default=0.0,
    show_default=True,
    help="Exit 1 only when a finding exceeds this many euros (blocked lines always count).",
)
@click.option(
    "--settlement",
    "settlement_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Degree-day settlement of MCI/MTI contracts: CSV contract,season,actual_dju,metered_mwh"
    "[,price_eur_per_mwh][,billed_eur].",
)
@click.option(
    "--dju",
    type=str,
    help="Actual DJU of the season (with --metered, for the one contract with a settlement).",
)
@click.option("--metered", type=str, help="Metered consumption of the season [MWh].")
@click.option(
    "--season",
    type=str,
    help="Heating season YYYY-YYYY (prices the settlement if --price is not given).",
)
@click.option(
    "--price", "settlement_price", type=str, help="Price of the settlement term [EUR/MWh]."
)
@click.option(
    "--billed-settlement", type=str, help="Bonus (+) or penalty (-) the operator billed [EUR]."
)
@report_options
@guarded
def audit_command(invoices: Path, contracts_dir: Path, indices_dir: Path, tolerance: float,
                  settlement_file: Path | None, dju: str | None, metered: str | None, season: str | None,
                  settlement_price: str | None, billed_settlement: str | None, fmt: str,
                  output: Path | None) -> None:  # fmt: skip
    """Recompute every invoice line from the contracts and indices; list the discrepancies.

    INVOICES is a CSV (comma or semicolon, decimal point or comma), XLSX or
    Parquet file with the columns contract, term, period, quantity,
    unit_price, amount_excl_vat (optional: invoice, line, quantity_unit,
    energy_basis, coefficient, vat_rate, amount_incl_vat, invoice_date,
    index:SERIES, base_index:SERIES). Findings name the file line
    (header = line 1); difference_eur = billed minus due. Exit 1 when a
    finding exceeds --tolerance or a line is blocked, else 0.

    \b
    Examples:
      tariffs audit examples/invoices/conches-en-ouche-2008-2009.csv
      tariffs audit invoices.xlsx --contracts contracts --tolerance 1 --format xlsx -o audit.xlsx
      tariffs audit invoices.csv --dju 2250 --metered 1830 --season 2003-2004 --billed-settlement 412.5
    """
    from tariffs.audit.checks import audit
    from tariffs.audit.invoices import read_invoices
    from tariffs.audit.report import Spool, audit_json, exceeds
    from tariffs.cli.revise import load_inputs

    if fmt == "xlsx" and output is None:
        raise OptionError("--format xlsx needs --output FILE.xlsx")
    contracts, store = load_inputs((contracts_dir,), indices_dir)
    lines = read_invoices(invoices)
    for message in lines.warnings:
        warn(f"{invoices}: {message}")
    for message in _unchecked_index_columns(lines.index_columns, store.catalog):
        warn(f"{invoices}:1: {message}")
    with progress(1, f"auditing {invoices}") as step:

        def checked(done: int, total: int, slices: int) -> None:
            step(f"{done:,} of {total:,} invoice lines checked", slices)

        # the findings are written as they come (csv, json), or only the first kept (table, xlsx)
        # spooled beside the output file (same disk), not beside a device or a pipe
        beside = output is not None and (not output.exists() or output.is_file())
        spool = Spool(fmt, output.parent if beside else None)
        result = audit(lines, contracts, store, on_slice=checked, sink=spool.add)
    seasons = _seasons(
        settlement_file, dju, metered, season, settlement_price, billed_settlement, contracts
    )
    settlements = _settle(seasons, contracts, store)
    data = audit_json(result, settlements)
    for problem in result.problems:
        warn(problem)
    _render(result, data, fmt, output, spool)
    extra = [s["finding"] for s in settlements if s.get("finding")]
    sys.exit(1 if exceeds(result, tolerance, extra) else 0)


def _render(result, data: dict, fmt: str, output: Path | None, spool) -> None:
    """The report from the ``spool`` the findings were written to: csv, json and table to the
    terminal, or to ``output`` atomically (then the summary); xlsx from the findings it kept."""
    from tariffs.audit.report import summary_text, write_xlsx_report

    if fmt == "xlsx":
        write_xlsx_report(output, result, data, spool.kept(), spool.count)
        if spool.count > spool.shown:
            warn(f"{output}: the findings sheet holds the first {spool.shown:,} of {spool.count:,} "
                 "findings (an xlsx sheet's limit); all of them with --format csv or json")  # fmt: skip
        emit(summary_text(data))
        return
    if output is None:
        spool.write(sys.stdout, data)
        return

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            spool.write(out, data)

    atomic_write(output, write)
    emit(summary_text(data))


def _number(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    from tariffs.audit.settlement import MAX_NUMBER

    try:
        number = Decimal(value.replace(",", "."))
    except ArithmeticError as exc:
        raise OptionError(f"{name}: expected a number, got {value!r}") from exc
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise OptionError(f"{name}: expected a number below {MAX_NUMBER:,}, got {value!r}")
    return number


def _seasons(path, dju, metered, season, price, billed, contracts) -> list[dict]:
    from tariffs.audit.settlement import SEASON_RE, read_seasons

    seasons = read_seasons(path) if path else []
    if dju is None and metered is None:
        return seasons
    if dju is None or metered is None:
        raise OptionError("--dju and --metered go together")
    if season is not None and not SEASON_RE.match(season):
        raise OptionError(f"--season: expected YYYY-YYYY, got {season!r}")
    ruled = [c.id for c in contracts if c.settlement is not None]
    if len(ruled) != 1:
        raise OptionError(
            f"--dju/--metered need exactly one contract with a [settlement] table, found {len(ruled)} "
            f"({', '.join(ruled) or 'none'}); use --settlement FILE for several"
        )
    return seasons + [{
        "contract": ruled[0], "season": season, "actual_dju": _number(dju, "--dju"),
        "metered_mwh": _number(metered, "--metered"), "price_eur_per_mwh": _number(price, "--price"),
        "billed_eur": _number(billed, "--billed-settlement"), "line": None,
    }]  # fmt: skip


def _unchecked_index_columns(columns: list[str], catalog: dict) -> list[str]:
    """Index columns naming no series of the catalog: said, never silently skipped."""
    out = []
    for column in columns:
        kind, _, series = column.partition(":")
        if series in catalog:
            continue
        close = difflib.get_close_matches(series, list(catalog), n=1, cutoff=0.6)
        close += [s for s in catalog if s.lower() == series.lower() and s not in close]
        hint = f" (did you mean {kind}:{close[0]}?)" if close else ""
        out.append(
            f"{column}: no series {series!r} in the index catalog{hint}; this column is not checked"
        )
    return out


def _settle(seasons: list[dict], contracts, store) -> list[dict]:
    from tariffs.audit.settlement import check_billed, season_end_month, settle
    from tariffs.revision import revise

    if not seasons:
        return []
    by_id = {c.id: c for c in contracts}
    out = []
    for s in seasons:
        contract = by_id.get(s["contract"])
        if contract is None or contract.settlement is None:
            raise OptionError(
                f"settlement for {s['contract']!r}: no such contract with a [settlement] table"
            )
        rule, price = contract.settlement, s["price_eur_per_mwh"]
        if price is None:
            if not s["season"]:
                raise OptionError(f"settlement for {s['contract']}: give the price or the season")
            rows = revise([contract], store, at=season_end_month(s["season"])).rows()
            row = next(
                (r for r in rows if r["term"] == rule.price_term and r["component"] is None), None
            )
            if row is None or row["price"] is None:
                raise OptionError(
                    f"settlement for {s['contract']}: no price of {rule.price_term} for {s['season']}"
                )
            price = Decimal(repr(row["price"]))
        result = settle(rule, s["actual_dju"], s["metered_mwh"], price)
        entry = {"contract": s["contract"], "season": s["season"], **result.as_dict()}
        if s["billed_eur"] is not None:
            finding = check_billed(result, s["billed_eur"], Decimal(0))
            if finding:
                entry["finding"] = {"line": s["line"], "invoice": None, "contract": s["contract"],
                                    "term": rule.price_term, "period": s["season"], **finding}  # fmt: skip
        out.append(entry)
    return out


COMMANDS = [audit_command]
