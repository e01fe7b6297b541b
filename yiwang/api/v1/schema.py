"""Post-processing of the generated OpenAPI schema."""

from __future__ import annotations

from typing import Any

# Integer bounds that Django derives from the database backend (PositiveIntegerField is 0..2^31-1 on
# PostgreSQL and 0..2^63-1 on SQLite). They say nothing about the API, and leaving them in would make
# the committed contract depend on the database it was generated against.
_BACKEND_BOUNDS = frozenset({2**15 - 1, -(2**15), 2**31 - 1, -(2**31), 2**63 - 1, -(2**63)})


def _strip(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("maximum", "minimum"):
                if node.get(key) in _BACKEND_BOUNDS:
                    del node[key]
            if node.get("format") == "int64":
                del node["format"]
        for value in node.values():
            _strip(value)
    elif isinstance(node, list):
        for value in node:
            _strip(value)


def drop_backend_integer_bounds(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: remove database-specific integer bounds."""
    _strip(result)
    return result
