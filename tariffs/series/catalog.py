"""``indices/catalog.toml``: one table per series id, read strictly.

A series without ``file`` is *declared but not available*: contracts may name
it, and the revision says plainly that it is missing and how to import it
(``how_to_import``), instead of inventing values.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tariffs.errors import CatalogError, Problem
from tariffs.periods import normalise_period

FIELDS = {
    "title": "text",
    "publisher": "text",
    "source_id": "text",
    "frequency": "monthly | quarterly",
    "base": "text, e.g. 2015=100",
    "file": "CSV file name in the store folder",
    "oil_share": "number in [0, 1]",
    "provenance": "text",
    "how_to_import": "text",
    "stopped": "last period published, YYYY-MM or YYYY-Qn",
    "unit": "text",
    "note": "text",
    "chain": "table {series, until, coefficient} or {series, until, overlap}",
}
CHAIN_FIELDS = {"series", "until", "coefficient", "overlap", "source"}
REQUIRED = ("frequency",)  # title defaults to the id, publisher to "unknown publisher"


@dataclass(frozen=True)
class Chain:
    """The series continues ``series`` (older base or replaced series).

    Periods up to ``until`` come from the older series divided by
    ``coefficient`` (the *coefficient de raccordement*: older value /
    coefficient = value in this series' base). When ``overlap`` ("YYYY-MM..YYYY-MM")
    is given instead, the coefficient is the ratio of the two series' means
    over that overlap, computed at load time and stated as such.
    """

    series: str
    until: str
    coefficient: Decimal | None = None
    overlap: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class SeriesInfo:
    id: str
    title: str
    publisher: str
    frequency: str
    source_id: str | None = None
    base: str | None = None
    file: str | None = None
    oil_share: float | None = None
    provenance: str | None = None
    how_to_import: str | None = None
    stopped: str | None = None
    unit: str | None = None
    note: str | None = None
    chain: Chain | None = None

    @property
    def available(self) -> bool:
        return self.file is not None

    def missing_message(self) -> str:
        how = self.how_to_import or (
            f"download it from {self.publisher}"
            + (f" (source id {self.source_id})" if self.source_id else "")
            + f" and run: tariffs indices import FILE --id {self.id}"
        )
        return f"series {self.id} ({self.title}) has no values in the store; {how}"


def load_catalog(path: Path) -> dict[str, SeriesInfo]:
    """Read and validate a catalog file; all problems reported together."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogError(problems=[Problem(where, "", "catalog file not found")]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(problems=[Problem(where, "", f"not valid TOML: {exc}")]) from exc
    problems: list[Problem] = []
    catalog: dict[str, SeriesInfo] = {}
    for sid, table in data.items():
        info = _series_info(where, sid, table, problems)
        if info is not None:
            catalog[sid] = info
    for info in catalog.values():
        if info.chain and info.chain.series not in catalog:
            problems.append(
                Problem(where, f"{info.id}.chain.series", f"unknown series {info.chain.series!r}")
            )
    if any(p.severity == "error" for p in problems):
        raise CatalogError(problems=problems)
    return catalog


def _series_info(where: str, sid: str, table: object, problems: list[Problem]) -> SeriesInfo | None:
    if not isinstance(table, dict):
        problems.append(Problem(where, sid, "expected a table [ID] describing a series"))
        return None
    before = len(problems)
    for key in table:
        if key not in FIELDS:
            problems.append(
                Problem(where, f"{sid}.{key}", f"unknown key; allowed: {', '.join(FIELDS)}")
            )
    for key in REQUIRED:
        if key not in table:
            problems.append(Problem(where, f"{sid}.{key}", f"missing required key ({FIELDS[key]})"))
    freq = table.get("frequency")
    if freq is not None and freq not in ("monthly", "quarterly"):
        problems.append(
            Problem(where, f"{sid}.frequency", f"expected monthly or quarterly, got {freq!r}")
        )
    oil = table.get("oil_share")
    if oil is not None and (not isinstance(oil, int | float) or not 0 <= oil <= 1):
        problems.append(
            Problem(where, f"{sid}.oil_share", f"expected a number in [0, 1], got {oil!r}")
        )
    stopped = table.get("stopped")
    if stopped is not None:
        stopped = _period(where, f"{sid}.stopped", stopped, problems)
    chain = _chain(where, sid, table.get("chain"), problems) if "chain" in table else None
    if len(problems) > before:
        return None
    text = {
        k: (str(table[k]) if k in table else None)
        for k in FIELDS
        if k not in ("chain", "oil_share")
    }
    return SeriesInfo(
        id=sid, title=text["title"] or sid, publisher=text["publisher"] or "unknown publisher", frequency=freq,
        source_id=text["source_id"], base=text["base"], file=text["file"],
        oil_share=float(oil) if oil is not None else None, provenance=text["provenance"],
        how_to_import=text["how_to_import"], stopped=stopped, unit=text["unit"],
        note=text["note"], chain=chain,
    )  # fmt: skip


def _period(where: str, key: str, value: object, problems: list[Problem]) -> str | None:
    try:
        return normalise_period(str(value))
    except ValueError as exc:
        problems.append(Problem(where, key, str(exc)))
        return None


def _chain(where: str, sid: str, table: object, problems: list[Problem]) -> Chain | None:
    key = f"{sid}.chain"
    if not isinstance(table, dict):
        problems.append(Problem(where, key, "expected a table {series, until, coefficient}"))
        return None
    for k in table:
        if k not in CHAIN_FIELDS:
            problems.append(
                Problem(
                    where, f"{key}.{k}", f"unknown key; allowed: {', '.join(sorted(CHAIN_FIELDS))}"
                )
            )
    for k in ("series", "until"):
        if k not in table:
            problems.append(Problem(where, f"{key}.{k}", "missing required key"))
    if ("coefficient" in table) == ("overlap" in table):
        problems.append(Problem(where, key, "give exactly one of coefficient or overlap"))
    coefficient = None
    if "coefficient" in table:
        try:
            coefficient = Decimal(str(table["coefficient"]))
            if coefficient <= 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(
                Problem(
                    where,
                    f"{key}.coefficient",
                    f"expected a positive number, got {table['coefficient']!r}",
                )
            )
    until = (
        _period(where, f"{key}.until", table.get("until", ""), problems)
        if "until" in table
        else None
    )
    return Chain(
        series=str(table.get("series", "")), until=until or "", coefficient=coefficient,
        overlap=str(table["overlap"]) if "overlap" in table else None,
        source=str(table["source"]) if "source" in table else None,
    )  # fmt: skip
