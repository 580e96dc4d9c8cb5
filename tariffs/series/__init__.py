"""The index store: catalog, series values with their vintages, chaining.

Readers of publisher formats live in :mod:`tariffs.series.readers`.
"""

from tariffs.series.catalog import Chain, SeriesInfo, load_catalog
from tariffs.series.store import IndexStore, load_store

__all__ = ["Chain", "IndexStore", "SeriesInfo", "load_catalog", "load_store"]
