"""The audit and `revise` agree on which index period `latest-published` takes (publication dates)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tariffs.cli import main

CONTRACT = """id = "lp"
title = "latest-published"
start = 2019-01-01
[revision]
frequency = "yearly"
month = 1
index_rule = "latest-published"
coefficient_decimals = 4
price_decimals = 2
[[terms]]
code = "P2"
unit = "EUR/year"
base_period = "2018-11"
base_price = 10000
fixed = 0.15
  [[terms.indices]]
  series = "I"
  weight = 0.85
"""
# values of INSEE's CPI excluding tobacco (001763852); publication dates chosen for the test:
# November 2019 published late (10 January 2020), so on 2020-01-01 October is the latest
VALUES = """period,value,status,published
2018-11,102.86,definitive,2018-12-14
2019-10,103.96,definitive,2019-11-14
2019-11,103.92,definitive,2020-01-10
2019-12,104.39,definitive,2020-01-16
"""


def test_audit_takes_the_period_revise_takes(tmp_path):
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "catalog.toml").write_text(
        '[I]\ntitle = "CPI"\npublisher = "INSEE"\nfrequency = "monthly"\nfile = "I.csv"\n'
    )
    (tmp_path / "idx" / "I.csv").write_text(VALUES)
    (tmp_path / "lp.toml").write_text(CONTRACT)
    runner = CliRunner()
    idx = ["--indices", str(tmp_path / "idx")]
    revised = json.loads(runner.invoke(main, ["revise", str(tmp_path / "lp.toml"), *idx, "--at", "2020-01",
                                              "--format", "json"]).stdout)[0]  # fmt: skip
    assert revised["indices"][0]["period"] == "2019-10"
    price = revised["price"]
    invoice = tmp_path / "inv.csv"
    invoice.write_text(
        "contract,term,period,quantity,unit_price,amount_excl_vat,index:I\n"
        f"lp,P2,2020-03,1,{price},{price},103.96\n"
    )
    result = runner.invoke(main, ["audit", str(invoice), "--contracts", str(tmp_path / "lp.toml"), *idx,
                                  "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []
