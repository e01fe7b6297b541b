"""Open311 output: one Python structure, written as JSON or as schemaless XML.

The JSON form is the spec's "Spark convention" mapping of the XML: the XML root element is dropped,
repeating containers become arrays (even with one item), empty leaves become ``null``. So every
method builds the JSON-shaped value and names the XML root; :func:`to_xml` adds the element names
of repeated children from :data:`ITEM_NAMES`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
FORMATS = ("json", "xml")

# Container element → the element name of each item (GeoReport v2 and the FixMyStreet extension).
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "service_request_updates": "request_update",
}
# Characters XML 1.0 cannot carry at all (control characters other than tab, LF, CR).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _leaf(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        item_name = ITEM_NAMES[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_name), item)
    else:
        element.text = _leaf(value)


def to_xml(root: str, value: Any) -> str:
    """``value`` (the JSON-shaped structure) as an XML document under ``root``."""
    element = ET.Element(root)
    _fill(element, value)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode")


def render(value: Any, fmt: str, root: str, *, status: int = 200) -> HttpResponse:
    """The response for ``value`` in ``fmt`` (``json`` or ``xml``); UTF-8 either way."""
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False)
        return HttpResponse(body.encode(), content_type=JSON_TYPE, status=status)
    return HttpResponse(to_xml(root, value).encode(), content_type=XML_TYPE, status=status)


def error_body(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def render_error(fmt: str, status: int, description: str, *, code: int | None = None) -> HttpResponse:
    """An Open311 error list (``[{"code": …, "description": …}]`` / ``<errors><error>…``)."""
    return render(error_body(code or status, description), fmt, "errors", status=status)
