"""Identity and web-security controls (等保 2.0 level 3, see docs/security.md).

- :mod:`.passwords`: complexity and history validators, forced change after an administrator reset.
- :mod:`.lockout`: django-axes hooks (client address, the bilingual lockout answer).
- :mod:`.drf`: the token endpoint and token authentication that honour lockout and forced change.
- :mod:`.headers`: the Content-Security-Policy and Permissions-Policy values (importable from settings).
- :mod:`.middleware`: forced password change, Permissions-Policy header.
- :mod:`.checks`: the project's additions to ``check --deploy``.
- :mod:`.otp`, :mod:`.otp_views`, :mod:`.urls`: the TOTP second factor (django-otp) and its pages.
- :mod:`.separation`, :mod:`.admin_actions`: 三员分立 (who reads the audit log, who grants which
  role, the security administrator's account actions) and the audit of permission changes.
- :mod:`.audit_export`, :mod:`.audit_retention`: audit export formats, retention purge with checkpoint.
- :mod:`.limits`, :mod:`.faults`: sign-in rate and body size limits; 503/507 for a busy database or
  a full disk.

This package is imported from settings (``headers``) and must not import models at module level.
"""
