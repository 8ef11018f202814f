"""The two wire formats of Open311 GeoReport v2: JSON, and the spec's XML.

One body (lists and dicts of text, numbers and booleans) is written either way. In XML a list is
an element holding one element per item, named as the GeoReport v2 wiki's examples name them
(``<services><service>``, ``<service_requests><request>``, ``<errors><error>``,
``<attributes><attribute>``, ``<values><value>``, and discovery's ``<endpoints><endpoint>`` and
``<formats><format>``); a dict is an element per key; ``None`` is left out, as in JSON. The
document is UTF-8, declared, with Chinese text written as itself.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from flask import Response

FORMATS = ("json", "xml")
#: The media type of each format (the v2.1 contract's ``produces``).
MEDIA = {"json": "application/json", "xml": "text/xml"}
#: The element of one item, by the name of its list.
ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute", "values": "value",
         "endpoints": "endpoint", "formats": "format"}
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
#: Characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def format_of(path: str) -> str:
    """The format a GeoReport path asks for: ``xml`` for a path ending in ``.xml``, else ``json``."""
    return "xml" if path.endswith(".xml") else "json"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("\ufffd", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, ITEMS[element.tag]), item)
    else:
        element.text = _text(value)


def to_xml(root: str, body: Any) -> bytes:
    """``body`` as an XML document whose root element is ``root`` (a list: items named by `ITEMS`)."""
    element = ET.Element(root)
    _fill(element, body)
    return (DECLARATION + ET.tostring(element, encoding="unicode")).encode("utf-8")


def response(body: Any, fmt: str, root: str, status: int = 200) -> Response:
    """``body`` in ``fmt`` (``root``: the name of its XML root element)."""
    if fmt == "xml":
        return Response(to_xml(root, body), status=status, mimetype=MEDIA["xml"])  # text/xml; charset=utf-8
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA["json"])


def errors(status: int, description: str, fmt: str) -> Response:
    """The spec's error list (``<errors><error><code/><description/></error></errors>``) of one error."""
    return response([{"code": status, "description": description}], fmt, "errors", status)
