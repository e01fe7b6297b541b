"""Routes of the grid base database and party building in the staff API (included by ``urls.py``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from yiwang.api.v1 import registry_views as views

router = SimpleRouter()
router.register("registry/residents", views.ResidentViewSet, basename="resident")
router.register("registry/buildings", views.BuildingViewSet, basename="building")
router.register("registry/houses", views.HouseViewSet, basename="house")
router.register("registry/organisations", views.OrganisationViewSet, basename="organisation")
router.register("registry/key-sites", views.KeySiteViewSet, basename="key-site")
router.register("party/organizations", views.PartyOrganizationViewSet, basename="party-organization")
router.register("party/members", views.PartyMemberViewSet, basename="party-member")
router.register("party/assignments", views.AssignmentViewSet, basename="party-assignment")
router.register("party/volunteers", views.VolunteerViewSet, basename="volunteer")
router.register("party/activities", views.ActivityViewSet, basename="activity")

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "registry/grid-counts/<str:grid_code>/",
        views.GridCountsView.as_view(),
        name="registry-grid-counts",
    ),
    *router.urls,
]
