"""Routing files of reports on a Dask cluster."""
