"""Security pages, included at ``/security/`` (namespace ``security``)."""

from django.urls import URLPattern, path

from yiwang.core.security import otp_views

app_name = "security"

urlpatterns: list[URLPattern] = [
    path("otp/enrol/", otp_views.enrol, name="otp_enrol"),
    path("otp/verify/", otp_views.verify, name="otp_verify"),
]
