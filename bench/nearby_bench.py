"""The duplicate lookup at scale: a worker's R-tree of open reports (`api.reports.open_reports`)
against a PostGIS GiST query on the same points, at 10^4, 10^5 and 10^6 open reports, measured in
the same run.

The reports lie in the demo district's box, a third of them in clusters (the same bins and
stalls reported again and again), spread over the demo's categories. Each lookup asks for the
open reports of one campaign group within 50 m of a point near an existing report; the R-tree
answers in this process, PostGIS through ``ST_DWithin`` on a geography column with a GiST index
(one prepared statement, one round trip on loopback). Latencies are p50 and p99 over ``--lookups``
points; building either index is timed apart. PostGIS comes from Debian
(``apt-get install postgresql-15-postgis-3``).

    python bench/nearby_bench.py [--sizes 10000,100000,1000000] [--lookups 2000] [--dsn postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from api.reports.open_reports import OpenReports

BOX = (120.28, 36.20, 120.52, 36.45)  # the demo district's extent (lon, lat)
CATEGORIES = ("litter", "overflowing_bin", "illegal_ads", "street_vending", "outdoor_display", "bike_clutter", "illegal_parking", "broken_facility")
SANITATION = frozenset({"litter", "overflowing_bin", "illegal_ads"})


def points(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` report positions and categories: two thirds uniform, a third in tight clusters."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BOX[0], BOX[2], count)
    lat = rng.uniform(BOX[1], BOX[3], count)
    clustered = rng.random(count) < 1 / 3
    centres = rng.integers(0, max(count // 20, 1), count)
    lon[clustered] = BOX[0] + (BOX[2] - BOX[0]) * ((centres[clustered] * 0.6180339887) % 1) + rng.normal(0, 0.0002, clustered.sum())
    lat[clustered] = BOX[1] + (BOX[3] - BOX[1]) * ((centres[clustered] * 0.7548776662) % 1) + rng.normal(0, 0.0002, clustered.sum())
    return lon, lat, rng.choice(np.array(CATEGORIES), count)


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    now = datetime.now(UTC)
    print(f"{'open':>9} {'engine':<9} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'found/lookup':>13}")
    for size in (int(s) for s in args.sizes.split(",")):
        lon, lat, category = points(size, seed=size)
        probes = np.random.default_rng(7).integers(0, size, args.lookups)
        near_lon, near_lat = lon[probes] + 0.0001, lat[probes] + 0.0001  # about 14 m from an existing report
        started = time.perf_counter()
        index = OpenReports(days=7)
        received = now - timedelta(days=1)
        index.load(((i, float(x), float(y), str(c), received, None, "dispatched") for i, (x, y, c) in enumerate(zip(lon, lat, category, strict=True), start=1)),
                   now)
        built = time.perf_counter() - started
        times, found = [], 0
        for x, y in zip(near_lon, near_lat, strict=True):
            start = time.perf_counter()
            found += len(index.near(float(x), float(y), SANITATION))
            times.append((time.perf_counter() - start) * 1000)
        p50, p99 = percentiles(times)
        print(f"{size:>9,} {'R-tree':<9} {built:>8.1f} {p50:>8.3f} {p99:>8.3f} {found / args.lookups:>13.2f}")
        schema = f"nearby_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.dsn, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            connection.execute(f"CREATE SCHEMA {schema}")
            connection.execute(f"SET search_path = {schema}, public")
            started = time.perf_counter()
            connection.execute("CREATE TABLE reports (id integer PRIMARY KEY, category text, place geography(Point, 4326))")
            with connection.cursor().copy("COPY reports (id, category, place) FROM STDIN") as copy:
                for i, (x, y, c) in enumerate(zip(lon, lat, category, strict=True), start=1):
                    copy.write_row((i, str(c), f"SRID=4326;POINT({x} {y})"))
            connection.execute("CREATE INDEX ON reports USING gist (place)")
            connection.execute("ANALYZE reports")
            built = time.perf_counter() - started
            query = ("SELECT id, ST_Distance(place, ST_MakePoint(%s, %s)::geography) AS d FROM reports "
                     "WHERE category = ANY(%s) AND ST_DWithin(place, ST_MakePoint(%s, %s)::geography, 50) ORDER BY d")
            times, found = [], 0
            with connection.cursor() as cursor:
                groups = list(SANITATION)
                for x, y in zip(near_lon, near_lat, strict=True):
                    start = time.perf_counter()
                    cursor.execute(query, (float(x), float(y), groups, float(x), float(y)), prepare=True)
                    found += len(cursor.fetchall())
                    times.append((time.perf_counter() - start) * 1000)
            p50, p99 = percentiles(times)
            print(f"{size:>9,} {'PostGIS':<9} {built:>8.1f} {p50:>8.3f} {p99:>8.3f} {found / args.lookups:>13.2f}")
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
