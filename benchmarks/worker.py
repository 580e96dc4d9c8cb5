"""Run one implementation of one workload in this process; print its time and peak memory.

``python -m benchmarks.worker IMPL WORKLOAD --portfolio P --indices DIR [--invoices F]
[--sample N] --out RESULT.parquet`` prints one JSON object: ``seconds`` (the work,
from reading the inputs to the result in memory; interpreter start-up and
imports excluded), ``peak_rss_mb`` (this process's peak resident memory,
imports included: ``VmHWM`` of /proc/self/status; ``ru_maxrss`` where there is none, which
on Linux also counts the parent's peak before the fork: the benchmark's parent may have
generated the data) and, for the per-row Python, ``sample_rows``. An implementation that
times itself (the per-row Python's sample, the command's run without reading its report
back) returns ``(frame, seconds, sample_rows or None[, setup_seconds])``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("impl", choices=["tariffs", "cli", "duckdb", "lean", "python"])
    p.add_argument("workload", choices=["w1", "w2", "w3", "scan"])
    p.add_argument("--portfolio", type=Path, required=True)
    p.add_argument("--indices", type=Path, default=Path("indices"))
    p.add_argument("--invoices", type=Path)
    p.add_argument("--sample", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    module = importlib.import_module(f"benchmarks.impl_{a.impl}")
    import polars  # noqa: F401  (imported before the clock starts, as every implementation uses it)

    kwargs = dict(portfolio=a.portfolio, indices=a.indices, invoices=a.invoices, sample=a.sample)
    t0 = time.perf_counter()
    result = getattr(module, a.workload)(**kwargs)
    seconds = time.perf_counter() - t0
    report = {}
    if isinstance(result, tuple):  # (frame, seconds of the work, rows processed: the Python sample)
        result, seconds, rows, *setup = result
        if setup:  # the per-row Python's one-off reading of the index store
            report["setup_seconds"] = setup[0]
        if rows is not None:
            report["sample_rows"] = rows
    report.update(seconds=seconds, peak_rss_mb=peak_rss_mb())
    result.write_parquet(a.out)
    print(json.dumps(report))


def peak_rss_mb() -> float:
    """This process's peak resident memory [MB] since it started (its own, not its parent's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
