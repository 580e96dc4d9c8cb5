"""Oil exposure of revision formulas: direct oil weight, history statistics, shocks, plots.

See docs/exposure.md for every method; the modules:

- ``paths``: the monthly K path of each term (the formula on each month's index
  values) and the contract's coefficient at its revision dates (the engine);
- ``stats``: volatility, 12-month moves, worst year, variance shares, elasticity;
- ``shocks``: ``--shock SERIES=+50%`` / ``oil=+50%`` and their effect;
- ``analysis``: :func:`exposure`, the report rows of INTERFACE.md;
- ``plot``: the PNG of K over time with the oil reference.
"""

from tariffs.exposure.analysis import DEFAULT_REFERENCE, ExposureReport, exposure
from tariffs.exposure.shocks import Shock, parse_shock

__all__ = ["DEFAULT_REFERENCE", "ExposureReport", "Shock", "exposure", "parse_shock"]
