"""The index store on disk: ``catalog.toml`` + one CSV per series, with vintages.

A series CSV has columns ``period,value[,status][,published]``. Several rows for
one period with different ``published`` dates are the *vintages* of that value;
a row without ``published`` counts as known from the start. The store keeps
every vintage; :meth:`IndexStore.known` answers "the values as known on date D"
and :meth:`IndexStore.resolved` adds the chained (rebased / replaced) history
in the series' own base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl

from tariffs.errors import CatalogError, Problem
from tariffs.series.catalog import SeriesInfo, load_catalog

FIRST_SEEN_MONTHS = (
    12  # a first vintage dated later than this after its period: a "first seen" date
)
STATUSES = ("definitive", "provisional", "revised", "estimated")
MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
QUARTER_RE = r"^\d{4}-Q[1-4]$"

VALUES_SCHEMA = {
    "series": pl.String,
    "period": pl.String,
    "value": pl.Float64,
    "status": pl.String,
    "published": pl.Date,
}


class SeriesFrame(pa.DataFrameModel):
    """Validated values of one series file (all vintages)."""

    period: str = pa.Field(str_matches=rf"{MONTH_RE}|{QUARTER_RE}")
    value: float = pa.Field(gt=0)
    status: str = pa.Field(isin=list(STATUSES))
    published: date = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = True


def empty_values() -> pl.DataFrame:
    return pl.DataFrame(schema=VALUES_SCHEMA)


def read_series_csv(path: Path, info: SeriesInfo) -> pl.DataFrame:
    """Read and validate one series file of the store; errors name file and line."""
    frame = _read_values(path, info)
    return SeriesFrame.validate(frame).select(pl.lit(info.id).alias("series"), pl.all())


def _read_values(path: Path, info: SeriesInfo) -> pl.DataFrame:
    """One series file, checked row by row (:func:`_check_rows`), typed, not yet validated."""
    where = str(path)
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except FileNotFoundError as exc:
        raise CatalogError(problems=[Problem(where, info.id, "series file not found")]) from exc
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise CatalogError(problems=[Problem(where, "", f"not a readable CSV: {exc}")]) from exc
    problems = _check_columns(where, raw)
    if problems:
        raise CatalogError(problems=problems)
    if "status" not in raw.columns:
        raw = raw.with_columns(pl.lit("definitive").alias("status"))
    if "published" not in raw.columns:
        raw = raw.with_columns(pl.lit(None, pl.String).alias("published"))
    raw = raw.with_columns(pl.col("published").replace("", None))
    problems = _check_rows(where, raw, info)
    if problems:
        raise CatalogError(problems=problems)
    return raw.select(
        pl.col("period"),
        pl.col("value").cast(pl.Float64),
        pl.col("status"),
        pl.col("published").str.to_date("%Y-%m-%d"),
    )


def _check_columns(where: str, raw: pl.DataFrame) -> list[Problem]:
    allowed = {"period", "value", "status", "published"}
    problems = [
        Problem(where, c, "unknown column; expected period,value[,status][,published]")
        for c in raw.columns
        if c not in allowed
    ]
    for c in ("period", "value"):
        if c not in raw.columns:
            problems.append(
                Problem(where, c, "missing column; expected period,value[,status][,published]")
            )
    return problems


def _check_rows(where: str, raw: pl.DataFrame, info: SeriesInfo) -> list[Problem]:
    """Row-level checks with line numbers (header is line 1).

    All rules are evaluated in one pass; rows are listed only for a rule that fails.
    """
    pattern = MONTH_RE if info.frequency == "monthly" else QUARTER_RE
    value = pl.col("value").cast(pl.Float64, strict=False)
    published = pl.col("published").str.to_date("%Y-%m-%d", strict=False)
    rules = {
        "period": ~pl.col("period").str.contains(pattern).fill_null(False),
        "value": value.is_null() | (value <= 0),
        "status": ~pl.col("status").is_in(STATUSES).fill_null(False),
        "published": pl.col("published").is_not_null() & published.is_null(),
        "twice": pl.struct("period", "published").is_duplicated(),
    }
    checked = raw.with_row_index("line", offset=2).with_columns(
        rule.alias(f"_{name}") for name, rule in rules.items()
    )
    failing = checked.select(pl.col(f"_{name}").any() for name in rules).row(0)
    problems: list[Problem] = []
    for name, fails in zip(rules, failing, strict=True):
        if fails:
            rows = checked.filter(pl.col(f"_{name}")).head(20).iter_rows(named=True)
            problems += [_row_problem(where, name, row, info) for row in rows]
    return problems


def _row_problem(where: str, rule: str, row: dict, info: SeriesInfo) -> Problem:
    line = row["line"]
    if rule == "period":
        return Problem(
            where, "period", f"expected a {info.frequency} period, got {row['period']!r}", line
        )
    if rule == "value":
        return Problem(where, "value", f"expected a positive number, got {row['value']!r}", line)
    if rule == "status":
        allowed = ", ".join(STATUSES)
        return Problem(where, "status", f"expected one of {allowed}, got {row['status']!r}", line)
    if rule == "published":
        return Problem(
            where, "published", f"expected an ISO date YYYY-MM-DD, got {row['published']!r}", line
        )
    message = f"period {row['period']} appears twice with the same publication date"
    return Problem(where, "period", message, line)


@dataclass
class IndexStore:
    """The catalog and every vintage of every available series."""

    root: Path
    catalog: dict[str, SeriesInfo]
    values: pl.DataFrame = field(default_factory=empty_values)
    link_coefficients: dict[str, tuple[float, str]] = field(default_factory=dict)
    # audit view: the first vintage of every value counts as known on any date (only later
    # vintages, i.e. revisions, are cut by an "as of" date); publication dates still order periods
    first_vintages_known: bool = False

    def info(self, series_id: str) -> SeriesInfo:
        return self.catalog[series_id]

    def has_data(self, series_id: str) -> bool:
        info = self.catalog.get(series_id)
        return info is not None and info.available

    def dated(self) -> pl.DataFrame:
        """``values`` with the publication date computations use (the stored one, or an assumed one).

        Notes
        -----
        A download without publication dates records the date the values were first
        seen (the file's last update) for every period, decades of history included.
        When the *first* vintage of a period carries a date more than
        ``FIRST_SEEN_MONTHS`` months after the period ended, that date is taken as
        "first seen", not as the publication: the value is assumed published at the
        end of the month after its period (a one-month publication delay), and the
        column ``assumed`` is true. Later vintages (revisions) keep their dates, and
        genuine publication dates (e.g. INSEE's "Date de parution au JO") are kept.
        The files on disk are never changed.
        """
        frame = self.values
        year = pl.col("period").str.slice(0, 4).cast(pl.Int32)
        quarterly = pl.col("period").str.contains("Q")
        sub = pl.col("period").str.slice(-1, 1).cast(pl.Int32, strict=False)
        month = pl.col("period").str.slice(5, 2).cast(pl.Int32, strict=False)
        last = pl.when(quarterly).then(year * 12 + sub * 3 - 1).otherwise(year * 12 + month - 1)

        def first_of(offset: int) -> pl.Expr:  # first day of month (last + offset)
            m = last + offset
            return pl.date(m // 12, m % 12 + 1, 1)

        first = pl.col("published") == pl.col("published").min().over("series", "period")
        late = first & (pl.col("published") > first_of(FIRST_SEEN_MONTHS + 1))
        return frame.with_columns(
            pl.when(late).then(first_of(2)).otherwise(pl.col("published")).alias("published"),
            late.fill_null(False).alias("assumed"),
        )

    def known(self, as_of: date | None = None) -> pl.DataFrame:
        """One row per series × period: the latest vintage known on ``as_of``.

        Columns: series, period, value, status, published, first_published,
        first_value, vintages, assumed. A row without a publication date counts as
        known on any date; publication dates are those of :meth:`dated`.
        ``as_of=None`` gives the current (latest) values.
        """
        frame = self.dated()
        first_published = frame.group_by("series", "period").agg(
            pl.col("published").min().alias("_fp")
        )
        if as_of is not None:
            keep = pl.col("published").is_null() | (pl.col("published") <= as_of)
            if self.first_vintages_known:
                keep = keep | (
                    pl.col("published") == pl.col("published").min().over("series", "period")
                )
            frame = frame.filter(keep)
        return (
            frame.sort("series", "period", "published", nulls_last=False)
            .group_by("series", "period", maintain_order=True)
            .agg(
                pl.col("value").last(),
                pl.col("status").last(),
                pl.col("published").last(),
                pl.col("published").first().alias("first_published"),
                pl.col("value").first().alias("first_value"),
                pl.len().alias("vintages"),
                pl.col("assumed").first(),
            )
            .join(first_published, on=["series", "period"], how="left")
            .with_columns(pl.col("_fp").alias("first_published"))
            .drop("_fp")
        )

    def resolved(self, as_of: date | None = None) -> pl.DataFrame:
        """``known(as_of)`` with chained series extended back in their own base.

        Adds columns ``frequency``, ``key`` (month index for a monthly series,
        quarter index for a quarterly one), ``chained`` and ``link_coefficient``.
        Periods up to ``chain.until`` come from the older series divided by the
        linking coefficient; later periods from the series itself.
        """
        frame = self.chain_extended(self.known(as_of), scaled=("value", "first_value"))
        freq = pl.DataFrame(
            {
                "series": list(self.catalog),
                "frequency": [i.frequency for i in self.catalog.values()],
            }
        )
        frame = frame.join(freq, on="series", how="left")
        year = pl.col("period").str.slice(0, 4).cast(pl.Int64)
        sub = pl.col("period").str.slice(-1, 1).cast(pl.Int64)
        month = pl.col("period").str.slice(5, 2).cast(pl.Int64, strict=False)
        key = (
            pl.when(pl.col("frequency") == "quarterly")
            .then(year * 4 + sub - 1)
            .otherwise(year * 12 + month - 1)
        )
        return frame.with_columns(key.alias("key"))

    def chain_extended(
        self, frame: pl.DataFrame, scaled: tuple[str, ...] = ("value",)
    ) -> pl.DataFrame:
        """``frame`` (series, period, values...) with each chained series extended back in its own base.

        Periods up to ``chain.until`` come from the older series, the ``scaled``
        columns divided by the linking coefficient; later periods from the series
        itself. Adds ``chained`` and ``link_coefficient``.
        """
        frame = frame.with_columns(
            pl.lit(False).alias("chained"), pl.lit(None, pl.Float64).alias("link_coefficient")
        )
        parts = [frame]
        for info in self.catalog.values():
            if info.chain is None or info.chain.series not in self.catalog:
                continue
            coefficient = self.link_coefficient(info.id)
            if coefficient is None:
                continue
            until = info.chain.until
            parts.append(
                frame.filter((pl.col("series") == info.chain.series) & (pl.col("period") <= until))
                .with_columns(
                    pl.lit(info.id).alias("series"),
                    *(pl.col(c) / coefficient for c in scaled),
                    pl.lit(True).alias("chained"),
                    pl.lit(coefficient).alias("link_coefficient"),
                )
            )  # fmt: skip
            parts[0] = parts[0].filter(
                ~((pl.col("series") == info.id) & (pl.col("period") <= until))
            )
        return pl.concat(parts)

    def link_coefficient(self, series_id: str) -> float | None:
        """The linking coefficient of a chained series (declared, or derived from the overlap)."""
        if series_id in self.link_coefficients:
            return self.link_coefficients[series_id][0]
        chain = self.catalog[series_id].chain
        if chain is None:
            return None
        if chain.coefficient is not None:
            value = float(chain.coefficient)
            self.link_coefficients[series_id] = (value, "declared in the catalog")
            return value
        return self._overlap_coefficient(series_id)

    def _overlap_coefficient(self, series_id: str) -> float | None:
        chain = self.catalog[series_id].chain
        start, _, end = (chain.overlap or "").partition("..")
        known = self.known()

        def mean(sid: str) -> pl.DataFrame:
            return known.filter(
                (pl.col("series") == sid) & (pl.col("period") >= start) & (pl.col("period") <= end)
            ).select("period", "value")

        both = mean(chain.series).join(mean(series_id), on="period", suffix="_new")
        if both.height == 0:
            return None
        value = float(both["value"].mean() / both["value_new"].mean())
        self.link_coefficients[series_id] = (
            value,
            f"ratio of the means of {chain.series} and {series_id} over {start}..{end} ({both.height} common periods)",
        )
        return value


def load_store(root: Path, catalog_name: str = "catalog.toml") -> IndexStore:
    """Load ``root/catalog.toml`` and every available series; problems reported together.

    Notes
    -----
    Each file is checked row by row (:func:`_check_rows`, messages with file and
    line). Rows that pass those checks also pass :class:`SeriesFrame` unless a
    value is NaN (the one case the schema refuses and the row checks do not), so
    the schema validation, whose first call costs more than reading the whole
    store, runs only on a file with a NaN value, giving the same message.
    """
    root = Path(root)
    catalog = load_catalog(root / catalog_name)
    frames: list[pl.DataFrame] = []
    problems: list[Problem] = []
    for info in catalog.values():
        if info.file is None:
            continue
        try:
            frame = _read_values(root / info.file, info)
            if frame["value"].is_nan().any():
                frame = SeriesFrame.validate(frame)
            frames.append(frame.select(pl.lit(info.id).alias("series"), pl.all()))
        except CatalogError as exc:
            problems.extend(exc.problems)
        except pa.errors.SchemaError as exc:
            problems.append(Problem(str(root / info.file), "", str(exc)))
    if problems:
        raise CatalogError(problems=problems)
    values = pl.concat(frames) if frames else empty_values()
    return IndexStore(root=root, catalog=catalog, values=values)
