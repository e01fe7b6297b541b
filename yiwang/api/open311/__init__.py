"""Open311 GeoReport v2: the public face for citizen apps (JSON and XML, never personal data)."""
