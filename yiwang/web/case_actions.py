"""The actions a case page offers: which form each uses and which ``cases.actions`` function it
calls. What is *offered* follows the workflow table (``workflow.allowed``) for the user's roles and
the case's state; the action function checks everything again when the form is posted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.cases import actions, workflow
from yiwang.cases.choices import Satisfaction
from yiwang.cases.errors import InvalidCaseInput
from yiwang.cases.models import Case
from yiwang.core.scoping import scope_of
from yiwang.people.models import Role, User
from yiwang.web import forms as f

Run = Callable[[Case, User, dict[str, Any]], Case]


@dataclass(frozen=True)
class CaseAction:
    name: str  # in the URL; the workflow transition(s) it stands for are ``transitions``
    label: Promise
    form: type[f.ActionForm]
    run: Run
    transitions: tuple[str, ...]
    multipart: bool = False
    danger: bool = False


def _merge(case: Case, actor: User, d: dict[str, Any]) -> Case:
    target = Case.objects.visible_to(actor).filter(number=d["into"].strip()).only("pk").first()
    if target is None:
        raise InvalidCaseInput(
            "目标案件不存在或不可见", "the target case does not exist or is not visible", field="into"
        )
    return actions.merge_cases(case, actor=actor, into=target.pk, note=d["note"], **d["expect"])


ACTIONS: tuple[CaseAction, ...] = (
    CaseAction(
        "dispatch",
        _("派遣"),
        f.DispatchForm,
        lambda c, a, d: actions.dispatch_case(
            c, actor=a, lead=d["lead"], assisting=list(d["assisting"]), note=d["note"], **d["expect"]
        ),
        ("dispatch",),
    ),
    CaseAction(
        "sign",
        _("签收"),
        f.NoteForm,
        lambda c, a, d: actions.sign_case(c, actor=a, note=d["note"], **d["expect"]),
        ("sign",),
    ),
    CaseAction(
        "report_progress",
        _("进展反馈"),
        f.ProgressForm,
        lambda c, a, d: actions.report_progress(
            c, actor=a, note=d["note"], attachments=d["attachments"], **d["expect"]
        ),
        ("report_progress",),
        multipart=True,
    ),
    CaseAction(
        "resolve",
        _("办结"),
        f.ResolveForm,
        lambda c, a, d: actions.resolve_case(
            c, actor=a, result=d["result"], photos=d["attachments"], **d["expect"]
        ),
        ("resolve",),
        multipart=True,
    ),
    CaseAction(
        "request_extension",
        _("申请延期"),
        f.ExtensionForm,
        lambda c, a, d: actions.request_extension(
            c, actor=a, reason=d["reason"], amount=d["amount"], unit=d["unit"] or None, **d["expect"]
        ),
        ("request_extension",),
    ),
    CaseAction(
        "return",
        _("退单"),
        f.ReasonForm,
        lambda c, a, d: actions.return_case(c, actor=a, reason=d["reason"], **d["expect"]),
        ("return",),
        danger=True,
    ),
    CaseAction(
        "approve_extension",
        _("同意延期"),
        f.NoteForm,
        lambda c, a, d: actions.approve_extension(c, actor=a, note=d["note"], **d["expect"]),
        ("approve_extension",),
    ),
    CaseAction(
        "reject_extension",
        _("驳回延期"),
        f.ReasonForm,
        lambda c, a, d: actions.reject_extension(c, actor=a, reason=d["reason"], **d["expect"]),
        ("reject_extension",),
    ),
    CaseAction(
        "verify",
        _("核查"),
        f.VerifyForm,
        lambda c, a, d: actions.verify_case(c, actor=a, passed=d["passed"], note=d["note"], **d["expect"]),
        ("verify_pass", "verify_fail"),
    ),
    CaseAction(
        "callback",
        _("回访"),
        f.CallbackForm,
        lambda c, a, d: actions.record_callback(
            c,
            actor=a,
            contacted=d["contacted"],
            solved=d["solved"],
            satisfaction=d["satisfaction"] or None,
            note=d["note"],
            **d["expect"],
        ),
        ("callback",),
    ),
    CaseAction(
        "reopen",
        _("二次办理"),
        f.ReopenForm,
        lambda c, a, d: actions.reopen_case(c, actor=a, lead=d["lead"], note=d["note"], **d["expect"]),
        ("reopen",),
    ),
    CaseAction(
        "answer_directly",
        _("直接答复"),
        f.AnswerForm,
        lambda c, a, d: actions.answer_directly(c, actor=a, answer=d["answer"], **d["expect"]),
        ("answer_directly",),
    ),
    CaseAction(
        "urge",
        _("催办"),
        f.NoteForm,
        lambda c, a, d: actions.urge_case(c, actor=a, note=d["note"], **d["expect"]),
        ("urge",),
    ),
    CaseAction(
        "supervise",
        _("督办"),
        f.SuperviseForm,
        lambda c, a, d: actions.supervise_case(c, actor=a, level=d["level"], note=d["note"], **d["expect"]),
        ("supervise",),
    ),
    CaseAction(
        "suspend",
        _("挂账"),
        f.ReasonForm,
        lambda c, a, d: actions.suspend_case(c, actor=a, reason=d["reason"], **d["expect"]),
        ("suspend",),
    ),
    CaseAction(
        "resume",
        _("恢复办理"),
        f.NoteForm,
        lambda c, a, d: actions.resume_case(c, actor=a, note=d["note"], **d["expect"]),
        ("resume",),
    ),
    CaseAction("merge", _("并单"), f.MergeForm, _merge, ("merge",)),
    CaseAction(
        "transfer_to_110",
        _("转110"),
        f.TransferForm,
        lambda c, a, d: actions.transfer_to_110(
            c, actor=a, receipt_number=d["receipt_number"], note=d["note"], **d["expect"]
        ),
        ("transfer_to_110",),
    ),
    CaseAction(
        "invalidate",
        _("作废"),
        f.ReasonForm,
        lambda c, a, d: actions.invalidate(c, actor=a, reason=d["reason"], **d["expect"]),
        ("invalidate",),
        danger=True,
    ),
)
BY_NAME = {a.name: a for a in ACTIONS}

_LEAD_ONLY = frozenset({"sign", "return", "request_extension", "resolve"})


def _department_fits(case: Case, user: User, transition: str) -> bool:
    """Department actions are offered only to the lead department (progress: any handling one)."""
    if transition not in _LEAD_ONLY and transition != "report_progress":
        return True
    scope = scope_of(user)
    if scope.everything:
        return True
    mine = scope.department_ids
    if case.lead_department_id in mine:
        return True
    if transition == "report_progress":
        return case.assignments.filter(active=True, department_id__in=sorted(mine)).exists()
    return False


def _state_fits(case: Case, transition: str) -> bool:
    if transition == "reopen":
        return case.satisfaction == Satisfaction.UNSATISFIED
    if transition in ("approve_extension", "reject_extension"):
        return case.extension_amount is not None
    if transition == "request_extension":
        return case.extension_amount is None
    if transition == "callback":
        return not case.satisfaction
    return True


def offered(case: Case, user: User, roles: frozenset[str]) -> list[CaseAction]:
    """The actions to show on ``case`` for ``user``: allowed by the workflow table for the roles
    and the state, and fitting the case (lead department, a pending extension, an unsatisfied
    call-back). A handler who is also a dispatcher sees both kinds."""
    names = {
        t.name
        for t in workflow.allowed(case.status, roles, suspended=case.suspended_at is not None)
        if _department_fits(case, user, t.name) and _state_fits(case, t.name)
    }
    if Role.DEPARTMENT_HANDLER not in roles:
        names -= _LEAD_ONLY | {"report_progress"}
    return [a for a in ACTIONS if names.intersection(a.transitions)]
