"""``make bench``: three workloads, five ways each, on the same generated data.

``python -m benchmarks.run [--w1 N] [--w2 N] [--w3 N] [--quick] [--only W1,W3]``

For each workload: the bare scan of the input (the floor), tariffs (the library
call, result in memory), the ``tariffs`` command writing its CSV report
(``cli_s``), DuckDB SQL, lean polars (``lean_s``: one straightforward polars
query without validation, trace or exact decimals, :mod:`benchmarks.impl_lean`) and
per-row Python (on a prefix sample, extrapolated linearly), each in its own process
(:mod:`benchmarks.worker`) so times and peak memory are separate. The results of
DuckDB, lean polars, Python and the command's report are checked equal to tariffs'.
One JSON line per workload goes to standard output and to ``benchmarks/results.json``.

Notes
-----
Ratios: ``ratio_vs_duckdb = tariffs_s / duckdb_s``, ``speedup_vs_python =
python_s / tariffs_s``, ``ratio_vs_scan = tariffs_s / scan_s``, ``ratio_vs_lean =
tariffs_s / lean_s``. ``rows`` is the
number of input rows (portfolio rows = contract × term × index for W1/W2,
invoice lines for W3). Prices are equal when they differ by less than 1e-9;
audit findings when the sets of (line, code) are the same and, for DuckDB and
the command's report (whole files), when each line has as many findings of each
code with the same euros (within 1e-6).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from benchmarks.generate import DATA, write
from benchmarks.impl_cli import command

RESULTS = Path(__file__).parent / "results.json"
SIZES = {"W1": 100_000, "W2": 10_000, "W3": 10_000_000}
QUICK = {"W1": 2_000, "W2": 500, "W3": 50_000}
SAMPLE_SHARE = {"W1": 50, "W2": 10, "W3": 100}  # the per-row Python runs on 1/50 and 2/50, ...
CLI_SHOWN = {  # the commands of benchmarks/impl_cli.py, as the note shows them
    w.upper(): command(
        w, portfolio="PORTFOLIO", invoices="INVOICES", indices="indices", out="OUT.csv"
    )
    for w in ("w1", "w2", "w3")
}
LEAN_NOTE = {  # benchmarks/impl_lean.py
    w: "one straightforward polars query, same inputs and results, without validation, trace, exact "
       "decimals" + (" or euro figures and messages" if w == "W3" else "")
    for w in ("W1", "W2", "W3")
}  # fmt: skip
KEYS = {"W1": ["contract", "term", "at"], "W2": ["contract", "term", "at"], "W3": ["row", "code"]}


def main(argv: list[str] | None = None) -> int:
    a = _options(argv)
    if a.table:
        print(table(a.results or RESULTS))
        return 0
    sizes = dict(QUICK if a.quick else SIZES)
    sizes.update({k: v for k, v in (("W1", a.w1), ("W2", a.w2), ("W3", a.w3)) if v})
    wanted = [w.strip().upper() for w in a.only.split(",")] if a.only else list(SIZES)
    lines, ok = [], True
    with _progress(len(wanted) * 7) as step:
        for workload in wanted:
            step(f"{workload}: generating data")
            files = _data(workload, sizes, a)
            line, equal = measure(workload, files, a.indices, step, a.repeat)
            ok &= equal
            print(json.dumps(line), flush=True)
            lines.append(line)
    if a.results:
        _write_lines(a.results, lines)
    return 0 if ok else 1


def _options(argv):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[1]
    )
    p.add_argument("--w1", type=int, help=f"contracts revised in W1 (default {SIZES['W1']:,})")
    p.add_argument(
        "--w2", type=int, help=f"contracts of W2 and of W3's invoices (default {SIZES['W2']:,})"
    )
    p.add_argument("--w3", type=int, help=f"invoice lines audited in W3 (default {SIZES['W3']:,})")
    quick = ", ".join(f"{k} {v:,}" for k, v in QUICK.items())
    p.add_argument(
        "--quick", action="store_true", help=f"small sizes ({quick}); no results file written"
    )
    p.add_argument("--only", help="comma-separated workloads among W1, W2, W3, e.g. W1,W3")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated data (default 1)")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every implementation N times and keep its fastest run (default 1)",
    )
    p.add_argument(
        "--indices", type=Path, default=Path("indices"), help="index store (default indices)"
    )
    p.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="where generated inputs are kept and reused (default benchmarks/data)",
    )
    p.add_argument(
        "--results",
        type=Path,
        help="JSON lines file (default benchmarks/results.json; none with --quick)",
    )
    p.add_argument(
        "--table", action="store_true", help="print the results file as a Markdown table"
    )
    a = p.parse_args(argv)
    unknown = [w for w in (a.only or "").split(",") if w.strip() and w.strip().upper() not in SIZES]
    if unknown:
        p.error(f"--only: unknown workload(s) {', '.join(unknown)}; expected W1, W2 or W3")
    if a.results is None and not a.quick:
        a.results = RESULTS
    return a


def _data(workload: str, sizes: dict, a) -> dict[str, Path]:
    if workload == "W1":
        return write(sizes["W1"], 0, a.seed, a.indices, a.data)
    return write(sizes["W2"], sizes["W3"] if workload == "W3" else 0, a.seed, a.indices, a.data)


def measure(
    workload: str, files: dict[str, Path], indices: Path, step, repeat: int = 1
) -> tuple[dict, bool]:
    """Run the implementations of one workload; the JSON line and whether results agree."""
    rows = (
        pl.scan_parquet(files.get("invoices", files["portfolio"])).select(pl.len()).collect().item()
    )
    w = workload.lower()
    with tempfile.TemporaryDirectory() as tmp:
        out = {
            name: Path(tmp) / f"{name}.parquet"
            for name in ("scan", "tariffs", "cli", "duckdb", "lean", "python")
        }
        step(f"{workload}: scan")
        scan = _fastest(repeat, "tariffs", "scan", files, indices, out["scan"])
        step(f"{workload}: tariffs")
        tariffs = _fastest(repeat, "tariffs", w, files, indices, out["tariffs"])
        step(f"{workload}: tariffs command")
        cli = _fastest(repeat, "cli", w, files, indices, out["cli"])
        step(f"{workload}: duckdb")
        duckdb = _fastest(repeat, "duckdb", w, files, indices, out["duckdb"])
        step(f"{workload}: lean polars")
        lean = _fastest(repeat, "lean", w, files, indices, out["lean"])
        step(f"{workload}: per-row python (two samples)")
        sample = max(1_000, rows // SAMPLE_SHARE[workload])
        small = _fastest(repeat, "python", w, files, indices, out["python"], sample)
        python = _fastest(repeat, "python", w, files, indices, out["python"], 2 * sample)
        frames = {k: pl.read_parquet(v) for k, v in out.items() if k != "scan"}
    equal_duckdb = _mismatches(workload, frames["tariffs"], frames["duckdb"])
    equal_python = _mismatches(workload, frames["tariffs"], frames["python"], subset=True)
    equal_cli = _mismatches(workload, frames["tariffs"], frames["cli"])
    equal_lean = _mismatches(workload, frames["tariffs"], frames["lean"])
    setup = python.get("setup_seconds", 0.0)
    per_row, fixed = _line_through(small, python)
    python_s = setup + fixed + per_row * rows
    line = {
        "workload": workload, "rows": rows,
        "tariffs_s": round(tariffs["seconds"], 3), "duckdb_s": round(duckdb["seconds"], 3),
        "python_s": round(python_s, 1),
        "python_note": f"extrapolated linearly from the first {small['sample_rows']:,} and "
                       f"{python['sample_rows']:,} of {rows:,} rows ({small['seconds']:.2f} and "
                       f"{python['seconds']:.2f} s: {per_row * 1e6:.2f} µs a row after {fixed:.2f} s), plus "
                       f"{setup:.2f} s of one-off reading (index store; "
                       f"W3: also contracts, VAT rates)",
        "scan_s": round(scan["seconds"], 3),
        "ratio_vs_duckdb": round(tariffs["seconds"] / duckdb["seconds"], 2),
        "speedup_vs_python": round(python_s / tariffs["seconds"], 1),
        "ratio_vs_scan": round(tariffs["seconds"] / scan["seconds"], 2),
        "peak_rss_mb": round(tariffs["peak_rss_mb"]), "cores": os.cpu_count(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "result_rows": frames["tariffs"].height, "duckdb_peak_rss_mb": round(duckdb["peak_rss_mb"]),
        "mismatches_duckdb": equal_duckdb, "mismatches_python": equal_python, "repeat": repeat,
        "cli_s": round(cli["seconds"], 3), "cli_peak_rss_mb": round(cli["peak_rss_mb"]),
        "cli_note": "the command, CSV report written: tariffs " + " ".join(CLI_SHOWN[workload]),
        "mismatches_cli": equal_cli,
        "lean_s": round(lean["seconds"], 3), "ratio_vs_lean": round(tariffs["seconds"] / lean["seconds"], 2),
        "lean_note": LEAN_NOTE[workload], "mismatches_lean": equal_lean,
    }  # fmt: skip
    return line, equal_duckdb == 0 and equal_python == 0 and equal_cli == 0 and equal_lean == 0


def _line_through(small: dict, large: dict) -> tuple[float, float]:
    """Seconds per row and fixed seconds of the per-row Python from its runs on two prefixes (n
    and 2n rows): the fixed part (first reads, set-up of the loop) is not multiplied by the
    extrapolation. When noise makes the slope meaningless (not above zero), the larger run's
    average per row, with no fixed part."""
    rows = large["sample_rows"] - small["sample_rows"]
    per_row = (large["seconds"] - small["seconds"]) / rows if rows > 0 else 0.0
    if per_row <= 0:
        return large["seconds"] / large["sample_rows"], 0.0
    return per_row, max(small["seconds"] - per_row * small["sample_rows"], 0.0)


def _fastest(repeat: int, *args) -> dict:
    """The fastest of ``repeat`` runs (the machine is shared: noise only ever adds time)."""
    return min((_worker(*args) for _ in range(max(repeat, 1))), key=lambda r: r["seconds"])


def _worker(
    impl: str, workload: str, files: dict, indices: Path, out: Path, sample: int = 0
) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.worker", impl, workload, "--portfolio", str(files["portfolio"]),
           "--indices", str(indices), "--out", str(out), "--sample", str(sample)]  # fmt: skip
    if "invoices" in files:
        cmd += ["--invoices", str(files["invoices"])]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parents[1])
    if done.returncode != 0:
        raise SystemExit(f"{impl} {workload} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mismatches(workload: str, tariffs: pl.DataFrame, other: pl.DataFrame, subset=False) -> int:
    """Rows that differ between tariffs and another implementation (0: equal)."""
    keys = KEYS[workload]
    if workload == "W3":
        if subset:  # the sample is a prefix of the file: compare the lines it covers
            last = other["row"].max() if other.height else 1
            tariffs = tariffs.filter(pl.col("row") <= last)
        a, b = tariffs.select(keys).unique(), other.select(keys).unique()
        missing = a.join(b, on=keys, how="anti").height + b.join(a, on=keys, how="anti").height
        if subset:
            return missing
        if "difference_eur" not in other.columns:  # and a finding given twice is one too many
            return missing + abs(tariffs.height - other.height)
        return missing or _euros_differ(tariffs, other)
    how = "left" if subset else "full"
    joined = other.join(tariffs, on=keys, how=how, suffix="_t", coalesce=True)
    same = pl.all_horizontal(
        ((pl.col(c) - pl.col(f"{c}_t")).abs() < 1e-9) | (pl.col(c).is_null() & pl.col(f"{c}_t").is_null())
        for c in ("coefficient", "price")
    )  # fmt: skip
    return joined.filter(~same.fill_null(False)).height


def _euros_differ(tariffs: pl.DataFrame, other: pl.DataFrame) -> int:
    """Findings (as many of each line and code) whose euros differ by more than 1e-6, or are
    missing on one side: both sorted by line, code and euros, compared row by row."""
    cols = ["row", "code", "difference_eur"]
    a = tariffs.select(cols).cast({"row": pl.Int64}).sort(cols, nulls_last=True)
    b = other.select(cols).cast(a.schema).sort(cols, nulls_last=True)
    if a.height != b.height:
        return abs(a.height - b.height)
    d_a, d_b = a["difference_eur"], b["difference_eur"]
    same = (
        (a["row"] == b["row"])
        & (a["code"] == b["code"])
        & (((d_a - d_b).abs() <= 1e-6) | (d_a.is_null() & d_b.is_null())).fill_null(False)
    )
    return int((~same).sum())


def table(path: Path) -> str:
    """The results file as the Markdown table of the README."""
    head = ("| workload | rows | tariffs s | DuckDB s | per-row Python s (extrapolated) | scan s | "
            "tariffs / DuckDB | speed-up vs Python | tariffs / scan | peak RSS MB | command s (CSV written) "
            "| command peak MB | lean polars s | tariffs / lean | equal |")  # fmt: skip
    out = [head, "|---" * 15 + "|"]
    for t in (json.loads(x) for x in path.read_text().splitlines() if x.strip()):
        same = ("mismatches_duckdb", "mismatches_python", "mismatches_cli", "mismatches_lean")
        equal = "yes" if all(t.get(k, 0) == 0 for k in same) else "NO"
        out.append(f"| {t['workload']} | {t['rows']:,} | {t['tariffs_s']} | {t['duckdb_s']} | {t['python_s']} | "
                   f"{t['scan_s']} | {t['ratio_vs_duckdb']} | {t['speedup_vs_python']} | {t['ratio_vs_scan']} | "
                   f"{t['peak_rss_mb']:,} | {t.get('cli_s', '')} | {t.get('cli_peak_rss_mb', '')} | "
                   f"{t.get('lean_s', '')} | {t.get('ratio_vs_lean', '')} | {equal} |")  # fmt: skip
    return "\n".join(out)


def _write_lines(path: Path, lines: list[dict]) -> None:
    """Replace the lines of the workloads just run, keep the others; atomic."""
    old = (
        [json.loads(t) for t in path.read_text().splitlines() if t.strip()] if path.exists() else []
    )
    ran = {line["workload"] for line in lines}
    kept = sorted([o for o in old if o["workload"] not in ran] + lines, key=lambda x: x["workload"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(line) + "\n" for line in kept))
    tmp.replace(path)


def _progress(total: int):
    """A rich progress bar on a terminal (standard error); nothing when piped."""
    if not sys.stderr.isatty():
        return nullcontext(lambda description: None)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)  # fmt: skip
    task = progress.add_task("bench", total=total)
    done = [0]

    def step(description: str) -> None:
        progress.update(task, description=description, completed=done[0])
        done[0] += 1

    class _Bar:
        def __enter__(self):
            progress.start()
            return step

        def __exit__(self, *exc):
            progress.stop()

    return _Bar()


if __name__ == "__main__":
    sys.exit(main())
