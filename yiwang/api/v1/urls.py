from django.urls import URLPattern, URLResolver, include, path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from yiwang.api.v1 import dispatch_views, reports_views, views
from yiwang.core.security.drf import obtain_auth_token
from yiwang.core.security.headers import DOCS_CSP

app_name = "v1"

router = DefaultRouter()
router.register("divisions", views.DivisionViewSet, basename="division")
router.register("grids", views.GridViewSet, basename="grid")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("users", views.UserViewSet, basename="user")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("cases", views.CaseViewSet, basename="case")
router.register("attachments", views.AttachmentViewSet, basename="attachment")
router.register("reports", reports_views.ReportViewSet, basename="report")

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", obtain_auth_token, name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs pages need inline styles and blob: workers; their relaxed CSP applies to them only.
    path(
        "docs/",
        csp_override(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="v1:schema")),
        name="swagger",
    ),
    path("redoc/", csp_override(DOCS_CSP)(SpectacularRedocView.as_view(url_name="v1:schema")), name="redoc"),
    path("dispatch/suggest/", dispatch_views.SuggestView.as_view(), name="dispatch-suggest"),
    path("dispatch/hotspots/", dispatch_views.hotspots_view, name="dispatch-hotspots"),
    path("cases/<int:pk>/auto-dispatch/", dispatch_views.auto_dispatch_view, name="case-auto-dispatch"),
    path("", include("yiwang.api.v1.registry_urls")),
    # Co-governance (issue 9): /api/v1/deliberation/…, /api/v1/mediation/… and so on.
    path("deliberation/", include("yiwang.api.v1.gov.deliberation")),
    path("mediation/", include("yiwang.api.v1.gov.mediation")),
    path("projects/", include("yiwang.api.v1.gov.projects")),
    path("enterprise/", include("yiwang.api.v1.gov.enterprise")),
    path("campaigns/", include("yiwang.api.v1.gov.campaigns")),
    *router.urls,
]
