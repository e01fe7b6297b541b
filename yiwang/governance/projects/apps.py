from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "yiwang.governance.projects"
    label = "projects"
    verbose_name = _("攻坚项目")
