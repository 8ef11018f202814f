"""`warm` builds everything routing reads, and leaves a process that may fork its workers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd

from geodata.load import load_categories, load_layer
from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.router import route, warm


def _layer(demo_files):
    gpkg = demo_files.gpkg
    return ZoneLayer.build(load_layer(gpkg, "zones").frame, load_layer(gpkg, "test-points").frame, load_layer(gpkg, "areas").frame,
                           load_categories(demo_files.categories)[0], units=pd.read_csv(demo_files.units, dtype=str, keep_default_na=False))


def test_after_warm_routing_builds_nothing(demo_files):
    layer, config = _layer(demo_files), RoutingConfig()
    warm(layer, config)
    built, by_radius = set(layer.__dict__), dict(layer._by_radius)
    rng = np.random.default_rng(4)
    codes = layer.categories["code"].to_numpy(dtype=object)
    reports = pd.DataFrame({"lon": rng.uniform(120.25, 120.55, 3000), "lat": rng.uniform(36.15, 36.45, 3000),
                            "category": rng.choice(codes, 3000), "accuracy_m": rng.uniform(0, 60, 3000)})
    decisions = route(reports, layer, config)
    assert set(decisions["status"]) >= {"routed", "nearest", "fallback", "ambiguous", "department", "outside"}
    assert set(layer.__dict__) == built
    assert layer._by_radius == by_radius


FORKED = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import pandas as pd
    from geodata.load import load_categories, load_layer
    from zones.layer import ZoneLayer
    from zones.router import route_one, warm

    gpkg, categories, units = sys.argv[1:4]
    layer = ZoneLayer.build(load_layer(gpkg, "zones").frame, load_layer(gpkg, "test-points").frame, load_layer(gpkg, "areas").frame,
                            load_categories(categories)[0], units=pd.read_csv(units, dtype=str, keep_default_na=False))
    warm(layer)  # as a server does before forking its workers
    rng = np.random.default_rng(9)
    points = list(zip(rng.uniform(120.3, 120.5, 200), rng.uniform(36.2, 36.4, 200)))

    def decide():
        return [[getattr(route_one(x, y, "litter", layer, accuracy_m=10.0), k) for k in ("status", "zone_id", "unit_id")] for x, y in points]

    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write, json.dumps(decide()).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        in_child = json.loads(pipe.read())
    os.waitpid(child, 0)
    print(json.dumps({"child": in_child, "parent": decide()}))
""")


def test_a_worker_forked_after_warm_routes_like_its_parent(demo_files):
    out = subprocess.run([sys.executable, "-c", FORKED, str(demo_files.gpkg), str(demo_files.categories), str(demo_files.units)],
                         capture_output=True, text=True, timeout=300, check=True)
    answers = json.loads(out.stdout)
    assert len(answers["child"]) == 200
    assert answers["child"] == answers["parent"]
