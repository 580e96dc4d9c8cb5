"""Readers of genuine publisher files: every layout, values, periods and statuses."""

import re
from datetime import date
from pathlib import Path

import pytest

from tariffs.errors import ImportFormatError
from tariffs.series import readers
from tariffs.series.readers import read_file

FIX = Path(__file__).parent / "fixtures" / "insee"


def one(name, **kw):
    series, warnings = read_file(FIX / name, **kw)
    assert len(series) == 1
    return series[0], warnings


def value(series, period):
    row = series.frame.filter(period=period).row(0, named=True)
    return row["value"], row["status"], row["published"]


def test_rows_layout_three_header_lines_newest_first():
    s, warnings = one("ipc_hors_tabac_v2020-12_rows3.csv")
    assert (s.source_id, s.frequency, s.base, s.last_update) == (
        "001763852",
        "monthly",
        "2015=100",
        None,
    )
    assert s.frame.height == 372
    assert s.frame["period"].to_list()[:2] == ["1990-01", "1990-02"]  # sorted oldest first
    assert value(s, "2020-12") == (104.09, "definitive", None)
    assert value(s, "2020-09") == (103.8, "definitive", None)
    assert warnings == []


def test_rows_layout_with_last_update_and_jo_dates():
    s, _ = one("ipc_hors_tabac_v2025-12_rows_jo.csv")
    assert s.last_update == date(2025, 12, 12)
    assert value(s, "2025-11") == (119.67, "definitive", date(2025, 12, 13))
    assert value(s, "1990-01") == (68.09, "definitive", date(1990, 3, 1))
    assert s.frame["published"].null_count() == 0


def test_transposed_single_series_with_codes_and_jo_rows():
    s, _ = one("ipc_hors_tabac_v2026-01_transposed_jo.csv")
    assert s.stopped and s.last_update == date(2026, 1, 15)
    assert value(s, "2025-12") == (119.76, "definitive", date(2026, 1, 16))
    assert s.frame.height == 432


def test_three_vintages_agree_on_common_months():
    a = one("ipc_hors_tabac_v2020-12_rows3.csv")[0].frame
    b = one("ipc_hors_tabac_v2025-12_rows_jo.csv")[0].frame
    joined = a.join(b, on="period")
    assert joined.height == 372 and (joined["value"] == joined["value_right"]).all()


def test_provisional_codes_oldest_first():
    s, _ = one("ippi_laitiers_provisional.csv")
    assert s.source_id == "010535221"
    assert value(s, "2023-03") == (144.3, "provisional", None)
    assert value(s, "2022-12")[1] == "definitive"
    assert s.frame.filter(status="provisional")["period"].to_list() == [
        "2023-01",
        "2023-02",
        "2023-03",
    ]


def test_quarterly_transposed_multi_series_semi_definitive():
    series, _ = read_file(FIX / "chomage_quarterly_transposed_excerpt.csv")
    assert [s.source_id for s in series] == ["001515842", "001515843"]
    s = series[0]
    assert s.frequency == "quarterly"
    assert value(s, "1982-Q1") == (6.7, "definitive", None)
    assert value(s, "2023-Q3")[1] == "provisional"  # SD: semi-definitive


def test_multi_series_selection_by_idbank_and_missing_values():
    series, _ = read_file(
        FIX / "matieres_premieres_transposed_excerpt.csv", source_ids=["10002089"]
    )
    assert [s.source_id for s in series] == ["010002089"]
    assert value(series[0], "2010-01")[0] == 100.0
    assert value(series[0], "2022-05")[0] == 242.3
    stopped, _ = read_file(
        FIX / "matieres_premieres_transposed_excerpt.csv", source_ids=["001743680"]
    )
    assert (
        stopped[0].stopped and stopped[0].frame["period"].min() == "2011-01"
    )  # empty cells skipped


def test_unknown_source_id_lists_those_present():
    with pytest.raises(ImportFormatError, match="010002089"):
        read_file(FIX / "matieres_premieres_transposed_excerpt.csv", source_ids=["001763559"])


def test_spreadsheet_resave_is_read_with_warnings():
    s, warnings = one("ipi_spreadsheet_mangled.csv")
    assert s.source_id == "010768109"
    assert value(s, "2025-03")[0] == 89.41 and value(s, "1990-01")[0] == 141.71
    text = " ".join(str(w) for w in warnings)
    assert "leading zero" in text and "no Codes column" in text


def test_xlsx_export_with_missing_marker():
    series, warnings = read_file(FIX / "ipc_coicop_excerpt.xlsx", source_ids=["001763559"])
    s = series[0]
    assert s.layout == "xlsx" and s.last_update == date(2024, 9, 13)
    assert value(s, "1990-01")[0] == 46.91 and value(s, "2024-08")[0] == 167.82
    stopped, _ = read_file(FIX / "ipc_coicop_excerpt.xlsx", source_ids=["001763591"])
    assert stopped[0].frame["period"].max() == "2014-12"  # later cells are (O)
    assert "no status codes" in str(warnings[0])


def test_sdmx_structure_specific():
    series, _ = read_file(FIX / "sdmx_ipi_2016_excerpt.xml", source_ids=["001654489"])
    s = series[0]
    assert (s.base, s.last_update, s.frequency) == ("2010=100", date(2016, 1, 8), "monthly")
    assert value(s, "2015-11") == (96.98, "definitive", None)
    assert value(s, "2014-12")[0] == 66.0


def test_sdmx_annual_series_refused_when_chosen():
    with pytest.raises(ImportFormatError, match="frequency 'A' not supported"):
        read_file(FIX / "sdmx_ipi_2016_excerpt.xml")


def test_cnr_period_value_file():
    s, _ = one("cnr_gazole_professionnel.csv")
    assert s.publisher == "CNR" and s.title == "Indice CNR gazole professionnel"
    assert value(s, "2022-01")[0] == 190.06 and value(s, "2024-09")[0] == 180.81


def test_fred_monthly_and_daily_refused():
    s, _ = one("fred_MCOILBRENTEU.csv")
    assert (s.source_id, s.publisher) == ("MCOILBRENTEU", "FRED")
    assert value(s, "1987-05")[0] == 18.58 and value(s, "2022-09")[0] == 89.76
    with pytest.raises(ImportFormatError, match=r"daily_head.csv:2: daily date"):
        read_file(FIX / "fred_DCOILBRENTEU_daily_head.csv")


def test_transcription_split_by_base():
    series, _ = read_file(FIX / "transcribed_ICHT_IME.csv")
    new, old = series
    assert "décembre 2008" in new.base and value(new, "2016-07")[0] == 117.7
    assert "octobre 1997" in old.base and old.frame.height == 8
    assert any("svp.com" in s for s in new.sources)


def test_caracteristiques_file_refused():
    with pytest.raises(ImportFormatError, match="caractéristiques"):
        read_file(FIX / "ipc_hors_tabac_v2025-12_caracteristiques.csv")


def test_side_by_side_negative_values_refused_with_line():
    with pytest.raises(ImportFormatError) as err:
        read_file(FIX / "budget_comma_side_by_side.csv")
    assert "budget_comma_side_by_side.csv:2: " in str(err.value)
    assert "-3836 for 2009-01 is not positive" in str(err.value)


def test_unknown_source_id_lists_at_most_a_few_ids(monkeypatch):
    monkeypatch.setattr(readers, "MAX_LISTED", 2)
    with pytest.raises(ImportFormatError) as err:
        read_file(FIX / "matieres_premieres_transposed_excerpt.csv", source_ids=["001764364"])
    message = str(err.value)
    assert "--source-id 001764364: no such series in this file (4 idBanks present: " in message
    assert "001743680, 010002003 ... and 2 more; see the file's idBank column" in message
    assert "010002089" not in message


def test_sdmx_with_an_annual_series_refused_whole_naming_the_usable_ones():
    with pytest.raises(ImportFormatError) as err:
        read_file(FIX / "sdmx_ipi_2016_excerpt.xml")
    lines = err.value.lines()
    assert lines[0].endswith(
        "series 001655636: frequency 'A' not supported (monthly or quarterly only)"
    )
    assert lines[1].endswith(
        "1 of the 2 series cannot be imported (001655636), so nothing was imported; "
        "to import the 1 usable: add --source-id 001654489"
    )


def test_hand_made_period_value_file_with_decimal_commas(tmp_path):
    """The genuine CNR file as French Excel would write it: read with a warning, same values."""
    text = (FIX / "cnr_gazole_professionnel.csv").read_text(encoding="utf-8")
    french = tmp_path / "cnr_excel.csv"
    french.write_text(re.sub(r";(\d+)\.(\d+)$", r";\1,\2", text, flags=re.M), encoding="utf-8")
    assert "190,06" in french.read_text(encoding="utf-8")
    [s], warnings = read_file(french)
    assert value(s, "2022-01")[0] == 190.06 and value(s, "2024-09")[0] == 180.81
    assert s.frame.height == one("cnr_gazole_professionnel.csv")[0].frame.height
    assert any("decimal commas read as decimal points" in str(w) for w in warnings)
    # one value keeping its point: ambiguous, refused as before
    mixed = tmp_path / "cnr_mixed.csv"
    mixed.write_text(
        french.read_text(encoding="utf-8").replace("190,06", "190.06"), encoding="utf-8"
    )
    with pytest.raises(ImportFormatError, match="decimal comma in '200,66'"):
        read_file(mixed)
