from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination

# No page is larger than this, whatever a client asks for (a cap against scraping and slow pages).
MAX_PAGE_SIZE = 200


class PagePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class CaseCursorPagination(CursorPagination):
    """Newest first, stable under inserts: a new case registered while a client pages through the
    queue does not shift the pages (an offset would show one case twice)."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
