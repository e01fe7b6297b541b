"""The security administrator's admin actions on user accounts (三员分立): unlock after failed
sign-ins, reset the password (forced change at the next sign-in), reset the second factor.

Each action refuses anyone but a security administrator (or superuser) and is audited. They are
plain functions taking ``(modeladmin, request, queryset)``; the user admin lists them.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from yiwang.core import audit
from yiwang.core.security import otp
from yiwang.core.security.passwords import admin_reset_password
from yiwang.core.security.separation import can_manage_accounts

ACCOUNT_UNLOCKED = "account.unlock"
_ALPHABET = string.ascii_letters + string.digits + "!#%+-=?@"


def _require_security_admin(request: HttpRequest) -> None:
    if not can_manage_accounts(request.user):
        raise PermissionDenied("仅安全管理员可执行此操作 / only a security administrator may do this")


def temporary_password(length: int = 16) -> str:
    """A random password that passes the complexity rule (all four character classes)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (
            any(c.isupper() for c in candidate)
            and any(c.islower() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(not c.isalnum() for c in candidate)
        ):
            return candidate


def unlock(user: Any, *, actor: Any, request: HttpRequest | None = None) -> int:
    """Clear django-axes' failure records of ``user`` (every address); audited. Returns the number
    of records cleared."""
    from axes.utils import reset

    count = int(reset(username=user.get_username()) or 0)
    audit.record(
        ACCOUNT_UNLOCKED, actor=actor, object=user, ip=audit.client_ip(request), data={"attempts": count}
    )
    return count


@admin.action(description=_("解除登录锁定"))
def unlock_accounts(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    _require_security_admin(request)
    for user in queryset:
        unlock(user, actor=request.user, request=request)
    messages.success(request, _g("已解除 %(n)d 个账户的登录锁定。") % {"n": queryset.count()})


@admin.action(description=_("重置密码（下次登录须修改）"))
def reset_passwords(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    """Give each selected user a random temporary password, shown once to the security
    administrator to hand over; the user must change it at the next sign-in."""
    _require_security_admin(request)
    for user in queryset:
        password = temporary_password()
        try:
            admin_reset_password(user, password, actor=request.user, request=request)
        except ValidationError as exc:
            messages.error(request, f"{user.get_username()}: {' '.join(exc.messages)}")
            continue
        messages.warning(
            request,
            _g("%(user)s 的临时密码：%(password)s（仅显示一次，下次登录须修改）")
            % {"user": user.get_username(), "password": password},
        )


@admin.action(description=_("重置动态口令（须重新绑定）"))
def reset_second_factor(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    _require_security_admin(request)
    removed = sum(otp.reset_devices(user, actor=request.user, request=request) for user in queryset)
    messages.success(request, _g("已移除 %(n)d 个动态口令设备。") % {"n": removed})


SECURITY_ACTIONS = (unlock_accounts, reset_passwords, reset_second_factor)
