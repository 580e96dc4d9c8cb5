"""Build the bundled index store ``indices/`` from the genuine files of shared/data.

Every value goes through the project's own importers (``tariffs.series.importer``);
this script only declares the catalog (ids, titles, oil shares, provenance) and
says which file and series feed each id. Run from the repository root:

    .venv/bin/python scripts/build_indices.py --data ../shared/data --out indices

The output folder is rebuilt from scratch; the result is committed.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import date
from pathlib import Path

import tomlkit

from tariffs.series.importer import import_files
from tariffs.series.store import load_store

XLSX = "insee-ipc-coicop/donnees_brutes.xlsx"
RAW = "insee-matieres-premieres/valeurs_mensuelles.csv"
HT = "insee-ipc-hors-tabac/"
SRC_XLSX = (
    "INSEE BDM download of the COICOP consumer price family (data as of 2024-10-15), file "
    "donnees_brutes.xlsx of github.com/ReinforcedKnowledge/france-inflation-data-cleaned "
    "(commit c11df31e), sheet valeurs_mensuelles; rows dated by the download's last update"
)
SRC_RAW = (
    "INSEE BDM download 'prix des matières premières importées', valeurs_mensuelles.csv of "
    "github.com/Myriam2000/Market-share-forecasting (commit 43e9d7db), last update 17/06/2022"
)
TRANSCRIBED = (
    "hand transcription of official values read on public web pages (shared/data/transcribed); "
    "typed by hand, a typo is possible: prefer an official download; rows undated; pages:"
)
LOOK_UP = "idBank to look up on insee.fr"

# id -> catalog table. `_import` = (file, source id or base text, options); no `_import` = declared only.
SERIES: dict[str, dict] = {
    "FOD": dict(
        title="Consumer prices: 04.5.3 liquid fuels (household heating oil), France",
        publisher="INSEE",
        source_id="001763559",
        frequency="monthly",
        base="2015=100",
        oil_share=1.0,
        note="Heating-oil retail prices move with oil: oil_share 1.",
        provenance=SRC_XLSX,
        _import=(XLSX, "001763559", {}),
    ),
    "FOD-ROTTERDAM": dict(
        title="Gasoil / heating oil (Rotterdam), CIF, 1% sulphur, index in euros",
        publisher="INSEE",
        source_id="010002089",
        frequency="monthly",
        base="January 2010 = 100",
        oil_share=1.0,
        note="A wholesale oil product price: oil_share 1. Base: January 2010 = 100.0 exactly (a single month, not the 2010 mean).",
        provenance=SRC_RAW,
        _import=(RAW, "010002089", {}),
    ),
    "GAS": dict(
        title="Consumer prices: 04.5.2 gas, France",
        publisher="INSEE",
        source_id="001763556",
        frequency="monthly",
        base="2015=100",
        oil_share=0.0,
        note="oil_share 0: no share of oil indexation is claimed for consumer gas prices (none measured here).",
        provenance=SRC_XLSX,
        _import=(XLSX, "001763556", {}),
    ),
    "HEAT": dict(
        title="Consumer prices: 04.5.5 heat energy (district heating), France",
        publisher="INSEE",
        source_id="001763563",
        frequency="monthly",
        base="2015=100",
        oil_share=0.0,
        note="oil_share 0: a mix of fuels whose oil part is not published.",
        provenance=SRC_XLSX,
        _import=(XLSX, "001763563", {}),
    ),
    "WOOD-SAWN-SOFTWOOD": dict(
        title="Imported sawn softwood price index, in euros (nearest genuine wood series; not a wood-fuel index)",
        publisher="INSEE",
        source_id="010002004",
        frequency="monthly",
        base="2010=100",
        oil_share=0.0,
        note="Stands in for a wood-fuel index, which is not in the store (see WOOD-CHIPS). oil_share 0.",
        provenance=SRC_RAW,
        _import=(RAW, "010002004", {}),
    ),
    "BRENT-EUR": dict(
        title="Brent crude oil (London), index in euros",
        publisher="INSEE",
        source_id="010002091",
        frequency="monthly",
        base="January 2010 = 100",
        oil_share=1.0,
        note="Crude oil itself: oil_share 1.",
        provenance=SRC_RAW,
        _import=(RAW, "010002091", {}),
    ),
    "BRENT-USD": dict(
        title="Brent crude oil spot price, monthly mean",
        publisher="FRED",
        source_id="MCOILBRENTEU",
        frequency="monthly",
        unit="USD/bbl",
        oil_share=1.0,
        note="Crude oil itself: oil_share 1.",
        provenance="FRED MCOILBRENTEU.csv of github.com/nikithareddy15/crude-oil-price-forecasting (commit 1c067981, 2023-01-26); rows dated by that commit (first seen)",
        _import=("fred-brent/MCOILBRENTEU.csv", None, {"published": date(2023, 1, 26)}),
    ),
    "CNR-GAZOLE": dict(
        title="CNR professional diesel index",
        publisher="CNR",
        frequency="monthly",
        base="December 2000 = 100",
        oil_share=1.0,
        note="Diesel: oil_share 1.",
        provenance="CNR file 'Indice CNR gazole professionnel_2022_2024.csv' of github.com/nvdrvni/ThesePro (commit e7db50fd, 2024-10-07), checked against cnr.fr; rows dated by that commit (first seen)",
        _import=(
            "cnr/Indice CNR gazole professionnel_2022_2024.csv",
            None,
            {"published": date(2024, 10, 7)},
        ),
    ),
    "IPC": dict(
        title="Consumer price index, all households, France, all items",
        publisher="INSEE",
        source_id="001759970",
        frequency="monthly",
        base="2015=100",
        oil_share=0.0,
        note="A broad consumer price index: oil_share 0 (energy is a small, mixed part).",
        provenance=SRC_XLSX,
        _import=(XLSX, "001759970", {}),
    ),
    "IPC-HT": dict(
        title="Consumer price index, all households, France, all items excluding tobacco",
        publisher="INSEE",
        source_id="001763852",
        frequency="monthly",
        base="2015=100",
        stopped="2025-12",
        oil_share=0.0,
        note="oil_share 0, as IPC. Three genuine downloads imported as vintages; they agree on every common month, so each period keeps one row dated by its JO publication.",
        provenance="INSEE BDM downloads: v2020-12 (github.com/ayoubakassoum/local_gvt, commit 3176f1a4, first seen 2023-02-06), v2025-12 with JO dates (github.com/MathisMallet/Model_elec_car_Fr, commit 0e99b66c), v2026-01 transposed with JO dates (github.com/yashvif/FURIA_Yashvi-_Final_Dissertation, commit 1b2327ad); the base-2015 series stops at 2025-12",
        _import=[
            (HT + "v2020-12_valeurs_mensuelles.csv", "001763852", {"published": date(2023, 2, 6)}),
            (HT + "v2025-12_valeurs_mensuelles.csv", "001763852", {}),
            (HT + "v2026-01_transposed_valeurs_mensuelles.csv", "001763852", {}),
        ],
    ),
    "ENERGY-PETROLEUM": dict(
        title="Consumer prices: energy, petroleum products, France",
        publisher="INSEE",
        source_id="001763842",
        frequency="monthly",
        base="2015=100",
        oil_share=1.0,
        note="Petroleum products: oil_share 1.",
        provenance=SRC_XLSX,
        _import=(XLSX, "001763842", {}),
    ),
    "BT01-1974": dict(
        title="BT01 building index, all trades, old base (January 1974 = 100), stopped September 2014",
        publisher="INSEE",
        frequency="monthly",
        base="January 1974 = 100",
        stopped="2014-09",
        oil_share=0.0,
        note="Construction costs: oil_share 0.",
        provenance=TRANSCRIBED + " (universimmo.com, adil13)",
        _import=("transcribed/BT01.csv", "janvier 1974", {"undated": True}),
    ),
    "BT01": dict(
        title="BT01 building index, all trades",
        publisher="INSEE",
        frequency="monthly",
        base="2010=100",
        oil_share=0.0,
        note="Construction costs: oil_share 0. Periods up to 2014-09 come from BT01-1974 / 8.3802.",
        provenance=TRANSCRIBED
        + " (abak.ec, bejuris.fr); coefficient 8.3802 from services.lemoniteur.fr",
        chain={
            "series": "BT01-1974",
            "until": "2014-09",
            "coefficient": 8.3802,
            "source": "coefficient de raccordement published with the base-2010 BT indices (services.lemoniteur.fr)",
        },
        _import=("transcribed/BT01.csv", "2010 = 100", {"undated": True}),
    ),
    "BT40": dict(
        title="BT40 building index, central heating (except electric)",
        publisher="INSEE",
        frequency="monthly",
        base="2010=100",
        oil_share=0.0,
        note="Construction costs: oil_share 0. Few points (2018, 2022-08); linking coefficient to the old base not found.",
        provenance=TRANSCRIBED + " (batirama.com, bejuris.fr)",
        _import=("transcribed/BT40.csv", "2010 = 100", {"undated": True}),
    ),
    "CNR-LD-EA-STRUCT": dict(
        title="CNR long-distance road haulage (LD EA): overhead costs component (charges de structure)",
        publisher="CNR",
        frequency="monthly",
        base="December 2000 = 100",
        oil_share=0.0,
        note="Overheads, without fuel: oil_share 0. A component of LD EA, not the LD EA index itself (TR-LD).",
        provenance=TRANSCRIBED + " (cnr.fr/espaces/10/indicateurs/58)",
        _import=("transcribed/CNR_LD_EA_charges_structure.csv", "LD EA", {"undated": True}),
    ),
    "CNR-REG-EA": dict(
        title="CNR regional road haulage index, articulated vehicles, diesel, full cost (REG EA)",
        publisher="CNR",
        frequency="monthly",
        base="December 2000 = 100",
        oil_share=0.33,
        note="oil_share 0.33 is an ESTIMATE: about a third of road-haulage cost moves with diesel.",
        provenance=TRANSCRIBED + " (cnr.fr/espaces/3/indicateurs/6)",
        _import=("transcribed/CNR_REG_EA.csv", "REG EA", {"undated": True}),
    ),
    "ICHT-IME": dict(
        title="Hourly labour cost, all employees, revised (ICHTrev-TS), mechanical and electrical industries (IME)",
        publisher="INSEE",
        frequency="monthly",
        base="December 2008 = 100",
        stopped="2023-09",
        oil_share=0.0,
        note="Labour cost: oil_share 0. INSEE stopped ICHTrev-TS in October 2023: contracts need a replacement index. Only two transcribed points.",
        provenance=TRANSCRIBED + " (svp.com, commoprices.com)",
        _import=("transcribed/ICHT_IME.csv", "décembre 2008", {"undated": True}),
    ),
    "ICHT-IME-1997": dict(
        title="Hourly labour cost, all employees (old ICHT-TS), mechanical and electrical industries (IME), old base",
        publisher="INSEE",
        frequency="monthly",
        base="October 1997 = 100",
        oil_share=0.0,
        note="Labour cost: oil_share 0. The series before ICHTrev-TS; no linking coefficient known.",
        provenance=TRANSCRIBED + " (BOCCRF n°16 of 26/09/1999)",
        _import=("transcribed/ICHT_IME.csv", "octobre 1997", {"undated": True}),
    ),
    "ICHT-BOIS": dict(
        title="Hourly labour cost, all employees (ICHTrev-TS), wood and paper industries",
        publisher="INSEE",
        frequency="monthly",
        oil_share=0.0,
        note="Labour cost: oil_share 0. ICHTrev-TS stopped in October 2023.",
        how_to_import=f"download the series from insee.fr ({LOOK_UP}) as CSV (valeurs_mensuelles.csv) and run: tariffs indices import valeurs_mensuelles.csv --source-id IDBANK --id ICHT-BOIS",
    ),
    "TR-LD": dict(
        title="CNR long-distance road haulage index, articulated vehicles, diesel (LD EA)",
        publisher="CNR",
        frequency="monthly",
        base="December 2000 = 100",
        oil_share=0.33,
        note="oil_share 0.33 is an ESTIMATE: about a third of road transport cost moves with diesel.",
        how_to_import="copy the LD EA index table from cnr.fr (Indicateurs > Longue distance) into a 'period;value' CSV and run: tariffs indices import FILE --id TR-LD --published YYYY-MM-DD",
    ),
    "IPP-BOIS": dict(
        title="Producer price index, products of wood working (CPF 16)",
        publisher="INSEE",
        frequency="monthly",
        oil_share=0.0,
        note="oil_share 0 (no oil share measured).",
        how_to_import=f"download the producer price series from insee.fr ({LOOK_UP}) as CSV and run: tariffs indices import valeurs_mensuelles.csv --source-id IDBANK --id IPP-BOIS",
    ),
    "ICHT-SERV": dict(
        title="Hourly labour cost, all employees (ICHTrev-TS), business services",
        publisher="INSEE",
        frequency="monthly",
        oil_share=0.0,
        note="Labour cost: oil_share 0. ICHTrev-TS stopped in October 2023.",
        how_to_import=f"download the series from insee.fr ({LOOK_UP}) as CSV and run: tariffs indices import valeurs_mensuelles.csv --source-id IDBANK --id ICHT-SERV",
    ),
    "BE": dict(
        title="Capital goods index (biens d'équipement)",
        publisher="INSEE",
        frequency="monthly",
        oil_share=0.0,
        note="oil_share 0 (no oil share measured).",
        how_to_import=f"download the series from insee.fr ({LOOK_UP}) as CSV and run: tariffs indices import valeurs_mensuelles.csv --source-id IDBANK --id BE",
    ),
    "WOOD-CHIPS": dict(
        title="CEEB wood-chip price index (plaquettes forestières)",
        publisher="CEEB",
        frequency="quarterly",
        oil_share=0.0,
        note="oil_share 0 (no oil share measured). Only two CEEB price points (EUR/t, not an index) were found: not imported.",
        how_to_import="copy the CEEB quarterly wood-chip index into a 'period;value' CSV (periods YYYY-Qn) and run: tariffs indices import FILE --id WOOD-CHIPS --published YYYY-MM-DD",
    ),
}


def catalog_skeleton() -> str:
    doc = tomlkit.document()
    doc.add(
        tomlkit.comment(
            "Bundled index series, built by scripts/build_indices.py from genuine files."
        )
    )
    doc.add(
        tomlkit.comment(
            "A series without `file` is declared but not available: see its how_to_import."
        )
    )
    for sid, spec in SERIES.items():
        table = tomlkit.table()
        for key, value in spec.items():
            if key != "_import" and key != "chain":
                table[key] = value
        if "chain" in spec:
            table["chain"] = spec["chain"]
        doc[sid] = table
    return tomlkit.dumps(doc)


def build(data: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "catalog.toml").write_text(catalog_skeleton(), encoding="utf-8")
    for sid, spec in SERIES.items():
        steps = spec.get("_import")
        for file, pick, options in [steps] if isinstance(steps, tuple) else steps or []:
            path = data / file
            ids = [pick] if pick and pick.isdigit() else []
            select = (
                (lambda s, p=pick: p in (s.base or "")) if pick and not pick.isdigit() else None
            )
            report = import_files(
                out, [path], source_ids=ids, series_id=sid, select=select, **options
            )
            for row in report.rows:
                print(
                    f"{sid:20} {row.first}..{row.last} {row.periods:4d} periods, +{row.added} rows  <- {file}"
                )
    load_store(out)  # the result must load


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("indices"))
    args = parser.parse_args()
    build(args.data, args.out)


if __name__ == "__main__":
    main()
