"""Delivery of Yiwang over HTTP for other systems: the staff REST API (``v1``) and the public
Open311 GeoReport v2 adapter (``open311``). Neither holds business logic: every write calls a domain
action, every read goes through a scoped queryset."""
