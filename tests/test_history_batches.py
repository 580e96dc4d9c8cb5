"""``history`` by batches of contracts (bounded memory): the same report and messages as one run."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from tariffs.contract import load_contracts
from tariffs.output import Rendered, batch_chunks, csv_chunks, json_chunks
from tariffs.periods import parse_month
from tariffs.portfolio import read_portfolio
from tariffs.revision import batch_problems, history, history_batches
from tariffs.series import load_store

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package: run from the checkout
from benchmarks.generate import portfolio  # noqa: E402


@pytest.fixture(scope="module")
def store():
    return load_store(ROOT / "indices")


@pytest.fixture(scope="module")
def generated(store, tmp_path_factory):
    path = tmp_path_factory.mktemp("hist") / "p.parquet"
    portfolio(120, store, seed=5).write_parquet(path)
    return read_portfolio(path, store.catalog)


@pytest.mark.parametrize("size", [1, 7, 10_000])
def test_batches_give_the_report_and_messages_of_one_run(store, generated, size):
    # a window past the store's end: many missing values, hence messages
    first, last = parse_month("2015-01"), parse_month("2024-12")
    for inputs in (generated, load_contracts([ROOT / "contracts"], store.catalog)):
        whole = history(inputs, store, first, last)
        batches = list(history_batches(inputs, store, first, last, size=size))
        for fmt, single in (("csv", csv_chunks), ("json", json_chunks)):
            assert "".join(batch_chunks(batches, fmt)) == "".join(single(Rendered(whole)))
        assert (
            whole.problems and batch_problems([b.missing for b in batches], store) == whole.problems
        )


def test_the_command_streams_the_same_file(store, tmp_path):
    from click.testing import CliRunner

    from tariffs.cli import main

    args = ["history", str(ROOT / "contracts"), "--indices", str(ROOT / "indices"),
            "--from", "2000-01", "--to", "2024-12", "--format", "json"]  # fmt: skip
    done = CliRunner().invoke(main, args)
    whole = history(load_contracts([ROOT / "contracts"], store.catalog), store,
                    parse_month("2000-01"), parse_month("2024-12"))  # fmt: skip
    assert done.stdout == "".join(json_chunks(Rendered(whole)))
    assert all(p in done.stderr for p in whole.problems)
    assert io.StringIO(done.stdout).readline() == "[\n"
