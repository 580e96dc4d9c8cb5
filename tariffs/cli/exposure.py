"""``tariffs exposure``: how much each formula moves with oil."""

from __future__ import annotations

from pathlib import Path

import click

from tariffs.cli.common import emit, guarded, indices_option, report_options, warn
from tariffs.cli.revise import load_inputs, month_option
from tariffs.errors import OptionError
from tariffs.periods import format_month
from tariffs.report import atomic_write_text, render, to_table, write_xlsx

COLUMNS = ["oil_rank", "contract", "term", "component", "window", "oil_weight", "direct_oil_weight",
           "volatility_annual", "volatility_annual_revision", "max_rise_12m", "max_fall_12m",
           "worst_year", "elasticity", "elasticity_reference", "elasticity_points", "elasticity_r2",
           "contributions"]  # fmt: skip
TABLE_COLUMNS = ["oil_rank", "contract", "term", "component", "oil_weight", "volatility_annual",
                 "max_rise_12m", "max_fall_12m", "worst_year", "elasticity", "elasticity_points",
                 "contributions"]  # fmt: skip
SHOCK_FIELDS = ("delta_coefficient", "delta_price", "delta_eur_per_dwelling_year")


def _flat(rows: list[dict]) -> tuple[list[dict], list[str]]:
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


def _table(rows: list[dict], title: str) -> str:
    flat, _ = _flat(rows)
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
    return to_table(shown, cols, title)


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
        text = _table(report.rows, title)
        if output is None:
            emit(text)
        else:
            atomic_write_text(output, text)
        return
    flat, shock_cols = _flat(report.rows)
    cols = COLUMNS + shock_cols
    if fmt == "xlsx":
        if output is None:
            raise OptionError("--format xlsx needs --output FILE.xlsx")
        paths = [dict(r, month=format_month(r["month"]))
                 for r in report.paths.iter_rows(named=True)]  # fmt: skip
        write_xlsx(output, {"exposure": (cols, flat),
                            "monthly_k": (["contract", "term", "comp", "month", "k"], paths)})  # fmt: skip
        return
    emit(render(flat, cols, fmt, output, json_data=report.rows, title=title, sheet="exposure"))


COMMANDS = [exposure_cmd]
