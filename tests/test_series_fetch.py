"""``tariffs indices fetch``: offline, on a recorded genuine BDM SDMX answer (no network in tests)."""

import io
import urllib.error
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tariffs.cli import main
from tariffs.errors import ImportFormatError
from tariffs.series import fetch as fetch_module
from tariffs.series.fetch import fetch_series
from tariffs.series.store import load_store

FIX = Path(__file__).parent / "fixtures" / "insee"
ANSWER = (FIX / "sdmx_ipi_2016_excerpt.xml").read_bytes()  # genuine BDM answer (see PROVENANCE)
URL = "https://bdm.insee.fr/series/sdmx/data/SERIES_BDM/"


def recorded(asked: list):
    def get(url: str) -> bytes:
        asked.append(url)
        return ANSWER

    return get


def snapshot(root: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())} if root.exists() else {}


def test_fetch_imports_the_answer_like_a_downloaded_file(tmp_path):
    root, asked = tmp_path / "idx", []
    report = fetch_series(
        root, ["1654489"], series_id="IPI", today=date(2026, 1, 2), get=recorded(asked)
    )
    assert asked == [URL + "001654489"]  # leading zeros restored
    assert [(r.series, r.source_id, r.added, r.new_series) for r in report.rows] == [
        ("IPI", "001654489", 311, True)
    ]
    store = load_store(root)
    row = store.values.filter(series="IPI", period="2015-11").row(0, named=True)
    assert (row["value"], row["status"], row["published"]) == (
        96.98,
        "definitive",
        date(2016, 1, 8),
    )
    assert store.catalog["IPI"].base == "2010=100"
    assert URL + "001654489" in (root / "catalog.toml").read_text(encoding="utf-8")
    before = snapshot(root)
    again = fetch_series(root, ["001654489"], today=date(2026, 2, 1), get=recorded(asked))
    assert again.rows[0].series == "IPI" and again.rows[0].added == 0
    assert snapshot(root) == before


def test_idbank_missing_from_the_answer_writes_nothing(tmp_path):
    root, asked = tmp_path / "idx", []
    with pytest.raises(
        ImportFormatError,
        match="SERIES_BDM/001654489\\+001763559: idBank 001763559: no such series",
    ):
        fetch_series(root, ["001654489", "001763559"], get=recorded(asked))
    assert asked == [URL + "001654489+001763559"] and not root.exists()


def test_malformed_idbank_refused_before_any_request(tmp_path):
    asked = []
    with pytest.raises(ImportFormatError, match="FOD: expected an INSEE idBank of 9 digits"):
        fetch_series(tmp_path / "idx", ["FOD"], get=recorded(asked))
    assert asked == []


def test_fetch_cli_json_report(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_module, "download", recorded([]))
    root = tmp_path / "idx"
    result = CliRunner().invoke(
        main, ["indices", "fetch", "001654489", "--indices", str(root), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert '"series": "001654489"' in result.output and '"added": 311' in result.output
    assert (root / "001654489.csv").exists()


def _fails(url, timeout=60):
    raise FAILURE[0]


FAILURE: list = []
CASES = {
    "offline": (urllib.error.URLError(OSError(-3, "Temporary failure in name resolution")), "cannot reach INSEE (.*name resolution)"),
    "timeout": (TimeoutError("timed out"), "cannot reach INSEE \\(timed out\\)"),
    "refused": (ConnectionRefusedError(111, "Connection refused"), "cannot reach INSEE"),
    "http 404": (urllib.error.HTTPError(URL + "001654489", 404, "Not Found", {}, io.BytesIO(b"")), "INSEE answered HTTP 404 Not Found; check the idBanks"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_network_failure_exit_1_clear_message_nothing_written(tmp_path, monkeypatch, case):
    exc, pattern = CASES[case]
    FAILURE[:] = [exc]
    monkeypatch.setattr(fetch_module, "download", _fails)
    root = tmp_path / "idx"
    result = CliRunner().invoke(main, ["indices", "fetch", "001654489", "--indices", str(root)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    import re

    assert re.search(pattern, result.output), result.output
    assert (
        "download the file by hand" in result.output and "tariffs indices import" in result.output
    )
    assert result.output.startswith(URL + "001654489: ")
    assert not root.exists()


def test_fetch_of_an_annual_series_refused_naming_the_usable_one(tmp_path):
    with pytest.raises(
        ImportFormatError, match="to import the 1 usable: tariffs indices fetch 001654489"
    ):
        fetch_series(tmp_path / "idx", ["001654489", "001655636"], get=recorded([]))
    assert not (tmp_path / "idx").exists()
