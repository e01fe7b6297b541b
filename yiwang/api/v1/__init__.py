"""The staff REST API: one viewset per domain object, one POST endpoint per case action."""
