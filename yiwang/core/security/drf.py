"""REST framework pieces that honour the lockout and the forced password change.

- :class:`ObtainAuthToken`: the token endpoint; a locked-out account gets 403 with the bilingual
  lockout message instead of DRF's generic "unable to log in".

Token authentication lives in :mod:`.drf_auth` (DRF imports authentication classes while its views
module is still loading, so that module must not import any view).
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authtoken.views import ObtainAuthToken as _ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from yiwang.core.security.lockout import LOCKED_OUT_CODE, lockout_message_en, lockout_message_zh


class AccountLocked(exceptions.PermissionDenied):
    default_code = LOCKED_OUT_CODE

    def __init__(self) -> None:
        super().__init__(detail=lockout_message_zh(), code=LOCKED_OUT_CODE)
        # The API's exception handler reports default_detail as the English text.
        self.default_detail = lockout_message_en()


class ObtainAuthToken(_ObtainAuthToken):
    """Exchange a username and password for an API token. After repeated failures the account is
    locked for this address (403 ``account_locked``), as on the login page."""

    # DRF's serializer calls ``authenticate(request=<DRF Request>, …)``, so django-axes counts the
    # failures; but axes flags the lockout on the DRF ``Request`` wrapper, which its middleware
    # (looking at the Django request) never sees. This view reads the flag and answers 403 itself.

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            if getattr(request, "axes_locked_out", False) or getattr(
                request._request, "axes_locked_out", False
            ):
                raise AccountLocked from None
            raise


obtain_auth_token = ObtainAuthToken.as_view()
