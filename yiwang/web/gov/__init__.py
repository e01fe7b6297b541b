"""Web pages of the co-governance modules (issue 9), one module per app; URL names live in a
nested namespace, e.g. ``web:projects:list``."""
