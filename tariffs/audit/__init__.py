"""Invoice audit: read an operator's invoice lines, recompute them, list the discrepancies.

Modules, in pipeline order: :mod:`invoices` (reader), :mod:`expected`
(prices and index values due, from the revision engine), :mod:`vat` (dated
VAT table), :mod:`checks` (the polars pipeline and its findings),
:mod:`settlement` (degree-day settlement of MCI/MTI contracts),
:mod:`report` (summary, xlsx report).
"""
