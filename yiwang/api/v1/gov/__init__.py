"""Staff API of the co-governance modules (issue 9), one module per app."""
