"""How fast can polars check W3's 10 M lines at all? A floor under the audit, not an audit.

``python -m benchmarks.floor_w3 [--invoices F] [--portfolio P] [--repeat N]`` prints one JSON
line: the bare scan (as ``scan_s`` of the benchmark), the per-line part of an audit reduced to
its arithmetic, run whole-file in polars' in-memory and streaming engines, and the duplicates'
hash pass as the audit runs it (stripped keys hashed, sorted, hashes seen twice kept).

The per-line part: read every column, find each line's contract, term and billed month by
three ``Enum`` casts, gather a price from a table given in advance (zeros: the time of the
look-up, not of pricing; no line is flagged by it), compare the unit price, the amount and
the amount incl. VAT in floats, keep the flagged lines. Left out, which the audit does: the
revision engine (pricing the dates), typing and checking every value, the VAT table, exact
euro figures, messages. Whatever the audit costs beyond scan + these two is that work.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import polars as pl

from benchmarks.generate import DATA

MONTHS = pl.Enum([f"{y:04d}-{m:02d}" for y in range(1990, 2040) for m in range(1, 13)])


def lines_checked(invoices: Path, portfolio: Path, engine: str) -> int:
    contracts = pl.read_parquet(portfolio, columns=["contract"])["contract"]
    ids = pl.Enum(contracts.unique(maintain_order=True))
    terms = pl.Enum(["P1", "P2", "P3"])
    months = len(MONTHS.categories)
    prices = pl.repeat(0.0, len(ids.categories) * 3 * months, eager=True)
    key = (
        pl.col("contract").cast(ids, strict=False).to_physical().cast(pl.Int64) * 3
        + pl.col("term").cast(terms, strict=False).to_physical().cast(pl.Int64)
    ) * months + pl.col("period").cast(MONTHS, strict=False).to_physical().cast(pl.Int64)
    flagged = (
        ((pl.col("unit_price") - pl.col("due")).abs() > 1e9)  # computed, flags nothing
        | ((pl.col("amount_excl_vat") - pl.col("quantity") * pl.col("unit_price")).abs() > 0.005)
        | ((pl.col("amount_incl_vat") - pl.col("amount_excl_vat") * (1 + pl.col("vat_rate"))).abs()
           > 0.005)
    )  # fmt: skip
    query = (
        pl.scan_parquet(invoices)
        .with_row_index("row", offset=2)
        .with_columns(pl.lit(prices).gather(key).alias("due"))
        .filter(flagged)
        .select("row", "invoice", "line", "unit_price", "due")
    )
    return query.collect(engine=engine).height


def duplicates_pass(invoices: Path) -> int:
    keys = [pl.col(c).str.strip_chars() for c in ("invoice", "line")]
    hashes = pl.scan_parquet(invoices).select(pl.struct(keys).hash().alias("h")).collect()["h"]
    ordered = hashes.sort()
    return ordered.filter(ordered == ordered.shift(1)).unique().len()


def scan(invoices: Path) -> int:
    return pl.scan_parquet(invoices).select(pl.all().null_count()).collect(engine="streaming").width


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.floor_w3", description=__doc__)
    p.add_argument("--invoices", type=Path, default=DATA / "invoices_10000000_c10000_s1_g2.parquet")
    p.add_argument("--portfolio", type=Path, default=DATA / "portfolio_10000_s1_g2.parquet")
    p.add_argument("--repeat", type=int, default=3, help="fastest of N runs (default 3)")
    a = p.parse_args(argv)
    for path in (a.invoices, a.portfolio):
        if not path.is_file():
            p.error(f"{path} not found: make it with python -m benchmarks.generate --contracts "
                    "10000 --lines 10000000 (or run make bench), or name another file")  # fmt: skip
    runs = {
        "scan_s": lambda: scan(a.invoices),
        "lines_in_memory_s": lambda: lines_checked(a.invoices, a.portfolio, "in-memory"),
        "lines_streaming_s": lambda: lines_checked(a.invoices, a.portfolio, "streaming"),
        "duplicates_pass_s": lambda: duplicates_pass(a.invoices),
    }
    best = {name: float("inf") for name in runs}
    for _ in range(a.repeat):  # side by side, alternating
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - t0)
    out = {k: round(v, 3) for k, v in best.items()}
    for engine in ("in_memory", "streaming"):
        floor = best[f"lines_{engine}_s"] + best["duplicates_pass_s"]
        out[f"floor_{engine}_vs_scan"] = round(floor / best["scan_s"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
