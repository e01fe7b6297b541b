"""The server-rendered pages (issue 6), one module per page."""
