"""Routing report histories larger than memory on a Dask cluster (dask-geopandas on
``distributed``): every partition is read, checked, routed and written by a worker, as
``part-NNNNN.parquet`` (GeoParquet); the client only collects the counts.

Each worker loads the zone layer once from ``LayerFiles`` (paths every worker must reach: a
shared folder on a real cluster) and routes exactly as `api.routing.batch.route_file` does, so the
output equals the in-process router's row for row.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import pandas as pd

from api.routing.batch import LayerFiles, decision_table, load_zone_layer, route_loaded
from geodata.io import RawLayer, table_to_frame
from geodata.load import load_raw
from zones.config import RoutingConfig
from zones.enums import LayerKind
from zones.layer import ZoneLayer

COUNTS_META = pd.DataFrame({"partition": pd.Series(dtype="int64"), "status": pd.Series(dtype="object"), "reports": pd.Series(dtype="int64")})


def read_partitions(path: Path, *, blocksize: str = "64MB", encoding: str = "utf-8") -> dd.DataFrame:
    """A lazy, partitioned view of a report file: GeoParquet (a file or a folder of parts) or CSV
    (text cells kept as text, exactly as the in-process reader keeps them)."""
    if path.suffix.lower() == ".parquet" or path.is_dir():
        return dask_geopandas.read_parquet(path)
    return dd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], blocksize=blocksize, encoding=encoding)


@lru_cache(maxsize=2)
def _worker_layer(files: LayerFiles) -> ZoneLayer:
    return load_zone_layer(files)


def route_partition(part: pd.DataFrame, files: LayerFiles, config: RoutingConfig, crs: str | None, out_dir: str,
                    partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
    """Route one partition and write it; return its counts per status."""
    number = int(partition_info["number"]) if partition_info else 0
    part = part.reset_index(drop=True)
    if isinstance(part, gpd.GeoDataFrame):
        raw = RawLayer(part, part.crs)
    else:
        raw = table_to_frame(part, source=f"partition {number}")
    loaded = load_raw(raw, LayerKind.REPORTS, source=f"partition {number}", crs=crs, strict=False)
    decisions = route_loaded(loaded, _worker_layer(files), config)
    decision_table(decisions).to_parquet(Path(out_dir) / f"part-{number:05d}.parquet", index=False)
    counts = decisions["status"].astype(str).value_counts()
    return pd.DataFrame({"partition": number, "status": counts.index.astype(object), "reports": counts.to_numpy(dtype="int64")})


def route_on_cluster(reports: Path, files: LayerFiles, config: RoutingConfig, out_dir: Path, *, scheduler: str | None = None,
                     workers: int | None = None, crs: str | None = None, blocksize: str = "64MB", encoding: str = "utf-8") -> dict[str, int]:
    """Route ``reports`` partition by partition on the cluster at ``scheduler`` (default: a
    LocalCluster of ``workers`` processes on 127.0.0.1) into ``out_dir``; return counts per status."""
    from distributed import Client, LocalCluster

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("part-*.parquet"):
        old.unlink()
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client:
            frame = read_partitions(reports, blocksize=blocksize, encoding=encoding)
            task = frame.map_partitions(route_partition, files, config, crs, str(out_dir.resolve()), meta=COUNTS_META)
            counts = client.compute(task).result()
    finally:
        if cluster is not None:
            cluster.close()
    return {str(k): int(v) for k, v in counts.groupby("status")["reports"].sum().items()}


def read_decisions(out_dir: Path) -> gpd.GeoDataFrame:
    """The written parts, in input order."""
    parts = sorted(out_dir.glob("part-*.parquet"))
    return pd.concat([gpd.read_parquet(p) for p in parts], ignore_index=True) if parts else gpd.GeoDataFrame()
