"""Token authentication that refuses (403) a user who must first change the password.

Kept apart from :mod:`.drf`: DRF imports ``DEFAULT_AUTHENTICATION_CLASSES`` while
``rest_framework.views`` is still loading, so this module must not import any DRF view.
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions

from yiwang.core.security.middleware import PASSWORD_CHANGE_REQUIRED_CODE, PASSWORD_CHANGE_REQUIRED_MESSAGE


class PasswordChangeRequired(exceptions.PermissionDenied):
    default_detail = PASSWORD_CHANGE_REQUIRED_MESSAGE
    default_code = PASSWORD_CHANGE_REQUIRED_CODE


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if getattr(user, "must_change_password", False):
            raise PasswordChangeRequired
        return user, token
