"""A small URLconf for the second-factor tests: sign-in/out, a home page, one API path, the token
endpoint and the security pages — independent of the web app's pages (which other work changes)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, include, path

from yiwang.core.security.drf import obtain_auth_token


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("home")


def api_ping(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


web_patterns: list[URLPattern | URLResolver] = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", home, name="password_change"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/ping/", api_ping),
    path("api/security-test/token/", obtain_auth_token, name="security_test_token"),
    path("security/", include("yiwang.core.security.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include((web_patterns, "web"))),
]
