"""Routing files of reports in batch, in memory or on a Dask cluster."""
