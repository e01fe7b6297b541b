from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "yiwang.governance.deliberation"
    label = "deliberation"
    verbose_name = _("村民议事")
