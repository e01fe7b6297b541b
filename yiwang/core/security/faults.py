"""Clear answers to infrastructure faults instead of a bare 500.

:class:`FaultMiddleware` turns two failures that are nobody's bug into a response the client can act
on: a busy database (SQLite's "database is locked" after the busy timeout, a PostgreSQL lock or
serialization timeout) → 503 with ``Retry-After``; a full disk (``ENOSPC``/``EDQUOT`` while saving an
upload) → 507. Both happen inside the action's transaction, which has already rolled back, so the
client may simply retry (with the same idempotency key). Everything else is left to Django.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

BUSY_MARKERS = (
    "database is locked",
    "database table is locked",
    "database is busy",
    "could not obtain lock",
    "lock timeout",
    "deadlock detected",
    "could not serialize access",
)
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
DATABASE_BUSY_CODE = "database_busy"
STORAGE_FULL_CODE = "storage_full"
RETRY_AFTER_SECONDS = 5


def is_database_busy(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and any(m in str(exc).lower() for m in BUSY_MARKERS)


def is_disk_full(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # also when wrapped by another error
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
    return False


def _machine_client(request: HttpRequest) -> bool:
    prefixes = (str(getattr(settings, "YIWANG_API_PREFIX", "/api/")), "/open311/")
    return request.path_info.startswith(prefixes) or "application/json" in request.headers.get("accept", "")


def fault_response(request: HttpRequest, status: int, code: str, zh: str, en: str) -> HttpResponse:
    response: HttpResponse
    if _machine_client(request):
        response = JsonResponse({"code": code, "detail": zh, "detail_en": en}, status=status)
    else:
        response = HttpResponse(f"{zh} / {en}", status=status, content_type="text/plain; charset=utf-8")
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class FaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_busy(exception):
            logger.warning("database busy on %s %s: %s", request.method, request.path, exception)
            return fault_response(
                request,
                503,
                DATABASE_BUSY_CODE,
                f"系统繁忙（数据库被占用），本次操作未保存，请 {RETRY_AFTER_SECONDS} 秒后重试。",
                f"The system is busy (database locked): nothing was saved; retry in {RETRY_AFTER_SECONDS} s.",
            )
        if is_disk_full(exception):
            logger.error("storage full on %s %s: %s", request.method, request.path, exception)
            return fault_response(
                request,
                507,
                STORAGE_FULL_CODE,
                "服务器存储空间不足，本次提交（含附件）未保存，请稍后重试并通知管理员。",
                "The server's storage is full: nothing (neither the record nor its attachments) was saved.",
            )
        return None
