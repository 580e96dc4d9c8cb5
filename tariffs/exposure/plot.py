"""The exposure picture: K month by month for each contract term, with the oil reference.

Notes
-----
One line per term (mix terms as a whole, and the portfolio) whose monthly K
could be computed (beyond ``MAX_LINES`` terms, a portfolio: the portfolio's
line only, said in the note), and the oil reference series rebased to 1 at the first month of the window
(``O_t / O_first``). Lines differ by dash pattern and marker, not only by
colour, so the figure reads in black and white. Written with matplotlib's Agg
backend, atomically (tariffs.report.atomic_write).
"""

from __future__ import annotations

from datetime import date
from itertools import cycle
from pathlib import Path

import polars as pl

from tariffs.exposure.analysis import ExposureReport
from tariffs.exposure.portfolio import PORTFOLIO
from tariffs.periods import format_month
from tariffs.report import atomic_write
from tariffs.series import IndexStore

STYLES = [
    ("-", "o"),
    ("--", "s"),
    ("-.", "^"),
    (":", "D"),
    ("-", "v"),
    ("--", "x"),
    ("-.", "P"),
    (":", "*"),
]
GREYS = ["#000000", "#444444", "#1f4e79", "#7f3f00", "#2f5f2f", "#5f2f5f"]
MAX_LINES = 40  # more terms than this (a portfolio): the portfolio's line only
_EMPTY = pl.DataFrame(schema={"contract": pl.String, "term": pl.String, "comp": pl.String,
                              "label": pl.String, "month": pl.Int64, "k": pl.Float64})  # fmt: skip


def _terms(report: ExposureReport) -> int:
    """How many terms (mix terms as a whole, the portfolio) have a monthly K."""
    return 0 if report.drawn is None else report.drawn.filter(pl.col("comp") == "").height


def _drawn(report: ExposureReport) -> pl.Expr:
    whole = pl.col("comp") == ""
    return whole & (pl.col("contract") == PORTFOLIO) if _terms(report) > MAX_LINES else whole


def _dates(months: pl.Series) -> list[date]:
    return [date(m // 12, m % 12 + 1, 15) for m in months.to_list()]


def plot_exposure(report: ExposureReport, store: IndexStore, path: Path) -> None:
    """Write the PNG of ``report`` to ``path`` (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 6.5), dpi=120)
    first, last = report.window
    terms = pl.concat([_EMPTY, *report.path_slices(_drawn(report))])
    n = max(1, (last - first + 1) // 12)
    labels = terms.select("label").unique(maintain_order=True)["label"].to_list()
    for label, (dash, marker), colour in zip(labels, cycle(STYLES), cycle(GREYS)):
        line = terms.filter(pl.col("label") == label).sort("month")
        ax.plot(_dates(line["month"]), line["k"].to_list(), linestyle=dash, marker=marker,
                markevery=n, markersize=5, linewidth=1.6, color=colour, label=f"K {label}")  # fmt: skip
    ref = report.reference.sort("month")
    rebased = (ref["value"] / ref["value"][0]).to_list()
    info = store.catalog[report.reference_id]
    ax.plot(_dates(ref["month"]), rebased, color="#888888", linewidth=2.6, linestyle=(0, (1, 1)),
            label=f"{report.reference_id} rebased (1 = {format_month(first)})")  # fmt: skip
    ax.axhline(1.0, color="#bbbbbb", linewidth=0.8, zorder=0)
    ax.set_title(
        f"Revision coefficient K and oil reference {report.reference_id}, "
        f"{format_month(first)} to {format_month(last)}"
    )
    ax.set_xlabel("Index month")
    ax.set_ylabel(
        f"K (dimensionless, 1 = base period); {report.reference_id} rebased (1 = {format_month(first)})"
    )
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.legend(loc="upper left", fontsize=8, frameon=True)
    fig.text(0.01, 0.01, _source_note(report, store, info), fontsize=7, va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.07, 1, 1))

    def write(tmp: Path) -> None:
        fig.savefig(tmp, format="png")

    try:
        atomic_write(path, write)
    finally:
        plt.close(fig)


def _source_note(report: ExposureReport, store: IndexStore, info) -> str:
    used = sorted({s for r in report.rows for s in r["weights"]})
    publishers = sorted({store.catalog[s].publisher for s in used if s in store.catalog})
    ref = f"{info.title} ({info.publisher}" + (f", id {info.source_id})" if info.source_id else ")")
    missing = sorted({f"{r['contract']} {r['term']}" for r in report.rows
                      if r["component"] is None and r["volatility_annual"] is None})  # fmt: skip
    note = (
        f"Sources: index series {', '.join(used)} ({', '.join(publishers)}); oil reference: {ref}. "
        "K = fixed + Σ weight × I(month) / I0 on each month's published values (no lag, no rounding); "
        "computed by tariffs exposure."
    )
    if _terms(report) > MAX_LINES:
        note += (f" {_terms(report):,} terms: only the portfolio's K is drawn (more than "
                 f"{MAX_LINES} lines).")  # fmt: skip
    elif missing:
        note += f" Not drawn (index values missing): {', '.join(missing)}."
    return note
