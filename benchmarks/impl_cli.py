"""The three workloads as a user runs them: the ``tariffs`` command, writing a CSV report.

The library calls of :mod:`benchmarks.impl_tariffs` stop with the result in
memory; a user also waits for the report to be written. Each function runs the
command in this process (click's ``main``, as the console script does; the
interpreter's start-up and the import of ``tariffs.cli`` are outside the clock,
the modules a command imports when it runs are inside) and reads the CSV back,
outside the clock, into the frame the other implementations give, so that the
report is checked equal to them too. The peak memory the worker reports
includes that reading back (small next to the command's own).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from benchmarks.generate import W1_AT, W2_FROM, W2_TO
from tariffs.periods import format_month

PRICES = ["contract", "term", "at", "coefficient", "price"]
#: the commands, with the workloads' options (``{portfolio}``, ``{invoices}``, ``{indices}``,
#: ``{out}`` filled in)
COMMANDS = {
    "w1": ["revise", "{portfolio}", "--indices", "{indices}", "--at", format_month(W1_AT)],
    "w2": [
        "history",
        "{portfolio}",
        "--indices",
        "{indices}",
        "--from",
        format_month(W2_FROM),
        "--to",
        format_month(W2_TO),
    ],  # fmt: skip
    "w3": ["audit", "{invoices}", "--contracts", "{portfolio}", "--indices", "{indices}"],
}


def command(workload: str, **paths) -> list[str]:
    """The command line of ``workload`` (without the program name), CSV to ``paths['out']``."""
    args = [a.format(**{k: str(v) for k, v in paths.items()}) for a in COMMANDS[workload]]
    return [*args, "--format", "csv", "-o", str(paths["out"])]


def _run(workload: str, **paths) -> tuple[Path, float]:
    """Run the command; the report's path and the seconds it took (exit 0 or 1: findings)."""
    from tariffs.cli import main

    out = Path(tempfile.mkdtemp()) / f"{workload}.csv"
    args = command(workload, out=out, **paths)
    t0 = time.perf_counter()
    try:
        main.main(args=args, prog_name="tariffs", standalone_mode=False)
    except SystemExit as exc:
        if exc.code not in (0, 1, None):
            raise
    seconds = time.perf_counter() - t0
    if not out.is_file():
        raise SystemExit(f"tariffs {' '.join(args)} wrote no report")
    return out, seconds


def _read(out: Path, read) -> pl.DataFrame:
    """The report read back by ``read``, then removed with its folder."""
    try:
        return read(out)
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def _prices(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    year, month = pl.col("at").str.slice(0, 4), pl.col("at").str.slice(5, 2)
    return frame.filter(pl.col("component").is_null()).select(
        "contract", "term",
        (year.cast(pl.Int64) * 12 + month.cast(pl.Int64) - 1).alias("at"),
        pl.col("coefficient").cast(pl.Float64), pl.col("price").cast(pl.Float64),
    )  # fmt: skip


def w1(portfolio: Path, indices: Path, **_):
    out, seconds = _run("w1", portfolio=portfolio, indices=indices)
    return _read(out, _prices), seconds, None


def w2(portfolio: Path, indices: Path, **_):
    out, seconds = _run("w2", portfolio=portfolio, indices=indices)
    return _read(out, _prices), seconds, None


def w3(portfolio: Path, indices: Path, invoices: Path, **_):
    out, seconds = _run("w3", portfolio=portfolio, indices=indices, invoices=invoices)
    findings = _read(out, lambda path: pl.read_csv(path, infer_schema=False))
    return findings.select(
        pl.col("line").cast(pl.Int64).alias("row"), "code",
        pl.col("difference_eur").cast(pl.Float64),
    ), seconds, None  # fmt: skip
