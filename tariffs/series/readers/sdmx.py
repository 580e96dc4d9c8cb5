"""INSEE SDMX-ML 2.1 responses (BDM web service, ``/series/sdmx/data/SERIES_BDM/...``).

StructureSpecificData: ``<Series IDBANK= TITLE= (or TITLE_FR=) LAST_UPDATE= FREQ=
BASE_PER=><Obs TIME_PERIOD= OBS_VALUE= OBS_STATUS=/>...</Series>``, newest first.
GenericData (``<generic:Series>`` with ``SeriesKey``/``Attributes``/``ObsDimension``)
is read too.

Notes
-----
OBS_STATUS uses the INSEE codes (A, P, R, SD, E, O...) mapped as in
:mod:`.common`. Annual series (FREQ="A") are refused: contracts use months or
quarters. A message mixing them with monthly series is refused whole, naming
the usable idBanks to pick with ``--source-id`` (nothing half-imported).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tariffs.series.readers.common import (
    Collector,
    ImportedSeries,
    Row,
    base_of,
    build_frame,
    date_of,
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_sdmx(text: str, col: Collector) -> list[ImportedSeries]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise col.fail(f"malformed XML ({exc}): truncated response?", exc.position[0]) from exc
    errors = [e for e in root.iter() if _local(e.tag) in ("Error", "ErrorMessage")]
    if errors:
        text = " ".join(t.strip() for e in errors for t in e.itertext() if t.strip())
        raise col.fail(f"the response is an SDMX error message, not data: {text or 'no detail'}")
    result = []
    for series in (e for e in root.iter() if _local(e.tag) == "Series"):
        attrs = _series_attributes(series)
        rows = [_obs(o) for o in series if _local(o.tag) == "Obs"]
        title = attrs.get("TITLE") or attrs.get("TITLE_FR") or attrs.get("TITLE_EN") or ""
        what = attrs.get("IDBANK") or title
        own = Collector(col.path)
        if attrs.get("FREQ") not in (None, "M", "T", "Q"):
            own.error(
                f"series {what}: frequency {attrs['FREQ']!r} not supported (monthly or quarterly only)"
            )
            rows = []
        frame, freq = build_frame(rows, own, what)
        base = f"{attrs['BASE_PER']}=100" if attrs.get("BASE_PER") else base_of(title)
        result.append(
            ImportedSeries(
                path=col.path, source_id=attrs.get("IDBANK"), title=title or what,
                frequency=freq or "monthly", frame=frame, last_update=date_of(attrs.get("LAST_UPDATE", "")),
                base=base, stopped=attrs.get("SERIE_ARRETEE", "").lower() == "true", layout="sdmx",
                problems=own.problems,
            )
        )  # fmt: skip
    col.raise_if_errors()
    if not result:
        raise col.fail("no <Series> in this SDMX message")
    return result


def _series_attributes(series: ET.Element) -> dict[str, str]:
    attrs = dict(series.attrib)
    for child in series:
        if _local(child.tag) in ("SeriesKey", "Attributes"):
            for v in child:
                attrs[v.get("id", "")] = v.get("value", "")
    return attrs


def _obs(obs: ET.Element) -> Row:
    attrs = dict(obs.attrib)
    for child in obs:
        name = _local(child.tag)
        if name == "ObsDimension":
            attrs["TIME_PERIOD"] = child.get("value", "")
        elif name == "ObsValue":
            attrs["OBS_VALUE"] = child.get("value", "")
        elif name == "Attributes":
            for v in child:
                attrs[v.get("id", "")] = v.get("value", "")
    period = attrs.get("TIME_PERIOD", "")
    value = attrs.get("OBS_VALUE", "")
    if value.lower() == "nan":
        value = ""
    return Row(None, period, value, attrs.get("OBS_STATUS"), key=period)
