"""The domain core: zone layers, the spatial index, routing, coverage and the report workflow.

Imports neither Flask nor the database, nor any file format.
"""
