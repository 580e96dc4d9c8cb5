"""Readers of publisher files: one module per format, all returning :class:`ImportedSeries`.

:func:`read_file` looks at the bytes and picks the reader:

============================  ==============================================
format                        module
============================  ==============================================
INSEE BDM CSV (rows/transp.)  :mod:`.insee_csv`
INSEE xlsx export             :mod:`.insee_xlsx`
INSEE SDMX-ML 2.1             :mod:`.sdmx`
``period;value``, FRED, hand  :mod:`.simple`
transcriptions
============================  ==============================================
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from tariffs.errors import Problem
from tariffs.series.readers.common import Collector, ImportedSeries, decode_text
from tariffs.series.readers.insee_csv import looks_like_insee, read_insee_csv, split_rows
from tariffs.series.readers.insee_xlsx import read_insee_xlsx
from tariffs.series.readers.sdmx import read_sdmx
from tariffs.series.readers.simple import looks_simple, read_simple

__all__ = ["ImportedSeries", "read_data", "read_file"]


def read_file(
    path: Path, source_ids: Sequence[str] = ()
) -> tuple[list[ImportedSeries], list[Problem]]:
    """The series of a publisher file (all, or those whose id is in ``source_ids``) and warnings.

    Raises :class:`ImportFormatError` (all problems of the file together) when
    the file cannot be read faithfully, or a chosen series has a bad value:
    nothing is guessed. An id of ``source_ids`` absent from the file is an error
    listing the ids present.
    """
    path = Path(path)
    col = Collector(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise col.fail("file not found") from exc
    except IsADirectoryError as exc:
        raise col.fail("a folder, not a file") from exc
    return read_data(data, str(path), source_ids)


def read_data(
    data: bytes, name: str, source_ids: Sequence[str] = (), asked: str = "--source-id"
) -> tuple[list[ImportedSeries], list[Problem]]:
    """:func:`read_file` on bytes already in memory (e.g. a web service answer named by its URL).

    ``asked`` names where the ids came from in the message for an absent one.
    """
    col = Collector(name)
    if data.startswith(b"PK\x03\x04"):
        series = read_insee_xlsx(io.BytesIO(data), col)
    else:
        text = decode_text(data, col)
        if text.lstrip().startswith("<?xml") or text.lstrip().startswith("<message:"):
            series = read_sdmx(text, col)
        else:
            series = _read_csv(text, col)
    col.raise_if_errors()
    wanted = [normalise_id(s) for s in source_ids]
    if wanted:
        present = {s.source_id for s in series}
        for sid in wanted:
            if sid not in present:
                col.error(f"{asked} {sid}: no such series in this file ({_present(present)})")
        series = [s for s in series if s.source_id in wanted]
    for s in series:
        col.problems.extend(s.problems)
    if col.errors:
        _usable_hint(series, col, asked)
    col.raise_if_errors()
    if not series:
        raise col.fail("no series in this file")
    return series, col.warnings


MAX_LISTED = 10


def _usable_hint(series: list[ImportedSeries], col: Collector, asked: str) -> None:
    """When only some series of a file are unusable, say how to take the others.

    The whole file is still refused (nothing guessed, nothing half-imported):
    the user names the usable series explicitly.
    """
    bad = [s.name for s in series if any(p.severity == "error" for p in s.problems)]
    usable = [s.source_id for s in series if s.source_id and s.name not in bad]
    if not bad or not usable:
        return
    ids = usable[:MAX_LISTED]
    more = f" (and {len(usable) - len(ids)} more)" if len(usable) > len(ids) else ""
    if asked == "--source-id":
        how = "add " + " ".join(f"--source-id {i}" for i in ids)
    else:
        how = "tariffs indices fetch " + " ".join(ids)
    col.error(
        f"{len(bad)} of the {len(series)} series cannot be imported ({', '.join(bad[:MAX_LISTED])}), "
        f"so nothing was imported; to import the {len(usable)} usable: {how}{more}"
    )


def _present(ids: set[str | None]) -> str:
    """``idBanks present: a, b, c`` with at most :data:`MAX_LISTED` ids, then how many more."""
    known = sorted(str(i) for i in ids if i)
    if not known:
        return "no idBank in this file"
    shown = ", ".join(known[:MAX_LISTED])
    if len(known) <= MAX_LISTED:
        return f"idBanks present: {shown}"
    return f"{len(known)} idBanks present: {shown} ... and {len(known) - MAX_LISTED} more; see the file's idBank column"


def normalise_id(text: str) -> str:
    """An idBank typed without its leading zeros (``1763852``) -> ``001763852``."""
    text = str(text).strip()
    return text.zfill(9) if text.isdigit() and len(text) < 9 else text


def _read_csv(text: str, col: Collector) -> list[ImportedSeries]:
    rows = split_rows(text, col)
    if not rows:
        raise col.fail("empty file: no header and no values")
    if looks_like_insee(rows):
        return read_insee_csv(text, col)
    if looks_simple(rows):
        return read_simple(text, col)
    raise col.fail(
        f"unrecognised layout: first cell {rows[0][1][0]!r}; expected an INSEE download "
        "(Libellé / idBank ...), an SDMX-ML message, an xlsx export, or a 'period;value' file",
        rows[0][0],
    )
