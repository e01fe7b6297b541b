"""REST framework pieces that honour the lockout and the forced password change.

- :class:`ObtainAuthToken`: the token endpoint; a locked-out account gets 403 with the bilingual
  lockout message instead of DRF's generic "unable to log in".

Token authentication lives in :mod:`.drf_auth` (DRF imports authentication classes while its views
module is still loading, so that module must not import any view).
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken as _ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from yiwang.core.security import otp
from yiwang.core.security.lockout import LOCKED_OUT_CODE, lockout_message_en, lockout_message_zh


class AccountLocked(exceptions.PermissionDenied):
    default_code = LOCKED_OUT_CODE

    def __init__(self) -> None:
        super().__init__(detail=lockout_message_zh(), code=LOCKED_OUT_CODE)
        # The API's exception handler reports default_detail as the English text.
        self.default_detail = lockout_message_en()


class SecondFactorError(exceptions.PermissionDenied):
    def __init__(self, code: str, message: str) -> None:
        zh, _sep, en = message.partition(" / ")
        super().__init__(detail=zh, code=code)
        self.default_detail = en or zh


class ObtainAuthToken(_ObtainAuthToken):
    """Exchange a username and password for an API token. After repeated failures the account is
    locked for this address (403 ``account_locked``), as on the login page."""

    # DRF's serializer calls ``authenticate(request=<DRF Request>, …)``, so django-axes counts the
    # failures; but axes flags the lockout on the DRF ``Request`` wrapper, which its middleware
    # (looking at the Django request) never sees. This view reads the flag and answers 403 itself.

    # A user who must pass the second factor (:func:`yiwang.core.security.otp.otp_required_for`)
    # adds ``otp`` (the current code) to the form: missing → 403 ``otp_required``, wrong → 403
    # ``otp_invalid``, no authenticator enrolled yet → 403 ``otp_enrolment_required`` (enrol on the
    # web site). No token is created or returned before the code is checked.

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except exceptions.ValidationError:
            if getattr(request, "axes_locked_out", False) or getattr(
                request._request, "axes_locked_out", False
            ):
                raise AccountLocked from None
            raise
        user = serializer.validated_data["user"]
        self._check_second_factor(request, user)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    def _check_second_factor(self, request: Request, user: Any) -> None:
        if not otp.otp_required_for(user):
            return
        if otp.confirmed_device(user) is None:
            raise SecondFactorError(otp.OTP_ENROLMENT_REQUIRED_CODE, otp.OTP_ENROLMENT_MESSAGE)
        code = request.data.get("otp") if hasattr(request.data, "get") else None
        if not code:
            raise SecondFactorError(otp.OTP_REQUIRED_CODE, otp.OTP_REQUIRED_MESSAGE)
        if otp.check_token(user, code, request=request._request) is None:
            raise SecondFactorError(otp.OTP_INVALID_CODE, otp.OTP_INVALID_MESSAGE)


obtain_auth_token = ObtainAuthToken.as_view()
