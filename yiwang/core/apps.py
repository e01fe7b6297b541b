from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yiwang.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from yiwang.core import admin_audit, audit

        # Recording an audit trail of sign-ins is security bookkeeping, not domain logic, and the
        # signals are the only hook Django's auth offers for it (the no-domain-signals rule holds).
        user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="yiwang.core.audit.login")
        user_login_failed.connect(audit.on_user_login_failed, dispatch_uid="yiwang.core.audit.login_failed")
        # The read-only audit admin lives beside the calendar admin without editing its module.
        admin_audit.register()
        from yiwang.core.security import checks  # noqa: F401  (registers the `check --deploy` additions)
