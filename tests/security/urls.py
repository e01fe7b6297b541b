"""Test URLconf: the project's URLs plus the security routes the lead wires into web/api (the
patches in the report), under names of their own so these tests pass before and after."""

from django.urls import URLPattern, URLResolver, include, path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from yiwang.config.urls import urlpatterns as project_urlpatterns
from yiwang.core.security.drf import obtain_auth_token
from yiwang.core.security.headers import DOCS_CSP
from yiwang.core.security.views import PasswordChangeView

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "security-test/password/",
        PasswordChangeView.as_view(template_name="registration/password_change_form.html"),
        name="security_test_password_change",
    ),
    path("api/security-test/token/", obtain_auth_token, name="security_test_token"),
    path(
        "api/security-test/docs/",
        csp_override(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="v1:schema")),
        name="security_test_swagger",
    ),
    path(
        "api/security-test/redoc/",
        csp_override(DOCS_CSP)(SpectacularRedocView.as_view(url_name="v1:schema")),
        name="security_test_redoc",
    ),
    path("security/", include("yiwang.core.security.urls")),
    *project_urlpatterns,
]
