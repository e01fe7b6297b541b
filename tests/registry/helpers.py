"""Helpers for the registry tests: fictitious ID numbers with valid check digits, a PII grant."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Permission

from yiwang.people.models import User
from yiwang.registry.validation import id_check_character, uscc_check_character


def make_id(birth: dt.date = dt.date(1980, 1, 1), seq: int = 123, region: str = "370211") -> str:
    """An ID number with a valid check character (odd ``seq``: male, even: female)."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_character(first17)


def make_credit_code(body: str = "91370211MA3C00000") -> str:
    return body + uscc_check_character(body)


def with_full_pii(user: User) -> User:
    user.user_permissions.add(
        Permission.objects.get(codename="view_full_pii", content_type__app_label="core")
    )
    return User.objects.get(pk=user.pk)  # a fresh object: permission and scope caches are per object
