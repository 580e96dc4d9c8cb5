"""tariffs: revise and audit the prices of French heating contracts.

Pipeline: contract files (``contract``) and index series (``series``) are read at
the edge; ``revision`` computes coefficients and prices as a polars pipeline;
``audit`` and ``exposure`` build on it; ``report`` renders; ``cli`` is thin.
"""

__version__ = "0.1.0"
