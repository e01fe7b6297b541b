from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterpriseConfig(AppConfig):
    name = "yiwang.governance.enterprise"
    label = "enterprise"
    verbose_name = _("政企直通车")
