"""Hostile input against the real server: Schemathesis with every check and its stateful phase
against our /openapi.json, and against the Open311 GeoReport v2.1 contract on /open311/v2.
Zero server errors and zero schema violations are required."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.reports.test_reports import REPORT
from tests.support.server import call, create_token, serving

ST = str(Path(sys.executable).parent / "st")
CONTRACT = Path(__file__).parents[2] / "contracts" / "georeport_v2-1.yaml"
EXAMPLES = int(os.environ.get("ZONEMAP_SCHEMATHESIS_EXAMPLES", "4"))  # per operation and phase; more by hand
pytestmark = pytest.mark.slow

OWN_CONFIG = """
# Upload contents (an image, a GeoPackage) cannot be described by a schema: a 422 for a random file
# is right. A page's form is refused (400) without the CSRF token its page gives it, and a generated
# form has none. (One block: Schemathesis applies the first block that sets a check.)
[[operations]]
include-path-regex = "^(/api/v1/(photos|layers.*)|/(login|logout|report|admin/users.*|console/reports/.*|console/layers.*))$"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]

# OGC API – Features items: a limit above the declared maximum is served as the maximum, not refused
# (/req/core/fc-limit-response-1 C); a bbox with south above north or beyond ±90/±180, an inverted datetime
# interval, or a queryable of another collection is refused (400), which one schema for every collection cannot say.
[[operations]]
include-path-regex = '^/ogc/collections/\\{collection\\}/items$'
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404"]
checks.negative_data_rejection.expected-statuses = ["200", "400", "404"]

# A place at the very edge of China's box in a shifted system (BD-09, GCJ-02) leaves the box once
# converted to WGS84, which no schema can say: it is refused (422), as a swapped pair is.
[[operations]]
include-path-regex = "^/api/v1/route$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "422"]

# A coverage map or a download takes seconds to draw: a few cases suffice.
[[operations]]
include-path-regex = "^/(maps/coverage|coverage|console/plan.*)$"
generation.max-examples = 2

[parameters]
"path.unit_id" = "P06"
"path.zone_id" = "Z01439"
"path.collection" = "zones"
"path.feature_id" = "Z01439"
"path.service_code" = "litter"
"path.token_id" = "1"
"path.path" = "leaflet/leaflet.css"
"""

OPEN311_CONFIG = """
[parameters]
"path.response_format" = "{format}"
"query.jurisdiction_id" = "370214"
"query.service_code" = "litter"
"query.lat" = 36.31
"query.long" = 120.40
"path.service_code" = "litter"
"path.service_request_id" = "1"
"path.token_id" = "1"
"""


def schemathesis(args: list[str], config: str, tmp_path: Path) -> tuple[str, int]:
    """Run the Schemathesis CLI; return its output and the number of test cases it generated."""
    path = tmp_path / "schemathesis.toml"
    path.write_text(config, encoding="utf-8")
    # One worker: with two, Hypothesis describes strategies with ast.parse on two threads at once,
    # which CPython 3.11 up to 3.11.7 can fail with a spurious "AST constructor recursion depth
    # mismatch" SystemError (python/cpython#106905), an error of the tool, not of the server.
    done = subprocess.run([ST, "--config-file", str(path), "run", *args, "--workers", "1", "--seed", "20261128", "--no-color"],
                          capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    output = done.stdout + done.stderr
    cases = re.search(r"(\d+) generated", output)
    print(output[-3000:])
    assert done.returncode == 0, output[-6000:]
    return output, int(cases.group(1)) if cases else 0


@pytest.fixture
def live(demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": f"sqlite:///{tmp_path / 'zonemap.sqlite'}"}
    token = create_token(env, tmp_path)
    with serving(env, tmp_path) as base:
        status, _ = call("POST", base + "/api/v1/reports", REPORT, token)  # report 1, for the paths that name one
        assert status == 201
        yield base, token


def test_openapi_document_all_checks_and_stateful(live, tmp_path):
    base, token = live
    _, cases = schemathesis([f"{base}/openapi.json", "-H", f"Authorization: Bearer {token}", "--checks", "all",
                             "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", str(EXAMPLES)], OWN_CONFIG, tmp_path)
    assert cases > 500


@pytest.mark.parametrize("response_format", ["json", "xml"])
def test_open311_contract(live, tmp_path, response_format):
    """Both formats; an XML body is checked for its status and media type (Schemathesis reads JSON
    bodies only: the XML shapes are checked in tests/api/reports/test_open311.py)."""
    base, token = live
    checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
    _, cases = schemathesis([str(CONTRACT), "--url", f"{base}/open311/v2", "-H", f"Authorization: Bearer {token}", "--checks", checks,
                             "--max-examples", str(EXAMPLES)], OPEN311_CONFIG.format(format=response_format), tmp_path)
    assert cases > 50
