"""Fetch series from INSEE's BDM SDMX web service and import them like a downloaded file.

``tariffs indices fetch 001763559`` asks
``https://bdm.insee.fr/series/sdmx/data/SERIES_BDM/001763559`` (several idBanks
joined by ``+``, at most 400 per request) and reads the SDMX-ML 2.1 answer with
the same reader and importer as ``tariffs indices import``: same vintage rules,
same atomic write, nothing written on any error.

Notes
-----
Plain ``urllib`` on the documented REST endpoint (insee.fr, "Using the SDMX
web service": ``/data/SERIES_BDM/idbanks?parameters``, idBanks separated by
"+"), no extra dependency: the answer is the SDMX message our reader already
checks (status codes, frequency, base), so a fetched series and a downloaded
file of the same series give the same store. The values are dated by the
series' ``LAST_UPDATE`` attribute (SDMX carries no JO date).

The one network call is :func:`download`; tests replace it with a function
returning a recorded genuine answer.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from tariffs.errors import ImportFormatError, Problem
from tariffs.series.importer import ImportReport, import_series
from tariffs.series.readers import normalise_id, read_data

BDM_URL = "https://bdm.insee.fr/series/sdmx/data/SERIES_BDM/"
MAX_IDBANKS = 400
TIMEOUT_S = 60
_IDBANK = re.compile(r"^\d{9}$")
BY_HAND = "download the file by hand (insee.fr series page, 'Télécharger') and use `tariffs indices import`"


def download(url: str, timeout: float = TIMEOUT_S) -> bytes:
    """The body of ``url`` (the only network access of tariffs)."""
    request = urllib.request.Request(url, headers={"Accept": "application/xml"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return answer.read()


def sdmx_url(idbanks: Sequence[str]) -> str:
    return BDM_URL + "+".join(idbanks)


def fetch_series(
    root: Path,
    idbanks: Sequence[str],
    series_id: str | None = None,
    published: date | None = None,
    today: date | None = None,
    get: Callable[[str], bytes] | None = None,
) -> ImportReport:
    """Fetch ``idbanks`` from the BDM and merge them into the store at ``root``.

    ``get`` replaces :func:`download` (tests). Raises :class:`ImportFormatError`
    for a bad idBank, an unreachable service, an error answer, or an idBank
    absent from the answer; nothing is written then.
    """
    wanted = _checked(idbanks)
    url = sdmx_url(wanted)
    data = _get(get or download, url)
    series, warnings = read_data(data, url, wanted, asked="idBank")
    return import_series(root, series, warnings, url, series_id, published, today)


def _checked(idbanks: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(normalise_id(i) for i in idbanks))
    bad = [i for i in wanted if not _IDBANK.match(i)]
    problems = [Problem("IDBANK", i, "expected an INSEE idBank of 9 digits, e.g. 001763559") for i in bad]  # fmt: skip
    if len(wanted) > MAX_IDBANKS:
        problems.append(Problem("IDBANK", "", f"{len(wanted)} idBanks: INSEE answers at most {MAX_IDBANKS} per request"))  # fmt: skip
    if problems:
        raise ImportFormatError(problems=problems)
    return wanted


def _get(get: Callable[[str], bytes], url: str) -> bytes:
    """The answer's bytes; network failures become one clear problem (no traceback)."""
    try:
        return get(url)
    except urllib.error.HTTPError as exc:
        detail = _error_text(exc)
        message = (
            f"INSEE answered HTTP {exc.code} {exc.reason}{detail}; check the idBanks, or {BY_HAND}"
        )
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", None) or exc
        message = f"cannot reach INSEE ({reason}); {BY_HAND}"
    raise ImportFormatError(problems=[Problem(url, "", message)])


def _error_text(exc: urllib.error.HTTPError) -> str:
    """The text of an SDMX error answer (e.g. 'No Results Found'), when there is one."""
    try:
        body = exc.read().decode("utf-8", errors="replace")
    except Exception:  # noqa: BLE001 - the body is a bonus, the status line is enough
        return ""
    texts = re.findall(r"<(?:\w+:)?Text[^>]*>([^<]+)<", body)
    return f" ({'; '.join(t.strip() for t in texts)})" if texts else ""
