"""Password policy: complexity, no reuse of recent passwords, forced change after an admin reset.

The two validators go into ``AUTH_PASSWORD_VALIDATORS``. Django calls ``password_changed`` of every
configured validator after a new password has been saved (``User.save()`` after ``set_password``),
which is where the history is written — so every path that sets a password (web form, admin,
``createsuperuser``, ``changepassword``, ``create_user``) feeds the history, with no signals.
"""

from __future__ import annotations

import string
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from yiwang.core import audit
from yiwang.core.models_security import PasswordHistory

PASSWORD_RESET_BY_ADMIN = "password.admin_reset"  # noqa: S105 - audit action names
PASSWORD_CHANGED = "password.change"  # noqa: S105

_CLASSES: tuple[tuple[str, Any], ...] = (
    ("upper", str.isupper),
    ("lower", str.islower),
    ("digit", str.isdigit),
    ("symbol", lambda ch: ch in string.punctuation or not (ch.isalnum() or ch.isspace())),
)


def character_classes(password: str) -> set[str]:
    """Which of upper case, lower case, digit and symbol occur in ``password``.

    Letters without case (汉字) count as neither upper nor lower; other non-alphanumeric
    characters (full-width punctuation such as ``！``) count as symbols.
    """
    found: set[str] = set()
    for ch in password:
        for name, test in _CLASSES:
            if test(ch):
                found.add(name)
    return found


class ComplexityValidator:
    """At least ``min_classes`` of: upper-case letter, lower-case letter, digit, symbol."""

    def __init__(self, min_classes: int = 3) -> None:
        if not 1 <= min_classes <= len(_CLASSES):
            raise ValueError("min_classes must be between 1 and 4")
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                _(
                    "密码须至少包含大写字母、小写字母、数字、符号中的 %(n)d 类。"
                    " / The password must contain at least %(n)d of: upper-case letter, lower-case"
                    " letter, digit, symbol."
                ),
                code="password_too_simple",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _g("密码须至少包含大写字母、小写字母、数字、符号中的 %(n)d 类。") % {"n": self.min_classes}


class PasswordHistoryValidator:
    """Refuses the current password and the last ``keep`` passwords; records each new one."""

    def __init__(self, keep: int = 5) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.keep = keep

    def _recent_hashes(self, user: Any) -> list[str]:
        if user is None or getattr(user, "pk", None) is None:
            return []
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)[: self.keep]
        )
        # Accounts that predate the history still have their current password refused.
        current = getattr(user, "password", "") or ""
        if current and current not in hashes:
            hashes.append(current)
        return hashes

    def validate(self, password: str, user: Any = None) -> None:
        # hashers.check_password, not user.check_password: the latter would save a re-hashed value.
        if any(check_password(password, encoded) for encoded in self._recent_hashes(user)):
            raise ValidationError(
                _(
                    "不能使用最近 %(n)d 次用过的密码。 / The password must differ from the last %(n)d passwords."
                ),
                code="password_reused",
                params={"n": self.keep},
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        with transaction.atomic():
            PasswordHistory.objects.create(user_id=user.pk, password=make_password(password))
            stale = PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[self.keep :]
            PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self) -> str:
        return _g("不能使用最近 %(n)d 次用过的密码。") % {"n": self.keep}


# --- forced change ----------------------------------------------------------------------------------


def admin_reset_password(
    user: Any, new_password: str, *, actor: Any, request: HttpRequest | None = None
) -> None:
    """An administrator sets ``user``'s password: validated, saved, the user must change it at the
    next sign-in, and the reset is audited. Raises :class:`ValidationError` (nothing saved)."""
    from django.contrib.auth.password_validation import validate_password

    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        audit.record(
            PASSWORD_RESET_BY_ADMIN, actor=actor, object=user, ip=audit.client_ip(request), success=True
        )


def complete_password_change(user: Any, *, request: HttpRequest | None = None) -> None:
    """The user has changed their own password (already saved): lift the forced-change flag and
    audit the change."""
    with transaction.atomic():
        if getattr(user, "must_change_password", False):
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        audit.record(PASSWORD_CHANGED, actor=user, object=user, ip=audit.client_ip(request))
