"""Identity and web-security controls (等保 2.0 level 3, see docs/security.md).

- :mod:`.passwords`: complexity and history validators, forced change after an administrator reset.
- :mod:`.lockout`: django-axes hooks (client address, the bilingual lockout answer).
- :mod:`.drf`: the token endpoint and token authentication that honour lockout and forced change.
- :mod:`.headers`: the Content-Security-Policy and Permissions-Policy values (importable from settings).
- :mod:`.middleware`: forced password change, Permissions-Policy header.
- :mod:`.checks`: the project's additions to ``check --deploy``.

This package is imported from settings (``headers``) and must not import models at module level.
"""
