"""The project settings plus django-otp's apps, as the settings patch in docs/security.md adds them.

Run the second-factor tests before the patch is applied with
``pytest --ds=tests.security.otp_settings tests/security``; once applied, the default settings do.
"""

from yiwang.config.settings import *  # noqa: F403
from yiwang.config.settings import INSTALLED_APPS

if "django_otp" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "django_otp", "django_otp.plugins.otp_totp"]
