"""``tariffs convert``: energy and price conversions between PCS, PCI, useful and fuel units."""

from __future__ import annotations

from pathlib import Path

import click

from tariffs import units
from tariffs.cli.common import emit, guarded, warn
from tariffs.report import FORMATS, atomic_write_text, render

COLUMNS = ("value", "unit", "from_value", "from_unit", "steps")


def _rounded(value: float) -> float:
    """12 significant digits: hides float noise (3.3659999999999997 -> 3.366)."""
    return float(f"{value:.12g}")


@click.command("convert")
@click.argument("value", type=float)
@click.argument("unit")
@click.option("--to", "to_unit", required=True, help="Target unit, e.g. MWh_useful or EUR/MWh_PCI.")
@click.option(
    "--fuel", type=click.Choice(units.FUELS), help="Fuel: needed for PCS<->PCI, t, L, m3."
)
@click.option("--moisture", help="Wood moisture content, wet basis: 0.35 or 35%. Needed for t.")
@click.option("--efficiency", help="Global efficiency useful/PCI, in (0, 1.5]: 0.85 or 85%.")
@click.option(
    "--pcs-kwh-per-m3", type=float,
    help=f"Gas PCS per m3 from the gas bill [default {units.GAS_PCS_KWH_PER_M3:g}, an average].",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(("text", *FORMATS)), default="text", show_default=True,
    help="text prints the value alone; table/csv add the steps; json gives {value, unit}.",
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the result to this file (atomically) instead of the terminal.",
)  # fmt: skip
@guarded
def convert(value, unit, to_unit, fuel, moisture, efficiency, pcs_kwh_per_m3, fmt, output):
    """Convert VALUE in UNIT to another unit, energy basis or price basis.

    Units: MWh_PCS, MWh_PCI, MWh_useful (also kWh_ and GJ_ forms), t (tonnes
    of wood), L (litres of fuel oil), m3 (gas), and prices EUR/<unit>. A change
    of basis needs its parameter (--fuel, --moisture, --efficiency); without
    it the command refuses (exit 1) instead of assuming.

    \b
    Examples:
      tariffs convert 1 t --to MWh_PCI --fuel wood --moisture 30%
      tariffs convert 26.3 EUR/MWh_PCI --to EUR/MWh_useful --efficiency 0.85
      tariffs convert 1000 m3 --to MWh_PCI --fuel gas --pcs-kwh-per-m3 11.2
      tariffs convert 95 EUR/t --to EUR/MWh_PCI --fuel wood --moisture 0.35 --format json
    """
    result = units.conversion(
        value, unit, to_unit, fuel=fuel, moisture=moisture,
        efficiency=efficiency, pcs_kwh_per_m3=pcs_kwh_per_m3,
    )  # fmt: skip
    for name in result.unused:
        warn(f"--{name.replace('_', '-')} is not used by a conversion from {unit} to {to_unit}")
    row = {
        "value": _rounded(result.value), "unit": result.unit,
        "from_value": result.from_value, "from_unit": result.from_unit, "steps": result.steps,
    }  # fmt: skip
    if fmt == "text":
        text = f"{row['value']!r}\n"
        emit(text) if output is None else atomic_write_text(output, text)
        return
    json_data = {"value": row["value"], "unit": row["unit"]}
    emit(render([row], COLUMNS, fmt, output, json_data=json_data, title="conversion"))


COMMANDS = [convert]
