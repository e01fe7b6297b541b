"""Open311 GeoReport v2, mounted at ``/open311/v2/``: ``{resource}.{json|xml}`` (see docs/api.md)."""

from django.urls import URLPattern, URLResolver, re_path

from yiwang.api.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)$"
# Path ids: anything but "/" reaches the view, which answers 400/404 for ids that are not URL-safe.
ID = r"(?P<{}>[^/]+)"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/" + ID.format("code") + FMT, views.service_definition, name="service"),
    # The ``open311`` 1.1 client asks for ``service/{code}`` (singular): accept it too.
    re_path(r"^service/" + ID.format("code") + FMT, views.service_definition, name="service-alias"),
    re_path(r"^requests" + FMT, views.requests_view, name="requests"),
    re_path(r"^requests/" + ID.format("request_id") + FMT, views.request_detail, name="request"),
    re_path(r"^tokens/" + ID.format("token") + FMT, views.token_view, name="token"),
    re_path(r"^servicerequestupdates" + FMT, views.request_updates, name="updates"),
    re_path(r"^(?P<path>.*)$", views.not_found, name="not-found"),
]
