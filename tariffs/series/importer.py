"""Merge imported series into the store as new *vintages*, atomically.

The store keeps, per period, every value with the date it was published (or
first seen). Importing a newer download adds a vintage row where the value or
the status changed; a value equal to the vintage in force adds nothing, so
re-importing the same file changes nothing.

Notes
-----
Publication date of an imported row: the file's ``Date de parution au JO`` for
that period when it has one; otherwise ``--published``; otherwise the file's
"Dernière mise à jour" date; otherwise today.

Merge rule (order-independent): take the stored and imported rows of a period,
sort them by publication date (undated rows first), and drop every row equal
(value and status) to the row before it. Two different values for one period
with the same publication date are an error: nothing is written.

Every file (series CSVs, then the catalog) is first written to a temporary
file in the store folder; files are moved into place only once all are ready.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import tomlkit

from tariffs.errors import ImportFormatError, Problem
from tariffs.series.catalog import SeriesInfo
from tariffs.series.readers import ImportedSeries, read_file
from tariffs.series.readers.common import capped
from tariffs.series.store import IndexStore, empty_values, load_store

CATALOG = "catalog.toml"


@dataclass
class ImportedRow:
    """What one import did to one series of the store (a row of the import report)."""

    series: str
    source_id: str | None
    file: str
    periods: int
    added: int
    first: str | None
    last: str | None
    new_series: bool


@dataclass
class ImportReport:
    rows: list[ImportedRow] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(r.added or r.new_series for r in self.rows)


def import_files(
    root: Path,
    paths: Sequence[Path],
    source_ids: Sequence[str] = (),
    series_id: str | None = None,
    published: date | None = None,
    today: date | None = None,
    undated: bool = False,
    select: Callable[[ImportedSeries], bool] | None = None,
) -> ImportReport:
    """Read ``paths`` and merge their series into the store at ``root`` (created if missing).

    ``undated`` leaves rows without a JO date undated (known on any date) instead
    of dating them; for transcriptions whose publication dates are unknown.
    ``select`` keeps only the series it accepts (e.g. one base of a transcription).
    """
    imported, warnings, errors = _read_all(paths, source_ids)
    if select is not None:
        imported = [s for s in imported if select(s)]
    if errors:
        raise ImportFormatError(problems=errors)  # each file's own list is capped already
    return import_series(
        root, imported, warnings, str(paths[0]), series_id, published, today, undated
    )


def import_series(
    root: Path,
    imported: Sequence[ImportedSeries],
    warnings: Sequence[Problem] = (),
    name: str = "",
    series_id: str | None = None,
    published: date | None = None,
    today: date | None = None,
    undated: bool = False,
) -> ImportReport:
    """Merge series already read (by :func:`import_files`, or fetched) into the store at ``root``.

    ``name`` (the first file or the URL) locates the ``--id`` problem.
    """
    root = Path(root)
    today = today or date.today()
    if series_id is not None and len(imported) != 1:
        raise ImportFormatError(
            problems=[Problem(name, "--id", f"--id names one series but the files hold {len(imported)}; choose one with --source-id")]
        )  # fmt: skip
    store = _open_store(root)
    document = _catalog_document(root)
    report = ImportReport(warnings=list(warnings))
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    current: dict[str, pl.DataFrame] = {}
    for series in imported:
        sid = series_id or _target_id(series, store.catalog)
        if series_id is None and series.source_id is None and sid not in store.catalog:
            report.warnings.append(Problem(series.path, sid, f"no --id given: stored as {sid} (from the {'file name' if series.title.strip().lower() in GENERIC_NAMES else 'series title'}); give --id ID to choose the catalog id", severity="warning"))  # fmt: skip
        problems += _compatibility(series, sid, store.catalog)
        info = store.catalog.get(sid)
        is_new = info is None or info.file is None
        file_name = info.file if info and info.file else f"{_file_stem(sid)}.csv"
        new = series.frame if undated else _dated(series, published, today)
        if not undated:
            report.warnings += _undated_warning(series, published, today)
        old = current.get(sid)
        if old is None:
            old = store.values.filter(pl.col("series") == sid).drop("series")
        merged, conflicts = merge_vintages(old, new, series.path)
        current[sid] = merged
        problems += conflicts
        added = merged.height - old.height
        if added or is_new:
            texts[file_name] = series_csv(merged)
        if is_new:
            _catalog_entry(document, sid, series, file_name, today)
            store.catalog[sid] = _placeholder(sid, series, file_name)
        report.rows.append(
            ImportedRow(sid, series.source_id, file_name, new["period"].n_unique(), added,
                        new["period"].min(), new["period"].max(), is_new)
        )  # fmt: skip
    if problems:
        raise ImportFormatError(problems=capped(problems))
    if texts:
        texts[CATALOG] = tomlkit.dumps(document)
        write_all(root, texts)
    return report


def _read_all(paths: Sequence[Path], source_ids: Sequence[str]):
    imported: list[ImportedSeries] = []
    warnings: list[Problem] = []
    errors: list[Problem] = []
    for path in paths:
        try:
            series, warned = read_file(path, source_ids if len(paths) == 1 else ())
        except ImportFormatError as exc:
            errors += exc.problems
            continue
        imported += series
        warnings += warned
    if source_ids and len(paths) > 1:
        imported = [
            s
            for s in imported
            if s.source_id in {x.zfill(9) if x.isdigit() else x for x in source_ids}
        ]
    return imported, warnings, errors


def _open_store(root: Path) -> IndexStore:
    if (root / CATALOG).exists():
        return load_store(root)
    if root.exists() and not root.is_dir():
        raise ImportFormatError(problems=[Problem(str(root), "--indices", "not a folder")])
    return IndexStore(root=root, catalog={}, values=empty_values())


def _catalog_document(root: Path) -> tomlkit.TOMLDocument:
    path = root / CATALOG
    if path.exists():
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    doc = tomlkit.document()
    doc.add(
        tomlkit.comment("Index series of this store: one table per series id (see INTERFACE.md).")
    )
    return doc


GENERIC_NAMES = {"value", "values", "valeur", "valeurs", "indice", "index", "prix", "price", "cours", "serie", "série", "series"}  # fmt: skip


def _target_id(series: ImportedSeries, catalog: dict[str, SeriesInfo]) -> str:
    """The catalog entry with the same source id, else the source id, else a name from the title.

    A ``period;value`` file whose value column has a generic name (``value``,
    ``valeur``, ``indice``...) is named after the file instead (``tr_ld.csv`` -> ``TR-LD``).
    """
    if series.source_id:
        same = [i.id for i in catalog.values() if i.source_id == series.source_id]
        if len(same) == 1:
            return same[0]
        return series.source_id
    if series.title.strip().lower() in GENERIC_NAMES:
        return _slug(Path(series.path).stem)
    return _slug(series.title)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").upper()[:60] or "SERIES"


def _file_stem(sid: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", sid)


def _compatibility(
    series: ImportedSeries, sid: str, catalog: dict[str, SeriesInfo]
) -> list[Problem]:
    info = catalog.get(sid)
    if info is None:
        return []
    problems = []
    if info.frequency != series.frequency:
        problems.append(
            Problem(
                series.path,
                sid,
                f"the store's {sid} is {info.frequency}, this file's series is {series.frequency}",
            )
        )
    if info.source_id and series.source_id and info.source_id != series.source_id:
        problems.append(
            Problem(
                series.path,
                sid,
                f"the store's {sid} is source id {info.source_id}, this file's series is {series.source_id}; choose another --id",
            )
        )
    return problems  # fmt: skip


def _dated(series: ImportedSeries, published: date | None, today: date) -> pl.DataFrame:
    fallback = published or series.last_update or today
    return series.frame.with_columns(pl.col("published").fill_null(fallback))


def _undated_warning(series: ImportedSeries, published: date | None, today: date) -> list[Problem]:
    """A file with no date at all (no JO column, no last update, no --published) is dated today."""
    if published or series.last_update or series.frame["published"].null_count() == 0:
        return []
    return [
        Problem(series.path, series.name, f"no publication date in this file (no 'Date de parution au JO', no 'Dernière mise à jour') and no --published: its values are dated today ({today.isoformat()}); re-import with --published YYYY-MM-DD (the date the values were published) so that --as-of sees them right", severity="warning")
    ]  # fmt: skip


def merge_vintages(
    old: pl.DataFrame, new: pl.DataFrame, path: str
) -> tuple[pl.DataFrame, list[Problem]]:
    """Stored rows + imported rows -> the store's rows, and conflicts (see the module Notes)."""
    rows: dict[str, list[tuple]] = {}
    for frame in (old, new):
        for period, value, status, published in frame.select(
            "period", "value", "status", "published"
        ).iter_rows():
            rows.setdefault(period, []).append((published, value, status))
    problems: list[Problem] = []
    out: list[tuple] = []
    for period, vintages in sorted(rows.items()):
        vintages.sort(key=lambda v: (v[0] is not None, v[0] or date.min))
        kept: list[tuple] = []
        for published, value, status in vintages:
            if kept and kept[-1][0] == published and (kept[-1][1], kept[-1][2]) != (value, status):
                problems.append(
                    Problem(path, period, f"the store has {kept[-1][1]!r} ({kept[-1][2]}) published {published}, this file says {value!r} ({status}) with the same date; date this download with --published")
                )  # fmt: skip
            elif not kept or (kept[-1][1], kept[-1][2]) != (value, status):
                kept.append((published, value, status))
        out += [(period, v, s, p) for p, v, s in kept]
    frame = pl.DataFrame(out, schema=["period", "value", "status", "published"], orient="row")
    frame = frame.cast({"value": pl.Float64, "status": pl.String, "published": pl.Date})
    return frame, problems


def series_csv(frame: pl.DataFrame) -> str:
    """The store's CSV text of one series: ``period,value,status,published``, sorted."""
    lines = ["period,value,status,published"]
    for period, value, status, published in frame.sort(
        "period", "published", nulls_last=False
    ).iter_rows():
        lines.append(f"{period},{value!r},{status},{published.isoformat() if published else ''}")
    return "\n".join(lines) + "\n"


def _catalog_entry(
    doc: tomlkit.TOMLDocument, sid: str, series: ImportedSeries, file_name: str, today: date
) -> None:
    table = doc.get(sid)
    if table is None:
        table = tomlkit.table()
        table["title"] = series.title
        table["publisher"] = series.publisher
        if series.source_id:
            table["source_id"] = series.source_id
        table["frequency"] = series.frequency
        if series.base:
            table["base"] = series.base
        if series.stopped and series.frame.height:
            table["stopped"] = series.frame["period"].max()
        doc[sid] = table
    table["file"] = file_name
    if "provenance" not in table:
        update = f", last update {series.last_update.isoformat()}" if series.last_update else ""
        sources = f"; pages: {'; '.join(series.sources)}" if series.sources else ""
        table["provenance"] = (
            f"imported from {_source_name(series.path)} ({series.layout} layout{update}) on {today.isoformat()}{sources}"
        )


def _source_name(path: str) -> str:
    """A file's name, or a URL whole (fetched series)."""
    return path if "://" in path else Path(path).name


def _placeholder(sid: str, series: ImportedSeries, file_name: str) -> SeriesInfo:
    return SeriesInfo(id=sid, title=series.title, publisher=series.publisher, frequency=series.frequency,
                      source_id=series.source_id, file=file_name)  # fmt: skip


def write_all(root: Path, texts: dict[str, str]) -> None:
    """Write every file to a temporary file first, then move them all into place."""
    root.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[str, Path]] = []
    try:
        for name, text in texts.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=root)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            temps.append((name, Path(tmp)))
    except BaseException:
        for _, tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    for name, tmp in sorted(temps, key=lambda t: t[0] == CATALOG):
        os.replace(tmp, root / name)
