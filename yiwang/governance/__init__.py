"""Co-governance and accountability (issue 9): one Django app per working method, each reusing the
case pipeline, scoping, deadlines, the map and analytics."""
