"""One POST endpoint per case action, generated from a table so that every endpoint behaves the same:
fetch the case through the actor's scope (404 outside), validate the input's shape, call the action,
answer with the case as it is now. The action decides everything else and raises a ``CaseError``
(mapped to 400/403/404/409 by ``errors.exception_handler``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from yiwang.api.v1 import inputs
from yiwang.api.v1.permissions import actor_of
from yiwang.api.v1.serializers import CaseDetailSerializer
from yiwang.cases import actions as case_actions


@dataclass(frozen=True)
class CaseActionSpec:
    name: str  # the viewset attribute
    url_path: str
    function: Callable[..., Any]
    input: type[serializers.Serializer[Any]]
    summary: str
    with_files: bool = False


CASE_ACTIONS: tuple[CaseActionSpec, ...] = (
    CaseActionSpec(
        "answer_directly", "answer-directly", case_actions.answer_directly, inputs.AnswerInput, "直接答复"
    ),
    CaseActionSpec("invalidate", "invalidate", case_actions.invalidate, inputs.ReasonInput, "作废"),
    CaseActionSpec(
        "transfer_to_110", "transfer-to-110", case_actions.transfer_to_110, inputs.TransferTo110Input, "转110"
    ),
    CaseActionSpec("dispatch_case", "dispatch", case_actions.dispatch_case, inputs.DispatchInput, "派遣"),
    CaseActionSpec("sign", "sign", case_actions.sign_case, inputs.NoteInput, "签收"),
    CaseActionSpec("return_case", "return", case_actions.return_case, inputs.ReasonInput, "退单"),
    CaseActionSpec(
        "request_extension",
        "request-extension",
        case_actions.request_extension,
        inputs.ExtensionInput,
        "申请延期",
    ),
    CaseActionSpec(
        "approve_extension", "approve-extension", case_actions.approve_extension, inputs.NoteInput, "同意延期"
    ),
    CaseActionSpec(
        "reject_extension",
        "reject-extension",
        case_actions.reject_extension,
        inputs.RejectExtensionInput,
        "驳回延期",
    ),
    CaseActionSpec("urge", "urge", case_actions.urge_case, inputs.NoteInput, "催办"),
    CaseActionSpec("supervise", "supervise", case_actions.supervise_case, inputs.SuperviseInput, "督办"),
    CaseActionSpec(
        "progress",
        "progress",
        case_actions.report_progress,
        inputs.ProgressInput,
        "进展反馈 (可附文件)",
        True,
    ),
    CaseActionSpec(
        "resolve", "resolve", case_actions.resolve_case, inputs.ResolveInput, "办结 (可附照片)", True
    ),
    CaseActionSpec("merge", "merge", case_actions.merge_cases, inputs.MergeInput, "并单"),
    CaseActionSpec("suspend", "suspend", case_actions.suspend_case, inputs.ReasonInput, "挂账"),
    CaseActionSpec("resume", "resume", case_actions.resume_case, inputs.NoteInput, "恢复办理"),
    CaseActionSpec("verify", "verify", case_actions.verify_case, inputs.VerifyInput, "核查"),
    CaseActionSpec("callback", "callback", case_actions.record_callback, inputs.CallbackInput, "回访"),
    CaseActionSpec("reopen", "reopen", case_actions.reopen_case, inputs.ReopenInput, "二次办理"),
)

_JSON_PARSERS = [JSONParser, FormParser]
_FILE_PARSERS = [MultiPartParser, FormParser, JSONParser]


def build_case_action(spec: CaseActionSpec) -> Callable[..., Response]:
    def handler(self: Any, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        payload = spec.input(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = spec.function(case.pk, actor=actor_of(request), **payload.validated_data)
        return Response(CaseDetailSerializer(updated, context=self.get_serializer_context()).data)

    handler.__name__ = spec.name
    handler.__doc__ = f"{spec.summary}: calls cases.actions.{spec.function.__name__}."
    decorated = extend_schema(
        summary=spec.summary,
        request={
            ("multipart/form-data" if spec.with_files else "application/json"): spec.input,
            **({"application/json": spec.input} if spec.with_files else {}),
        },
        responses={status.HTTP_200_OK: CaseDetailSerializer},
        operation_id=f"cases_{spec.name}",
    )(handler)
    return action(
        detail=True,
        methods=["post"],
        url_path=spec.url_path,
        parser_classes=_FILE_PARSERS if spec.with_files else _JSON_PARSERS,
    )(decorated)


def install_case_actions(viewset: type) -> type:
    """Add one ``@action`` per :data:`CASE_ACTIONS` row to ``viewset`` (class decorator)."""
    for spec in CASE_ACTIONS:
        if hasattr(viewset, spec.name):
            raise TypeError(f"{viewset.__name__}.{spec.name} already exists")
        setattr(viewset, spec.name, build_case_action(spec))
    return viewset
