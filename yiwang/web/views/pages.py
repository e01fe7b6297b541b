from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from yiwang.grids.models import Division, Grid
from yiwang.web.access import pages_for


def home(request: HttpRequest) -> HttpResponse:
    """The start page: what this installation holds, and the pages of the user's roles."""
    user = request.user
    context = {
        "divisions": Division.objects.visible_to(user).count() if user.is_authenticated else None,
        "grids": Grid.objects.visible_to(user).count() if user.is_authenticated else None,
        "pages": pages_for(user),
    }
    return render(request, "web/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the reverse proxy: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
    next_page = "web:home"


class LogoutView(auth_views.LogoutView):
    next_page = "web:login"
