"""Security-header values, importable from settings (no models, no app registry needed).

The web pages load every script and style from the project's own static files (htmx, Leaflet,
ECharts are vendored), so the policy allows ``'self'`` only and no inline script. Map tiles may come
from the intranet basemap (``YIWANG_TILE_URL``), whose origin is added to ``img-src``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.csp import CSP

# Features the pages never use are switched off; geolocation stays available to the project's own
# pages because the grid worker's phone page reports where a problem was found.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "geolocation": ["self"],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
}


def tile_origin(tile_url: str) -> str:
    """``https://t{s}.example.cn/{z}/{x}/{y}.png`` → ``https://*.example.cn`` (placeholders in the
    host become a wildcard label, as Leaflet fills ``{s}`` with a subdomain); ``""`` if none."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = parts.netloc
    if "{" in host:
        labels = host.split(".")
        # Only a leading placeholder label can be a CSP wildcard; any other one cannot be expressed.
        if "{" in "".join(labels[1:]) or len(labels) < 2:
            return f"{parts.scheme}:"
        host = ".".join(["*", *labels[1:]])
    return f"{parts.scheme}://{host}"


def csp_policy(tile_url: str = "") -> dict[str, list[str]]:
    """The ``SECURE_CSP`` dict for the web pages."""
    img_src = [CSP.SELF, "data:", "blob:"]
    origin = tile_origin(tile_url)
    if origin:
        img_src.append(origin)
    return {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF],
        "style-src": [CSP.SELF],
        "img-src": img_src,
        "font-src": [CSP.SELF, "data:"],
        "connect-src": [CSP.SELF],
        "worker-src": [CSP.SELF, "blob:"],
        "object-src": [CSP.NONE],
        "base-uri": [CSP.SELF],
        "form-action": [CSP.SELF],
        "frame-ancestors": [CSP.NONE],
    }


# Swagger UI and Redoc (drf-spectacular-sidecar, served from static files). Redoc's styled-components
# and Swagger UI inject <style> elements, and Redoc runs its search index in a blob: worker, so
# these two pages allow inline styles; scripts stay 'self' only (Swagger through the "split" view,
# whose initialiser is a script file instead of an inline block; Redoc without inline settings).
DOCS_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """``{"camera": [], "geolocation": ["self"]}`` → ``camera=(), geolocation=(self)``."""
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in policy.items())
