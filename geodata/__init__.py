"""Geodata I/O, coordinate systems and the bundled Chengyang demo data."""
