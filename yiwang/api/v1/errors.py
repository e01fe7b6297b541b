"""One error shape for the whole API: ``{"code": slug, "detail": 中文, "detail_en": English}`` plus
``"fields"`` for validation errors. Domain errors (:class:`CaseError`) keep their stable code."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from yiwang.cases.errors import (
    ActionForbidden,
    CaseConflict,
    CaseError,
    CaseNotFound,
    InvalidCaseInput,
    TransitionNotAllowed,
)

_CASE_ERROR_STATUS: tuple[tuple[type[CaseError], int], ...] = (
    (CaseNotFound, status.HTTP_404_NOT_FOUND),
    (CaseConflict, status.HTTP_409_CONFLICT),
    (TransitionNotAllowed, status.HTTP_409_CONFLICT),
    (ActionForbidden, status.HTTP_403_FORBIDDEN),
    (InvalidCaseInput, status.HTTP_400_BAD_REQUEST),
)


def _case_error_response(exc: CaseError) -> Response:
    code = next((c for cls, c in _CASE_ERROR_STATUS if isinstance(exc, cls)), status.HTTP_400_BAD_REQUEST)
    body: dict[str, Any] = {"code": exc.code, "detail": exc.zh, "detail_en": exc.en}
    field = getattr(exc, "field", "")
    if field:
        body["fields"] = {field: [exc.zh]}
    return Response(body, status=code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, CaseError):
        return _case_error_response(exc)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling and logging take over
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid",
            "detail": "输入有误, 请检查各字段",
            "detail_en": "Invalid input; see the fields",
            "fields": exc.detail,
        }
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        response.data = {
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
            "detail": str(detail),
            "detail_en": str(exc.default_detail),
        }
    return response
