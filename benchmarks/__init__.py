"""The benchmark harness of the scale issue: ``python -m benchmarks.run`` (``make bench``).

Modules: :mod:`generate` (seeded synthetic portfolio and invoice lines on the
bundled genuine index series), :mod:`impl_tariffs`, :mod:`impl_duckdb`,
:mod:`impl_python` (three implementations of each workload), :mod:`worker`
(runs one implementation in its own process, timed, with its peak memory),
:mod:`run` (orchestration, equality checks, JSON lines). See docs/performance.md.
"""
