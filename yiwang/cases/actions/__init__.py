"""Every change of a case, one function per workflow transition (issue 3).

Each action, in one transaction:

1. locks the case row (``select_for_update`` through the actor's scoped queryset: a case outside the
   actor's scope is :class:`CaseNotFound`, the same as a missing one);
2. compares ``expected_status`` / ``expected_version`` from the caller's form, if given
   (:class:`CaseConflict` when someone acted first);
3. checks the transition table for the state and the actor's roles (``workflow.check``) and, for
   department actions, that the actor's department subtree holds the lead (or an assignment);
4. validates its input, mutates the case, writes exactly one :class:`CaseEvent`;
5. schedules side effects (notifications) with ``transaction.on_commit``.

Every action takes ``at`` (default: now) so that history can be backfilled with real moments
(the demo year). Any error is a :class:`CaseError` subclass with a Chinese and an English message,
raised before anything is written or rolling back what was.
"""

from __future__ import annotations

from yiwang.cases.actions._base import (
    PUBLIC_CHANNELS,
    TITLE_MAX,
    CaseRef,
    DepartmentRef,
    without_notifications,
)
from yiwang.cases.actions.closing import (
    record_callback,
    reopen_case,
    verify_case,
)
from yiwang.cases.actions.handling import (
    approve_extension,
    dispatch_case,
    merge_cases,
    reject_extension,
    report_progress,
    request_extension,
    resolve_case,
    resume_case,
    return_case,
    sign_case,
    supervise_case,
    suspend_case,
    urge_case,
)
from yiwang.cases.actions.intake import (
    Receipt,
    answer_directly,
    create_case,
    invalidate,
    receive_from_110,
    transfer_to_110,
)

__all__ = [
    "PUBLIC_CHANNELS",
    "TITLE_MAX",
    "CaseRef",
    "DepartmentRef",
    "Receipt",
    "answer_directly",
    "approve_extension",
    "create_case",
    "dispatch_case",
    "invalidate",
    "merge_cases",
    "receive_from_110",
    "record_callback",
    "reject_extension",
    "reopen_case",
    "report_progress",
    "request_extension",
    "resolve_case",
    "resume_case",
    "return_case",
    "sign_case",
    "supervise_case",
    "suspend_case",
    "transfer_to_110",
    "urge_case",
    "verify_case",
    "without_notifications",
]
