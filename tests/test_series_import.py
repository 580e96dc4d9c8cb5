"""Import into the store: vintages, idempotence, atomicity, and every kind of broken file."""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from tariffs.errors import ImportFormatError
from tariffs.series.importer import import_files
from tariffs.series.store import load_store

FIX = Path(__file__).parent / "fixtures" / "insee"
IPPI = FIX / "ippi_laitiers_provisional.csv"
TODAY = date(2026, 11, 1)


def snapshot(root: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())} if root.exists() else {}


def test_import_creates_store_and_reimport_changes_nothing(tmp_path):
    root = tmp_path / "idx"
    report = import_files(root, [IPPI], today=TODAY)
    assert report.rows[0].added == 174 and report.rows[0].new_series
    store = load_store(root)
    row = store.known().filter(period="2023-03").row(0, named=True)
    assert (row["value"], row["status"], row["published"]) == (
        144.3,
        "provisional",
        date(2023, 4, 28),
    )
    before = snapshot(root)
    again = import_files(root, [IPPI], today=TODAY)
    assert again.rows[0].added == 0 and not again.changed
    assert snapshot(root) == before


def test_later_vintage_is_added_and_earlier_knowledge_kept(tmp_path):
    """A later download where the provisional months became definitive (status A)."""
    root = tmp_path / "idx"
    import_files(root, [IPPI], today=TODAY)
    later = tmp_path / "later.csv"
    text = IPPI.read_text(encoding="utf-8").replace("28/04/2023", "31/05/2023")
    later.write_text(text.replace('"P"', '"A"'), encoding="utf-8")
    report = import_files(root, [later], today=TODAY)
    assert report.rows[0].added == 3
    store = load_store(root)
    before = store.known(date(2023, 5, 1)).filter(period="2023-03").row(0, named=True)
    after = store.known().filter(period="2023-03").row(0, named=True)
    assert before["status"] == "provisional" and before["published"] == date(2023, 4, 28)
    assert after["status"] == "definitive" and after["published"] == date(2023, 5, 31)
    assert after["vintages"] == 2 and after["first_published"] == date(2023, 4, 28)
    assert store.known(date(2023, 4, 1)).filter(period="2023-03").height == 0


def test_jo_dates_give_point_in_time_values(tmp_path):
    root = tmp_path / "idx"
    import_files(root, [FIX / "ipc_hors_tabac_v2020-12_rows3.csv"], published=date(2023, 2, 6))
    import_files(root, [FIX / "ipc_hors_tabac_v2025-12_rows_jo.csv"], today=TODAY)
    store = load_store(root)
    known = store.known(date(2021, 1, 16)).filter(series="001763852")
    assert known["period"].max() == "2020-11"  # 2020-12 appeared in the JO of 17/01/2021
    assert store.known(date(2021, 1, 17)).filter(period="2020-12")["value"].item() == 104.09
    # the three vintages agree: one row per period, dated by the earliest publication
    assert store.values.filter(series="001763852").height == 431


def test_published_option_dates_a_file_without_dates(tmp_path):
    root = tmp_path / "idx"
    import_files(
        root,
        [FIX / "cnr_gazole_professionnel.csv"],
        series_id="CNR-GAZOLE",
        published=date(2024, 10, 7),
    )
    store = load_store(root)
    assert set(store.values["published"].to_list()) == {date(2024, 10, 7)}
    assert store.catalog["CNR-GAZOLE"].publisher == "CNR"


def test_import_into_existing_entry_by_source_id(tmp_path):
    root = tmp_path / "idx"
    root.mkdir()
    (root / "catalog.toml").write_text(
        '[FOD-ROTTERDAM]\ntitle = "Rotterdam gasoil"\npublisher = "INSEE"\nsource_id = "010002089"\n'
        'frequency = "monthly"\noil_share = 1.0\n',
        encoding="utf-8",
    )
    import_files(
        root,
        [FIX / "matieres_premieres_transposed_excerpt.csv"],
        source_ids=["010002089"],
        today=TODAY,
    )
    store = load_store(root)
    assert store.has_data("FOD-ROTTERDAM") and store.catalog["FOD-ROTTERDAM"].oil_share == 1.0
    assert store.values.filter(series="FOD-ROTTERDAM", period="2022-05")["value"].item() == 242.3
    assert "oil_share = 1.0" in (root / "catalog.toml").read_text()


def test_same_date_different_value_is_refused(tmp_path):
    root = tmp_path / "idx"
    import_files(root, [IPPI], today=TODAY)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        IPPI.read_text(encoding="utf-8").replace('"144.3"', '"145.0"'), encoding="utf-8"
    )
    before = snapshot(root)
    with pytest.raises(ImportFormatError, match="2023-03: the store has 144.3"):
        import_files(root, [changed], today=TODAY)
    assert snapshot(root) == before


def _broken(tmp_path, name, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


GENUINE = IPPI.read_bytes()
BROKEN = {
    "truncated mid-value": (
        GENUINE[: GENUINE.index(b'"2015-06"') + 13],
        r"truncated mid-value\.csv:85: malformed CSV",
    ),
    "truncated after value": (
        GENUINE[: GENUINE.index(b'"2015-06"') + 17],
        r"truncated after value\.csv:85: expected 3 fields, got 2",
    ),
    "html page": (
        b"<!DOCTYPE html>\n<html><head><title>Erreur 404</title></head><body>Page introuvable</body></html>\n",
        r"html page\.csv: an HTML page",
    ),
    "latin1": (
        GENUINE.decode("utf-8").encode("latin-1", errors="replace"),
        r"latin1\.csv:1: not UTF-8.*Latin-1",
    ),
    "decimal comma": (
        GENUINE.replace(b'"144.3"', b'"144,3"'),
        r"decimal comma\.csv:178: .*decimal comma in '144,3'",
    ),
    "duplicate period": (
        GENUINE + b'"2023-03";"150.0";"P"\n',
        r"duplicate period\.csv:179: .*2023-03 appears twice",
    ),
    "word value": (
        GENUINE.replace(b'"144.3"', b'"n.d."'),
        r"word value\.csv:178: .*expected a number, got 'n.d.'",
    ),
    "empty": (b"", r"empty\.csv: empty file"),
    "header only": (GENUINE[: GENUINE.index(b'"2008-10"')], r"header only\.csv: no data line"),
    "bad code": (
        GENUINE.replace(b'"144.3";"P"', b'"144.3";"Z"'),
        r"bad code\.csv:178: .*unknown status code 'Z'",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_is_refused_naming_file_and_line(tmp_path, case):
    data, pattern = BROKEN[case]
    path = _broken(tmp_path, case + ".csv", data)
    root = tmp_path / "idx"
    import_files(
        root, [FIX / "cnr_gazole_professionnel.csv"], series_id="CNR", published=date(2024, 10, 7)
    )
    before = snapshot(root)
    with pytest.raises(ImportFormatError, match=pattern):
        import_files(root, [path], today=TODAY)
    assert snapshot(root) == before


def test_one_bad_file_among_several_writes_nothing(tmp_path):
    root = tmp_path / "idx"
    bad = _broken(tmp_path, "bad.csv", GENUINE.replace(b'"144.3"', b'"144,3"'))
    with pytest.raises(ImportFormatError):
        import_files(root, [FIX / "cnr_gazole_professionnel.csv", bad], today=TODAY)
    assert not root.exists() or snapshot(root) == {}


def test_store_copy_round_trip(tmp_path):
    """The CSV the importer writes is read back by the store loader unchanged."""
    root = tmp_path / "idx"
    import_files(root, [FIX / "chomage_quarterly_transposed_excerpt.csv"], today=TODAY)
    store = load_store(root)
    assert store.catalog["001515842"].frequency == "quarterly"
    assert (
        store.values.filter(series="001515842", period="2023-Q3")["status"].item() == "provisional"
    )
    shutil.rmtree(root)


def test_file_without_any_date_is_dated_today_with_a_warning(tmp_path):
    cnr = FIX / "cnr_gazole_professionnel.csv"
    report = import_files(tmp_path / "a", [cnr], series_id="CNR", today=TODAY)
    [warning] = report.warnings
    assert warning.path == str(cnr) and warning.severity == "warning"
    assert (
        "dated today (2026-11-01)" in warning.message
        and "--published YYYY-MM-DD" in warning.message
    )
    assert set(load_store(tmp_path / "a").values["published"].to_list()) == {TODAY}
    dated = import_files(tmp_path / "b", [cnr], series_id="CNR", published=date(2024, 10, 7))
    assert dated.warnings == []
    jo = import_files(tmp_path / "c", [FIX / "ipc_hors_tabac_v2025-12_rows_jo.csv"], today=TODAY)
    assert not any("dated today" in w.message for w in jo.warnings)


def test_long_error_list_is_capped_and_says_how_many_more(tmp_path):
    """Every value of the genuine file re-saved with decimal commas: 50 errors listed, the rest counted."""
    data, count = re.subn(rb'"(\d+)\.(\d+)"', rb'"\1,\2"', GENUINE)
    assert count > 60
    path = _broken(tmp_path, "all_commas.csv", data)
    with pytest.raises(ImportFormatError) as err:
        import_files(tmp_path / "idx", [path], today=TODAY)
    lines = err.value.lines()
    assert len(lines) == 51 and all("decimal comma" in line for line in lines[:50])
    assert lines[50] == f"{path}: ... and {count - 50} more errors"
